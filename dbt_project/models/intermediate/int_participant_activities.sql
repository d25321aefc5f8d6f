-- Everything a participant did that counts as activity, one row each, at its completion time (UTC),
-- with the volunteer it was done with when there is one. Journeys, company links and metrics read it.
with sessions as (

    select
        participant_user_id as user_id,
        volunteer_user_id,
        'kintell_' || session_type || '_session' as activity,
        session_id as record_id,
        completed_at as activity_at
    from {{ ref('kintell_sessions') }}
    where completed_at is not null

),

matches as (

    select
        participant_user_id as user_id,
        buddy_user_id as volunteer_user_id,
        'buddy_match' as activity,
        match_id as record_id,
        matched_at as activity_at
    from {{ ref('buddy_matches') }}

),

events as (

    select
        matches.participant_user_id as user_id,
        matches.buddy_user_id as volunteer_user_id,
        'buddy_event' as activity,
        events.event_id as record_id,
        events.event_date as activity_at
    from {{ ref('buddy_events') }} as events
    inner join {{ ref('buddy_matches') }} as matches on matches.match_id = events.match_id

),

checkins as (

    select
        matches.participant_user_id as user_id,
        matches.buddy_user_id as volunteer_user_id,
        'buddy_checkin' as activity,
        checkins.checkin_id as record_id,
        checkins.checkin_date as activity_at
    from {{ ref('buddy_checkins') }} as checkins
    inner join {{ ref('buddy_matches') }} as matches on matches.match_id = checkins.match_id

),

courses as (

    select
        user_id,
        null::text as volunteer_user_id,
        'course_completed' as activity,
        progress_id as record_id,
        completed_at as activity_at
    from {{ ref('learning_progress') }}
    where status = 'completed' and completed_at is not null

),

credentials as (

    select
        user_id,
        null::text as volunteer_user_id,
        'credential_issued' as activity,
        credential_id as record_id,
        issued_at as activity_at
    from {{ ref('credentials') }}

)

select * from sessions
union all select * from matches
union all select * from events
union all select * from checkins
union all select * from courses
union all select * from credentials
