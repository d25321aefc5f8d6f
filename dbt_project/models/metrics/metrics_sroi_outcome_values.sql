-- The SROI value of one participant's measured improvement, per scenario and outcome dimension, from the
-- assumptions of seeds/sroi_outcome_assumptions.csv and seeds/sroi_scenarios.csv (docs/metrics.md):
--   financial proxy × (1 − deadweight) × (1 − attribution) × (1 − displacement)
--     × Σ_{t=1..duration} (1 − drop-off)^(t−1) / (1 + discount rate)^t
-- rounded to cents. The impact report shows these beside the ratios.
with assumptions as (

    select * from {{ ref('sroi_outcome_assumptions') }}

),

scenarios as (

    select * from {{ ref('sroi_scenarios') }}

),

discounting as (

    select
        assumptions.scenario,
        assumptions.dimension,
        sum(
            power(1 - assumptions.drop_off, years.year - 1) / power(1 + scenarios.discount_rate, years.year)
        ) as discount_factor_sum
    from assumptions
    inner join scenarios on scenarios.scenario = assumptions.scenario
    cross join lateral generate_series(1, assumptions.duration_years) as years (year)
    group by assumptions.scenario, assumptions.dimension

),

final as (

    select
        assumptions.scenario,
        assumptions.dimension,
        assumptions.financial_proxy_usd,
        assumptions.deadweight,
        assumptions.attribution,
        assumptions.displacement,
        assumptions.duration_years,
        assumptions.drop_off,
        scenarios.discount_rate,
        round(coalesce(discounting.discount_factor_sum, 0), 6) as discount_factor_sum,
        round(
            assumptions.financial_proxy_usd
            * (1 - assumptions.deadweight)
            * (1 - assumptions.attribution)
            * (1 - assumptions.displacement)
            * coalesce(discounting.discount_factor_sum, 0),
            2
        ) as value_per_participant_usd,
        methodology.methodology_version
    from assumptions
    inner join scenarios on scenarios.scenario = assumptions.scenario
    left join discounting
        on discounting.scenario = assumptions.scenario
        and discounting.dimension = assumptions.dimension
    cross join {{ ref('sroi_methodology') }} as methodology

)

select * from final
