{{
    config(
        materialized='incremental',
        unique_key='user_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['milestone_id'], 'unique': True},
            {'columns': ['user_id']},
            {'columns': ['reached_at']},
            {'columns': ['dbt_updated_at']},
        ],
    )
}}

-- One row per milestone a participant has reached, with when and on which record. A milestone is the
-- first time something happened, so a person's milestones are recomputed together from their whole
-- history: an incremental build recomputes only the participants whose records moved
-- (users.last_loaded_at), and replaces all of their milestones (unique_key = user_id, delete+insert).
-- Inputs are read through their indexes, person by person, so no input is a CTE (a CTE read twice
-- would be materialised whole).
with checkins as (

    select checkins.*, matches.participant_user_id
    from {{ ref('buddy_checkins') }} as checkins
    inner join {{ ref('buddy_matches') }} as matches on matches.match_id = checkins.match_id

),

affected as (

    select user_id from {{ ref('users') }}
    where is_participant
      and {{ loaded_after_watermark(column='last_loaded_at', watermark='inputs_loaded_through') }}

),

completed_sessions as (

    select sessions.*, levels.level_rank
    from {{ ref('kintell_sessions') }} as sessions
    left join {{ ref('cefr_levels') }} as levels on levels.language_level = sessions.language_level
    where sessions.completed_at is not null
      and {{ among('sessions.participant_user_id', 'affected') }}

),

first_sessions as (

    select distinct on (participant_user_id, session_type)
        participant_user_id as user_id,
        'first_' || session_type || '_session' as milestone,
        completed_at as reached_at,
        session_id as record_id,
        null::text as outcome_dimension
    from completed_sessions
    order by participant_user_id, session_type, completed_at, session_id

),

starting_levels as (

    select distinct on (participant_user_id) participant_user_id as user_id, level_rank
    from completed_sessions
    where level_rank is not null
    order by participant_user_id, completed_at, session_id

),

language_level_up as (

    select distinct on (completed_sessions.participant_user_id)
        completed_sessions.participant_user_id as user_id,
        'language_level_up' as milestone,
        completed_sessions.completed_at as reached_at,
        completed_sessions.session_id as record_id,
        'lang_level_proxy' as outcome_dimension
    from completed_sessions
    inner join starting_levels on starting_levels.user_id = completed_sessions.participant_user_id
    where completed_sessions.level_rank > starting_levels.level_rank
    order by completed_sessions.participant_user_id, completed_sessions.completed_at, completed_sessions.session_id

),

buddy_matched as (

    select distinct on (participant_user_id)
        participant_user_id as user_id,
        'buddy_matched' as milestone,
        matched_at as reached_at,
        match_id as record_id,
        null::text as outcome_dimension
    from {{ ref('buddy_matches') }}
    where {{ among('participant_user_id', 'affected') }}
    order by participant_user_id, matched_at, match_id

),

ordered_checkins as (

    select
        participant_user_id as user_id,
        checkin_id,
        checkin_date,
        mood_score,
        row_number() over (partition by participant_user_id order by checkin_date, checkin_id) as checkin_number,
        first_value(mood_score) over (
            partition by participant_user_id order by (mood_score is null), checkin_date, checkin_id
        ) as first_mood_score
    from checkins
    where {{ among('participant_user_id', 'affected') }}

),

sustained_contact as (

    select
        user_id,
        'sustained_buddy_contact' as milestone,
        checkin_date as reached_at,
        checkin_id as record_id,
        'belonging' as outcome_dimension
    from ordered_checkins
    where checkin_number = {{ var('sustained_contact_checkins', 3) }}

),

mood_improved as (

    select distinct on (user_id)
        user_id,
        'mood_improved' as milestone,
        checkin_date as reached_at,
        checkin_id as record_id,
        'well_being' as outcome_dimension
    from ordered_checkins
    where mood_score > first_mood_score
    order by user_id, checkin_date, checkin_id

),

course_completed as (

    select distinct on (user_id)
        user_id,
        'course_completed' as milestone,
        completed_at as reached_at,
        progress_id as record_id,
        'job_readiness' as outcome_dimension
    from {{ ref('learning_progress') }}
    where status = 'completed' and completed_at is not null
      and {{ among('user_id', 'affected') }}
    order by user_id, completed_at, progress_id

),

credential_earned as (

    select distinct on (user_id)
        user_id,
        'credential_earned' as milestone,
        issued_at as reached_at,
        credential_id as record_id,
        'job_readiness' as outcome_dimension
    from {{ ref('credentials') }}
    where {{ among('user_id', 'affected') }}
    order by user_id, issued_at, credential_id

),

reached as (

    select * from first_sessions
    union all select * from language_level_up
    union all select * from buddy_matched
    union all select * from sustained_contact
    union all select * from mood_improved
    union all select * from course_completed
    union all select * from credential_earned

),

final as (

    select
        md5(user_id || '|' || milestone) as milestone_id,
        reached.user_id,
        reached.milestone,
        reached.reached_at,
        reached.record_id,
        reached.outcome_dimension,
        (select max(last_loaded_at) from {{ ref('users') }}) as inputs_loaded_through,
        now() as dbt_updated_at
    from reached

)

select * from final
