-- Per company and UTC calendar month: the mean Q2Q outcome score per dimension of the texts on the
-- company's records of that month (docs/metrics.md, reading 4). A score names its text by source_table
-- (the core table: kintell_sessions, kintell_ratings, buddy_checkins, buddy_feedback) and source_id (that
-- table's id); the text's record gives the company (its volunteer's) and the month (its time). Empty
-- until Q2Q has scored texts.
with scores as (

    -- the latest score of each text and dimension, so a text re-scored by another model counts once
    select distinct on (source_table, source_id, dimension)
        source_table,
        source_id,
        dimension,
        score
    from {{ source('q2q', 'outcome_scores') }}
    order by source_table, source_id, dimension, scored_at desc, model_id, model_version

),

sessions as (

    select * from {{ ref('kintell_sessions') }}

),

matches as (

    select * from {{ ref('buddy_matches') }}

),

scored_records as (

    select scores.dimension, scores.score, sessions.volunteer_user_id, sessions.completed_at as record_at
    from scores
    inner join sessions on sessions.session_id = scores.source_id
    where scores.source_table = 'kintell_sessions'

    union all

    select scores.dimension, scores.score, sessions.volunteer_user_id, coalesce(ratings.created_at, sessions.completed_at)
    from scores
    inner join {{ ref('kintell_ratings') }} as ratings on ratings.rating_id = scores.source_id
    inner join sessions on sessions.session_id = ratings.session_id
    where scores.source_table = 'kintell_ratings'

    union all

    select scores.dimension, scores.score, matches.buddy_user_id, checkins.checkin_date
    from scores
    inner join {{ ref('buddy_checkins') }} as checkins on checkins.checkin_id = scores.source_id
    inner join matches on matches.match_id = checkins.match_id
    where scores.source_table = 'buddy_checkins'

    union all

    select scores.dimension, scores.score, matches.buddy_user_id, feedback.submitted_at
    from scores
    inner join {{ ref('buddy_feedback') }} as feedback on feedback.feedback_id = scores.source_id
    inner join matches on matches.match_id = feedback.match_id
    where scores.source_table = 'buddy_feedback'

),

final as (

    select
        users.company_id,
        {{ utc_month('scored_records.record_at') }} as period_start,
        count(*) as outcome_scores,
        round(avg(scored_records.score) filter (where scored_records.dimension = 'confidence'), 4) as avg_confidence,
        round(avg(scored_records.score) filter (where scored_records.dimension = 'belonging'), 4) as avg_belonging,
        round(avg(scored_records.score) filter (where scored_records.dimension = 'lang_level_proxy'), 4)
            as avg_lang_level_proxy,
        round(avg(scored_records.score) filter (where scored_records.dimension = 'job_readiness'), 4)
            as avg_job_readiness,
        round(avg(scored_records.score) filter (where scored_records.dimension = 'well_being'), 4) as avg_well_being
    from scored_records
    inner join {{ ref('users') }} as users on users.user_id = scored_records.volunteer_user_id
    where users.company_id is not null and scored_records.record_at is not null
    group by users.company_id, {{ utc_month('scored_records.record_at') }}

)

select * from final
