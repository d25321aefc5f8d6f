{{
    config(
        indexes=[
            {'columns': ['text_id'], 'unique': True},
            {'columns': ['text_sha256']},
            {'columns': ['participant_user_id']},
        ],
    )
}}

-- Every free text the sources carry, one row per text, for Q2Q (text → outcome scores) and safety
-- screening. Each source record holds one free-text field, so a text is named by its record:
-- text_id = '<core table>:<record id>'. The SHA-256 of the normalised text is what Q2Q scores by: a
-- text whose hash is unchanged is never scored again.
-- A table, rebuilt on every build: an erased person's text must leave it, and the union is cheap.
-- Not here: buddy_checkins.question_responses (answers to fixed questions: booleans, counts, yes/no).

with sessions as (

    select * from {{ ref('kintell_sessions') }}

),

matches as (

    select * from {{ ref('buddy_matches') }}

),

texts as (

    -- Kintell session feedback: the participant's words about their session
    select
        'kintell_sessions' as source_table,
        session_id as source_id,
        'feedback_text' as source_field,
        'participant' as author_role,
        participant_user_id as author_user_id,
        cast(null as text) as subject_user_id,
        participant_user_id,
        coalesce(completed_at, started_at, scheduled_at) as written_at,
        feedback_text as text,
        loaded_at
    from sessions
    where feedback_text is not null

    union all

    -- Kintell ratings: either side of a session; a volunteer's text is about the participant
    select
        'kintell_ratings',
        ratings.rating_id,
        'feedback_text',
        ratings.from_role,
        case when ratings.from_role = 'participant' then sessions.participant_user_id else sessions.volunteer_user_id end,
        case when ratings.from_role = 'participant' then null else sessions.participant_user_id end,
        sessions.participant_user_id,
        coalesce(ratings.created_at, sessions.completed_at),
        ratings.feedback_text,
        ratings.loaded_at
    from {{ ref('kintell_ratings') }} as ratings
    left join sessions on sessions.session_id = ratings.session_id
    where ratings.feedback_text is not null

    union all

    -- Buddy feedback: either side of a match (the match may not be loaded yet: people then unknown)
    select
        'buddy_feedback',
        feedback.feedback_id,
        'feedback_text',
        feedback.from_role,
        case when feedback.from_role = 'participant' then matches.participant_user_id else matches.buddy_user_id end,
        case when feedback.from_role = 'participant' then null else matches.participant_user_id end,
        matches.participant_user_id,
        feedback.submitted_at,
        feedback.feedback_text,
        feedback.loaded_at
    from {{ ref('buddy_feedback') }} as feedback
    left join matches on matches.match_id = feedback.match_id
    where feedback.feedback_text is not null

    union all

    -- Buddy check-in notes: the export does not say which side of the match wrote them
    select
        'buddy_checkins',
        checkins.checkin_id,
        'notes',
        'match',
        cast(null as text),
        matches.participant_user_id,
        matches.participant_user_id,
        checkins.checkin_date,
        checkins.notes,
        checkins.loaded_at
    from {{ ref('buddy_checkins') }} as checkins
    left join matches on matches.match_id = checkins.match_id
    where checkins.notes is not null

    union all

    -- Buddy event descriptions: what a pair did together, written by the match
    select
        'buddy_events',
        events.event_id,
        'description',
        'match',
        cast(null as text),
        matches.participant_user_id,
        matches.participant_user_id,
        events.event_date,
        events.description,
        events.loaded_at
    from {{ ref('buddy_events') }} as events
    left join matches on matches.match_id = events.match_id
    where events.description is not null

),

final as (

    select
        -- the text and the record it came from
        source_table || ':' || source_id as text_id,
        source_table,
        source_id,
        source_field,

        -- people
        author_role,
        author_user_id,
        subject_user_id,
        participant_user_id,

        -- the text
        written_at,
        text,
        {{ detected_language('text') }} as language,
        length(text) as text_length,
        encode(sha256(convert_to({{ normalised_text('text') }}, 'UTF8')), 'hex') as text_sha256,

        loaded_at,
        now() as dbt_updated_at

    from texts

)

select * from final
