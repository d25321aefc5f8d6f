{#- The metrics' calendar and the Volunteer Impact Score (VIS) parameters: the one place they are set.
    docs/metrics.md explains each; the SROI assumptions are seeds (seeds/sroi_*.csv). -#}

{#- The UTC calendar month of a timestamptz, as the date of its first day. -#}
{% macro utc_month(timestamp) -%}
    (date_trunc('month', ({{ timestamp }}) at time zone 'UTC'))::date
{%- endmacro %}

{#- The last day of the month that starts on `period_start` (a date). -#}
{% macro month_last_day(period_start) -%}
    (({{ period_start }}) + interval '1 month' - interval '1 day')::date
{%- endmacro %}

{#- The instant a month ends (the next month's first midnight, UTC), as a timestamptz. -#}
{% macro month_end_instant(period_start) -%}
    ((({{ period_start }}) + interval '1 month')::timestamp at time zone 'UTC')
{%- endmacro %}

{#- VIS per volunteer month = weights.hours × hours component + weights.consistency × consistency
    component + weights.outcome × outcome component, each 0–100 (docs/metrics.md). -#}
{% macro vis_parameters() -%}
    {{ return({
        'hours_for_full_marks': 8,
        'consistency_window_months': 3,
        'weights': {'hours': 0.3, 'consistency': 0.3, 'outcome': 0.4},
        'bands': [
            {'below': 25, 'band': 'Emerging'},
            {'below': 50, 'band': 'Contributing'},
            {'below': 75, 'band': 'High impact'},
        ],
        'top_band': 'Exceptional',
    }) }}
{%- endmacro %}

{#- The VIS band of a score (0–100); null for a null score. -#}
{% macro vis_band(score) -%}
    {%- set parameters = vis_parameters() -%}
    case
        when {{ score }} is null then null
        {%- for band in parameters['bands'] %}
        when {{ score }} < {{ band['below'] }} then '{{ band['band'] }}'
        {%- endfor %}
        else '{{ parameters['top_band'] }}'
    end
{%- endmacro %}

{#- ` and <column> = any(array(<subquery>))` for each subquery of user ids given, or nothing: how the
    metrics' incremental models bound their reads to the people they recompute, at each table scan.
    `= any(array(...))` rather than `in (...)` so the planner looks people up by index (as
    macros/participant_activities.sql does). -#}
{% macro metrics_only(participant_column, participants, volunteer_column=none, volunteers=none) -%}
    {%- if participants %} and {{ participant_column }} = any(array({{ participants }})){% endif -%}
    {%- if volunteers and volunteer_column %} and {{ volunteer_column }} = any(array({{ volunteers }})){% endif -%}
{%- endmacro %}

{#- Everything a volunteer did with a participant, one row each (docs/metrics.md, readings 2 and 3):
    completed Kintell sessions (hours = duration / 60), Buddy matches (by match date, no hours), Buddy
    events (hours by event type, seed buddy_event_hours) and Buddy check-ins (no hours). Columns:
    volunteer_user_id, participant_user_id, activity, record_id, activity_at, volunteer_hours.
    `participants` / `volunteers`: optional subqueries of user ids to read only theirs. -#}
{% macro volunteer_activity_rows(participants=none, volunteers=none) -%}
    select
        volunteer_user_id,
        participant_user_id,
        'kintell_session' as activity,
        session_id as record_id,
        completed_at as activity_at,
        coalesce(volunteer_hours, 0) as volunteer_hours
    from {{ ref('kintell_sessions') }}
    where completed_at is not null
        {{- metrics_only('participant_user_id', participants, 'volunteer_user_id', volunteers) }}

    union all

    select
        buddy_user_id,
        participant_user_id,
        'buddy_match',
        match_id,
        matched_at,
        0::numeric
    from {{ ref('buddy_matches') }}
    where true
        {{- metrics_only('participant_user_id', participants, 'buddy_user_id', volunteers) }}

    union all

    select
        matches.buddy_user_id,
        matches.participant_user_id,
        'buddy_event',
        events.event_id,
        events.event_date,
        coalesce(events.volunteer_hours, 0)
    from {{ ref('buddy_events') }} as events
    inner join {{ ref('buddy_matches') }} as matches on matches.match_id = events.match_id
    where true
        {{- metrics_only('matches.participant_user_id', participants, 'matches.buddy_user_id', volunteers) }}

    union all

    select
        matches.buddy_user_id,
        matches.participant_user_id,
        'buddy_checkin',
        checkins.checkin_id,
        checkins.checkin_date,
        0::numeric
    from {{ ref('buddy_checkins') }} as checkins
    inner join {{ ref('buddy_matches') }} as matches on matches.match_id = checkins.match_id
    where true
        {{- metrics_only('matches.participant_user_id', participants, 'matches.buddy_user_id', volunteers) }}
{%- endmacro %}

{#- Every activity that counts for a company, one row per company and record, in the UTC calendar month it
    was completed (docs/metrics.md, readings 1 and 2): what the company's volunteers did with participants
    (a volunteer on no roster counts for no company), and the courses completed and credentials issued by
    participants linked to the company (company_users, role participant) before that month ended. Columns:
    company_id, period_start, activity, record_id, participant_user_id, volunteer_user_id, volunteer_hours.
    `participants`: an optional subquery of user ids to read only theirs. -#}
{% macro company_activity_rows(participants=none) -%}
    select
        users.company_id,
        {{ utc_month('activities.activity_at') }} as period_start,
        activities.activity,
        activities.record_id,
        activities.participant_user_id,
        activities.volunteer_user_id,
        activities.volunteer_hours
    from (
        {{ volunteer_activity_rows(participants=participants) | indent(8) }}
    ) as activities
    inner join {{ ref('users') }} as users on users.user_id = activities.volunteer_user_id
    where users.company_id is not null

    union all

    select
        links.company_id,
        {{ utc_month('learning.activity_at') }},
        learning.activity,
        learning.record_id,
        learning.user_id,
        null::text,
        0::numeric
    from {{ ref('int_participant_activities') }} as learning
    inner join {{ ref('company_users') }} as links
        on links.user_id = learning.user_id
        and links.role = 'participant'
        and links.linked_at < {{ month_end_instant(utc_month('learning.activity_at')) }}
    where learning.activity in ('course_completed', 'credential_issued')
        {{- metrics_only('links.user_id', participants) }}
{%- endmacro %}
