-- One row per person and programme: Kintell language, Kintell mentorship, Buddy (as participant or
-- as volunteer) and each upskilling course a participant is enrolled on.
with kintell as (

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

),

final as (

    select
        md5(concat_ws('|', program, provider, course_id, role, user_id)) as enrollment_id,
        *
    from (
        select * from kintell
        union all select * from buddy
        union all select * from courses
    ) as enrollments

)

select * from final
