-- Per company and UTC calendar month with any activity of the company: what happened (sessions, hours,
-- Buddy matches, events and check-ins, courses, credentials), how many participants it reached, and how
-- many of them reached an outcome milestone on an activity of the company that month, per outcome
-- dimension (docs/metrics.md, readings 1 to 3 and 5). The sum of int_company_participant_months.
with participant_months as (

    select * from {{ ref('int_company_participant_months') }}

),

final as (

    select
        company_id,
        period_start,

        -- reach and activity
        count(*) as participants_reached,
        sum(sessions_completed)::bigint as sessions_completed,
        round(sum(volunteer_hours), 4) as volunteer_hours,
        sum(buddy_matches)::bigint as buddy_matches,
        sum(buddy_events)::bigint as buddy_events,
        sum(buddy_checkins)::bigint as buddy_checkins,
        sum(courses_completed)::bigint as courses_completed,
        sum(credentials_issued)::bigint as credentials_issued,

        -- participants with a measured improvement, per outcome dimension
        count(*) filter (where improved_confidence) as improved_confidence,
        count(*) filter (where improved_belonging) as improved_belonging,
        count(*) filter (where improved_lang_level_proxy) as improved_lang_level_proxy,
        count(*) filter (where improved_job_readiness) as improved_job_readiness,
        count(*) filter (where improved_well_being) as improved_well_being

    from participant_months
    group by company_id, period_start

)

select * from final
