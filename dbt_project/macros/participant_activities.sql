{#- Everything a participant did that counts as activity, one row each, at its completion time (UTC),
    with the volunteer it was done with when there is one and when its record (or its match) was loaded.

    `only_users`: the name of a relation or CTE with a `user_id` column, to read only those participants'
    activities through the indexes on each table (an incremental build's changed people); none reads all.
    `= any(array(...))` rather than `in (...)`: the planner then looks people up by index instead of
    scanning whole tables for an unknown-sized set. -#}
{% macro participant_activities(only_users=none) -%}
    {%- set only = (" = any(array(select user_id from " ~ only_users ~ "))") if only_users else none -%}
    select
        participant_user_id as user_id,
        volunteer_user_id,
        'kintell_' || session_type || '_session' as activity,
        session_id as record_id,
        completed_at as activity_at,
        loaded_at
    from {{ ref('kintell_sessions') }}
    where completed_at is not null {% if only %}and participant_user_id {{ only }}{% endif %}

    union all

    select
        participant_user_id,
        buddy_user_id,
        'buddy_match',
        match_id,
        matched_at,
        loaded_at
    from {{ ref('buddy_matches') }}
    {% if only %}where participant_user_id {{ only }}{% endif %}

    union all

    select
        matches.participant_user_id,
        matches.buddy_user_id,
        'buddy_event',
        events.event_id,
        events.event_date,
        greatest(events.loaded_at, matches.loaded_at)
    from {{ ref('buddy_events') }} as events
    inner join {{ ref('buddy_matches') }} as matches on matches.match_id = events.match_id
    {% if only %}where matches.participant_user_id {{ only }}{% endif %}

    union all

    select
        matches.participant_user_id,
        matches.buddy_user_id,
        'buddy_checkin',
        checkins.checkin_id,
        checkins.checkin_date,
        greatest(checkins.loaded_at, matches.loaded_at)
    from {{ ref('buddy_checkins') }} as checkins
    inner join {{ ref('buddy_matches') }} as matches on matches.match_id = checkins.match_id
    {% if only %}where matches.participant_user_id {{ only }}{% endif %}

    union all

    select
        user_id,
        null::text,
        'course_completed',
        progress_id,
        completed_at,
        loaded_at
    from {{ ref('learning_progress') }}
    where status = 'completed' and completed_at is not null {% if only %}and user_id {{ only }}{% endif %}

    union all

    select
        user_id,
        null::text,
        'credential_issued',
        credential_id,
        issued_at,
        loaded_at
    from {{ ref('credentials') }}
    {% if only %}where user_id {{ only }}{% endif %}
{%- endmacro %}

{#- `column = any(array(select user_id from <relation>))`, or true when building from scratch. -#}
{% macro among(column, relation) -%}
    {%- if is_incremental() -%}
        {{ column }} = any(array(select user_id from {{ relation }}))
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
