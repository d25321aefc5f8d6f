{{ config(indexes=[{'columns': ['company_id', 'period_start'], 'unique': True}]) }}

-- The company metrics: one row per company and UTC calendar month with any activity of the
-- company — reach, activity, volunteer hours, outcome score averages, SROI with its low/high range, the
-- Volunteer Impact Score and its band, and the methodology version. Method: docs/metrics.md.
with company_months as (

    select * from {{ ref('int_company_month_sroi') }}

),

vis as (

    select * from {{ ref('int_company_month_vis') }}

),

outcome_scores as (

    select * from {{ ref('int_company_month_outcome_scores') }}

),

methodology as (

    select methodology_version from {{ ref('sroi_methodology') }}

),

final as (

    select
        md5(company_months.company_id || '|' || company_months.period_start) as company_period_id,
        company_months.company_id,
        company_months.period_start,
        {{ month_last_day('company_months.period_start') }} as period_end,

        -- reach and activity
        company_months.participants_reached,
        coalesce(vis.active_volunteers, 0) as active_volunteers,
        company_months.sessions_completed,
        company_months.volunteer_hours,
        company_months.buddy_matches,
        company_months.buddy_events,
        company_months.buddy_checkins,
        company_months.courses_completed,
        company_months.credentials_issued,

        -- outcomes: Q2Q score averages, and participants with a measured improvement (milestones)
        outcome_scores.avg_confidence,
        outcome_scores.avg_belonging,
        outcome_scores.avg_lang_level_proxy,
        outcome_scores.avg_job_readiness,
        outcome_scores.avg_well_being,
        company_months.improved_confidence,
        company_months.improved_belonging,
        company_months.improved_lang_level_proxy,
        company_months.improved_job_readiness,
        company_months.improved_well_being,

        -- SROI
        company_months.hour_value_year,
        company_months.hour_value_usd,
        company_months.programme_cost_usd,
        company_months.inputs_value_usd,
        company_months.outcomes_value_usd,
        company_months.outcomes_value_low_usd,
        company_months.outcomes_value_high_usd,
        company_months.sroi_ratio,
        company_months.sroi_low,
        company_months.sroi_high,

        -- Volunteer Impact Score
        vis.vis_score,
        vis.vis_band,

        methodology.methodology_version

    from company_months
    left join vis
        on vis.company_id = company_months.company_id
        and vis.period_start = company_months.period_start
    left join outcome_scores
        on outcome_scores.company_id = company_months.company_id
        and outcome_scores.period_start = company_months.period_start
    cross join methodology

)

select * from final
