{{
    config(
        materialized='incremental',
        unique_key='user_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['enrollment_id'], 'unique': True},
            {'columns': ['user_id']},
            {'columns': ['dbt_updated_at']},
        ],
    )
}}

-- One row per person and programme: Kintell language, Kintell mentorship, Buddy (as participant or
-- as volunteer) and each upskilling course a participant is enrolled on.
-- Incremental: a build recomputes every enrolment of the people whose records moved.
with changed as (

    select user_id from {{ ref('users') }}
    where {{ loaded_after_watermark(column='last_loaded_at', watermark='inputs_loaded_through') }}

),

kintell as (

    select
        participant_user_id as user_id,
        'participant' as role,
        'kintell_' || session_type as program,
        null::text as provider,
        null::text as course_id,
        null::text as course_name,
        min(coalesce(started_at, scheduled_at, completed_at)) as enrolled_at,
        null::text as status
    from {{ ref('kintell_sessions') }}
    where {{ among('participant_user_id', 'changed') }}
    group by participant_user_id, session_type

    union all

    select
        volunteer_user_id,
        'volunteer',
        'kintell_' || session_type,
        null,
        null,
        null,
        min(coalesce(started_at, scheduled_at, completed_at)),
        null
    from {{ ref('kintell_sessions') }}
    where {{ among('volunteer_user_id', 'changed') }}
    group by volunteer_user_id, session_type

),

buddy as (

    select
        participant_user_id as user_id,
        'participant' as role,
        'buddy' as program,
        null::text as provider,
        null::text as course_id,
        null::text as course_name,
        min(matched_at) as enrolled_at,
        -- the latest match's status
        (array_agg(status order by matched_at desc))[1] as status
    from {{ ref('buddy_matches') }}
    where {{ among('participant_user_id', 'changed') }}
    group by participant_user_id

    union all

    select
        buddy_user_id,
        'volunteer',
        'buddy',
        null,
        null,
        null,
        min(matched_at),
        (array_agg(status order by matched_at desc))[1]
    from {{ ref('buddy_matches') }}
    where {{ among('buddy_user_id', 'changed') }}
    group by buddy_user_id

),

courses as (

    select
        user_id,
        'participant' as role,
        'upskilling' as program,
        provider,
        course_id,
        course_name,
        coalesce(started_at, completed_at) as enrolled_at,
        status
    from {{ ref('learning_progress') }}
    where {{ among('user_id', 'changed') }}

),

final as (

    select
        md5(concat_ws('|', program, provider, course_id, role, user_id)) as enrollment_id,
        enrollments.*,
        (select max(last_loaded_at) from {{ ref('users') }}) as inputs_loaded_through,
        now() as dbt_updated_at
    from (
        select * from kintell
        union all select * from buddy
        union all select * from courses
    ) as enrollments

)

select * from final
