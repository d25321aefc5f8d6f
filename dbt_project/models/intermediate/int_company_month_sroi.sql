-- Each company month's counts (int_company_month_counts) with its SROI: the value of its inputs
-- (volunteer hours at the year's hour value, plus programme cost), the present value of its outcomes in
-- the central, low and high scenarios, and the ratios (docs/metrics.md, reading 5). Money is numeric,
-- rounded to cents; a ratio is null when the inputs are worth nothing.
with company_months as (

    select * from {{ ref('int_company_month_counts') }}

),

hour_values as (

    select data_year, value_usd from {{ ref('sroi_volunteer_hour_values') }}

),

programme_costs as (

    select company_id, period_start, sum(cost_usd) as cost_usd
    from {{ ref('sroi_programme_costs') }}
    group by company_id, period_start

),

outcome_values as (

    select scenario, dimension, value_per_participant_usd
    from {{ ref('metrics_sroi_outcome_values') }}

),

-- A month is valued at its own year's hour value, or the latest seeded year's before it (the earliest
-- seeded year's for a month before every seeded year).
inputs as (

    select
        company_months.company_id,
        company_months.period_start,
        hour_value_years.hour_value_year,
        hour_values.value_usd as hour_value_usd,
        round(coalesce(programme_costs.cost_usd, 0), 2) as programme_cost_usd,
        round(company_months.volunteer_hours * hour_values.value_usd + coalesce(programme_costs.cost_usd, 0), 2)
            as inputs_value_usd
    from company_months
    cross join lateral (
        select coalesce(
            max(data_year) filter (where data_year <= extract(year from company_months.period_start)),
            min(data_year)
        ) as hour_value_year
        from hour_values
    ) as hour_value_years
    left join hour_values on hour_values.data_year = hour_value_years.hour_value_year
    left join programme_costs
        on programme_costs.company_id = company_months.company_id
        and programme_costs.period_start = company_months.period_start

),

improved as (

    select company_months.company_id, company_months.period_start, improved.dimension, improved.participants
    from company_months
    cross join lateral (
        values
            ('confidence', company_months.improved_confidence),
            ('belonging', company_months.improved_belonging),
            ('lang_level_proxy', company_months.improved_lang_level_proxy),
            ('job_readiness', company_months.improved_job_readiness),
            ('well_being', company_months.improved_well_being)
    ) as improved (dimension, participants)

),

present_values as (

    select
        improved.company_id,
        improved.period_start,
        sum(improved.participants * outcome_values.value_per_participant_usd)
            filter (where outcome_values.scenario = 'central') as outcomes_value_usd,
        sum(improved.participants * outcome_values.value_per_participant_usd)
            filter (where outcome_values.scenario = 'low') as outcomes_value_low_usd,
        sum(improved.participants * outcome_values.value_per_participant_usd)
            filter (where outcome_values.scenario = 'high') as outcomes_value_high_usd
    from improved
    inner join outcome_values on outcome_values.dimension = improved.dimension
    group by improved.company_id, improved.period_start

),

final as (

    select
        company_months.*,
        inputs.hour_value_year,
        inputs.hour_value_usd,
        inputs.programme_cost_usd,
        inputs.inputs_value_usd,
        coalesce(present_values.outcomes_value_usd, 0) as outcomes_value_usd,
        coalesce(present_values.outcomes_value_low_usd, 0) as outcomes_value_low_usd,
        coalesce(present_values.outcomes_value_high_usd, 0) as outcomes_value_high_usd,
        round(coalesce(present_values.outcomes_value_usd, 0) / nullif(inputs.inputs_value_usd, 0), 2) as sroi_ratio,
        round(coalesce(present_values.outcomes_value_low_usd, 0) / nullif(inputs.inputs_value_usd, 0), 2) as sroi_low,
        round(coalesce(present_values.outcomes_value_high_usd, 0) / nullif(inputs.inputs_value_usd, 0), 2)
            as sroi_high
    from company_months
    inner join inputs
        on inputs.company_id = company_months.company_id
        and inputs.period_start = company_months.period_start
    left join present_values
        on present_values.company_id = company_months.company_id
        and present_values.period_start = company_months.period_start

)

select * from final
