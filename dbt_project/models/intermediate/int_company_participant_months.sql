{{
    config(
        materialized='incremental',
        unique_key='participant_user_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['participant_user_id']},
            {'columns': ['inputs_loaded_through']},
            {'columns': ['dbt_updated_at']},
        ],
    )
}}

-- depends_on: {{ ref('stg_roster__volunteers') }}
-- What counted for a company from one participant in one UTC calendar month (docs/metrics.md, readings 1
-- to 3 and 5): their activity with the company's volunteers, their courses and credentials while linked
-- to the company, and whether they reached an outcome milestone on those records. The company metrics add
-- these rows up, so each participant counts once per company and month.
-- Incremental: a build recomputes every row of the participants whose records moved (users.last_loaded_at)
-- and of the participants of volunteers whose roster row moved (their activity changes company); the
-- reads are bounded to those participants at the table scans (macros/metrics.sql).
{% set recomputed = 'select user_id from recomputed' if is_incremental() else none %}

with
{% if is_incremental() %}
rostered as (

    select user_id from {{ ref('stg_roster__volunteers') }}
    where {{ loaded_after_watermark(column='loaded_at', watermark='inputs_loaded_through') }}

),

recomputed as (

    select user_id from {{ ref('users') }}
    where is_participant
      and {{ loaded_after_watermark(column='last_loaded_at', watermark='inputs_loaded_through') }}
    union
    select participant_user_id from {{ ref('kintell_sessions') }}
    where volunteer_user_id = any(array(select user_id from rostered)) and completed_at is not null
    union
    select participant_user_id from {{ ref('buddy_matches') }}
    where buddy_user_id = any(array(select user_id from rostered))

),
{% endif %}

activities as (

    {{ company_activity_rows(participants=recomputed) | indent(4) }}

),

-- Outcome milestones by the record that reached them (a session, check-in, course or credential); one
-- record can reach several (a third check-in that also lifts the mood).
improvements as (

    select
        user_id,
        record_id,
        bool_or(outcome_dimension = 'confidence') as improves_confidence,
        bool_or(outcome_dimension = 'belonging') as improves_belonging,
        bool_or(outcome_dimension = 'lang_level_proxy') as improves_lang_level_proxy,
        bool_or(outcome_dimension = 'job_readiness') as improves_job_readiness,
        bool_or(outcome_dimension = 'well_being') as improves_well_being
    from {{ ref('journey_milestones') }}
    where outcome_dimension is not null
        {{- metrics_only('user_id', recomputed) }}
    group by user_id, record_id

),

final as (

    select
        activities.company_id,
        activities.participant_user_id,
        activities.period_start,

        -- activity
        count(*) filter (where activities.activity = 'kintell_session') as sessions_completed,
        sum(activities.volunteer_hours) as volunteer_hours,
        count(*) filter (where activities.activity = 'buddy_match') as buddy_matches,
        count(*) filter (where activities.activity = 'buddy_event') as buddy_events,
        count(*) filter (where activities.activity = 'buddy_checkin') as buddy_checkins,
        count(*) filter (where activities.activity = 'course_completed') as courses_completed,
        count(*) filter (where activities.activity = 'credential_issued') as credentials_issued,

        -- a measured improvement, per outcome dimension
        coalesce(bool_or(improvements.improves_confidence), false) as improved_confidence,
        coalesce(bool_or(improvements.improves_belonging), false) as improved_belonging,
        coalesce(bool_or(improvements.improves_lang_level_proxy), false) as improved_lang_level_proxy,
        coalesce(bool_or(improvements.improves_job_readiness), false) as improved_job_readiness,
        coalesce(bool_or(improvements.improves_well_being), false) as improved_well_being,

        (select max(last_loaded_at) from {{ ref('users') }}) as inputs_loaded_through,
        now() as dbt_updated_at

    from activities
    left join improvements
        on improvements.user_id = activities.participant_user_id
        and improvements.record_id = activities.record_id
    group by activities.company_id, activities.participant_user_id, activities.period_start

)

select * from final
