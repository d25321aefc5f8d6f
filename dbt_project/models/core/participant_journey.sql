{{
    config(
        materialized='incremental',
        unique_key='user_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['user_id'], 'unique': True},
            {'columns': ['dbt_updated_at']},
        ],
    )
}}

-- Where each participant stands: one row per participant with the journey flags, the first and last
-- activity and the language level they started at and speak at now.
-- Incremental: a build recomputes, from their whole history, the participants whose records moved.
-- A flag set outside a build (the event consumer, an admin: ops.journey_flag_overrides, written by
-- teei/journey.py) wins over the computed value, so a build never flips it back; the participants
-- whose overrides were set since the last build are recomputed too.
with participants as (

    select user_id from {{ ref('users') }}
    where is_participant
      and {{ loaded_after_watermark(column='last_loaded_at', watermark='inputs_loaded_through') }}
    {% if is_incremental() %}
    union
    -- Flags set since this model's last build (one that ran meanwhile may have written over them).
    select user_id from {{ source('ops', 'journey_flag_overrides') }}
    where set_at > {{ timestamp_literal("select max(dbt_updated_at) from " ~ this) }}
    {% endif %}

),

activity as (

    select
        user_id,
        bool_or(activity = 'kintell_language_session') as has_completed_language_session,
        bool_or(activity = 'kintell_mentorship_session') as has_completed_mentorship_session,
        min(activity_at) as first_activity_at,
        max(activity_at) as last_activity_at
    from (
        {{ participant_activities(only_users='participants' if is_incremental() else none) }}
    ) as activities
    group by user_id

),

matched as (

    select distinct participant_user_id as user_id from {{ ref('buddy_matches') }}
    where {{ among('participant_user_id', 'participants') }}

),

completed_courses as (

    select distinct user_id from {{ ref('learning_progress') }}
    where status = 'completed' and {{ among('user_id', 'participants') }}

),

credentialed as (

    select distinct user_id from {{ ref('credentials') }}
    where {{ among('user_id', 'participants') }}

),

levels as (

    select
        participant_user_id as user_id,
        (array_agg(language_level order by coalesce(completed_at, started_at, scheduled_at), session_id))[1]
            as first_language_level,
        (array_agg(language_level order by coalesce(completed_at, started_at, scheduled_at) desc, session_id desc))[1]
            as latest_language_level
    from {{ ref('kintell_sessions') }}
    where language_level is not null and {{ among('participant_user_id', 'participants') }}
    group by participant_user_id

),

overrides as (

    select
        user_id,
        bool_or(value) filter (where flag = 'is_buddy_matched') as is_buddy_matched,
        bool_or(value) filter (where flag = 'has_completed_language_session') as has_completed_language_session,
        bool_or(value) filter (where flag = 'has_completed_mentorship_session') as has_completed_mentorship_session,
        bool_or(value) filter (where flag = 'has_completed_course') as has_completed_course,
        bool_or(value) filter (where flag = 'has_credential') as has_credential
    from {{ source('ops', 'journey_flag_overrides') }}
    where {{ among('user_id', 'participants') }}
    group by user_id

),

final as (

    select
        participants.user_id,
        coalesce(overrides.is_buddy_matched, matched.user_id is not null) as is_buddy_matched,
        coalesce(
            overrides.has_completed_language_session, activity.has_completed_language_session, false
        ) as has_completed_language_session,
        coalesce(
            overrides.has_completed_mentorship_session, activity.has_completed_mentorship_session, false
        ) as has_completed_mentorship_session,
        coalesce(overrides.has_completed_course, completed_courses.user_id is not null) as has_completed_course,
        coalesce(overrides.has_credential, credentialed.user_id is not null) as has_credential,
        activity.first_activity_at,
        activity.last_activity_at,
        levels.first_language_level,
        levels.latest_language_level,
        (select max(last_loaded_at) from {{ ref('users') }}) as inputs_loaded_through,
        now() as dbt_updated_at

    from participants
    left join activity on activity.user_id = participants.user_id
    left join matched on matched.user_id = participants.user_id
    left join completed_courses on completed_courses.user_id = participants.user_id
    left join credentialed on credentialed.user_id = participants.user_id
    left join levels on levels.user_id = participants.user_id
    left join overrides on overrides.user_id = participants.user_id

)

select * from final
