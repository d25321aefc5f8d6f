{{
    config(
        materialized='incremental',
        unique_key='volunteer_user_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['volunteer_period_id'], 'unique': True},
            {'columns': ['volunteer_user_id']},
            {'columns': ['inputs_loaded_through']},
            {'columns': ['dbt_updated_at']},
        ],
    )
}}
{%- set vis = vis_parameters() %}

-- The Volunteer Impact Score (VIS, 0–100) of each volunteer in each UTC calendar month they were active
-- (a completed session, a Buddy event or a check-in): a weighted sum of an hours, a consistency and an
-- outcome component, each 0–100. Formulas and parameters: docs/metrics.md, macros/metrics.sql.
-- Incremental: a build recomputes every month of the volunteers whose records moved (users.last_loaded_at)
-- or whose sessions or matches got a rating or feedback loaded since (the consistency window spans months);
-- the reads are bounded to those volunteers at the table scans (macros/metrics.sql).
{% set recomputed = 'select user_id from recomputed' if is_incremental() else none %}

with
{% if is_incremental() %}
recomputed as (

    select user_id from {{ ref('users') }}
    where is_volunteer
      and {{ loaded_after_watermark(column='last_loaded_at', watermark='inputs_loaded_through') }}
    union
    select sessions.volunteer_user_id
    from {{ ref('kintell_ratings') }} as ratings
    inner join {{ ref('kintell_sessions') }} as sessions on sessions.session_id = ratings.session_id
    where {{ loaded_after_watermark(column='ratings.loaded_at', watermark='inputs_loaded_through') }}
    union
    select matches.buddy_user_id
    from {{ ref('buddy_feedback') }} as feedback
    inner join {{ ref('buddy_matches') }} as matches on matches.match_id = feedback.match_id
    where {{ loaded_after_watermark(column='feedback.loaded_at', watermark='inputs_loaded_through') }}

),
{% endif %}

activities as (

    select
        activities.*,
        users.company_id,
        {{ utc_month('activities.activity_at') }} as period_start
    from (
        {{ volunteer_activity_rows(volunteers=recomputed) | indent(8) }}
    ) as activities
    left join {{ ref('users') }} as users on users.user_id = activities.volunteer_user_id
    where activities.activity in ('kintell_session', 'buddy_event', 'buddy_checkin')

),

active_months as (

    select
        volunteer_user_id,
        company_id,
        period_start,
        sum(volunteer_hours) as volunteer_hours,
        count(*) filter (where activity = 'kintell_session') as sessions_completed,
        count(*) filter (where activity = 'buddy_event') as buddy_events,
        count(*) filter (where activity = 'buddy_checkin') as buddy_checkins
    from activities
    group by volunteer_user_id, company_id, period_start

),

-- Participants' ratings of the volunteer's sessions completed in the month: the Kintell ratings export's
-- participant ratings of the session, or the session's own rating when that export has none for it.
-- Ratings are 0–1 floats of at most 4 decimals; as numeric they sum exactly.
sessions as (

    select session_id, volunteer_user_id, completed_at, rating
    from {{ ref('kintell_sessions') }}
    where completed_at is not null
        {{- metrics_only('participant_user_id', none, 'volunteer_user_id', recomputed) }}

),

participant_session_ratings as (

    select session_id, rating
    from {{ ref('kintell_ratings') }}
    where from_role = 'participant'

),

session_ratings as (

    select
        sessions.volunteer_user_id,
        {{ utc_month('sessions.completed_at') }} as period_start,
        coalesce(participant_session_ratings.rating, sessions.rating)::numeric as rating
    from sessions
    left join participant_session_ratings on participant_session_ratings.session_id = sessions.session_id

),

-- Participants' Buddy feedback on the volunteer's matches, in the month it was submitted.
feedback_ratings as (

    select
        matches.buddy_user_id as volunteer_user_id,
        {{ utc_month('feedback.submitted_at') }} as period_start,
        feedback.rating::numeric as rating
    from {{ ref('buddy_feedback') }} as feedback
    inner join {{ ref('buddy_matches') }} as matches on matches.match_id = feedback.match_id
    where feedback.from_role = 'participant' and feedback.submitted_at is not null
        {{- metrics_only('matches.participant_user_id', none, 'matches.buddy_user_id', recomputed) }}

),

ratings as (

    select
        volunteer_user_id,
        period_start,
        count(*) as participant_ratings,
        sum(rating) as rating_sum
    from (
        select * from session_ratings
        union all
        select * from feedback_ratings
    ) as given
    where rating is not null
    group by volunteer_user_id, period_start

),

windowed as (

    select
        active_months.*,
        count(*) over (
            partition by active_months.volunteer_user_id
            order by active_months.period_start
            range between interval '{{ vis["consistency_window_months"] - 1 }} months' preceding and current row
        ) as active_months_in_window,
        coalesce(ratings.participant_ratings, 0) as participant_ratings,
        ratings.rating_sum
    from active_months
    left join ratings
        on ratings.volunteer_user_id = active_months.volunteer_user_id
        and ratings.period_start = active_months.period_start

),

-- Each term is weight × component with its division last, so a figure that is exact by hand is exact
-- here too (0.3 × 100 × 1 / 3 = 10, not 9.999…) and rounds as it does by hand.
components as (

    select
        *,
        least(100, 100 * volunteer_hours / {{ vis['hours_for_full_marks'] }}) as hours_component,
        100.0 * active_months_in_window / {{ vis['consistency_window_months'] }} as consistency_component,
        case when participant_ratings > 0 then 100.0 * rating_sum / participant_ratings else 0 end
            as outcome_component,
        {{ vis['weights']['hours'] }} * least(100, 100 * volunteer_hours / {{ vis['hours_for_full_marks'] }})
        + {{ vis['weights']['consistency'] }} * 100 * active_months_in_window / {{ vis['consistency_window_months'] }}
        + case
            when participant_ratings > 0 then {{ vis['weights']['outcome'] }} * 100 * rating_sum / participant_ratings
            else 0
        end as weighted_sum
    from windowed

),

final as (

    select
        md5(volunteer_user_id || '|' || period_start) as volunteer_period_id,
        volunteer_user_id,
        company_id,
        period_start,
        {{ month_last_day('period_start') }} as period_end,
        volunteer_hours,
        sessions_completed,
        buddy_events,
        buddy_checkins,
        active_months_in_window,
        participant_ratings,
        round(rating_sum / nullif(participant_ratings, 0), 4) as mean_participant_rating,
        round(hours_component, 2) as hours_component,
        round(consistency_component, 2) as consistency_component,
        round(outcome_component, 2) as outcome_component,
        round(weighted_sum, 1) as vis_score,
        (
            select greatest(
                (select max(last_loaded_at) from {{ ref('users') }}),
                (select max(loaded_at) from {{ ref('kintell_ratings') }}),
                (select max(loaded_at) from {{ ref('buddy_feedback') }})
            )
        ) as inputs_loaded_through,
        now() as dbt_updated_at
    from components

)

select * from final
