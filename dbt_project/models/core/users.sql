{{
    config(
        materialized='incremental',
        unique_key='user_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['user_id'], 'unique': True},
            {'columns': ['last_loaded_at']},
        ],
    )
}}

-- Everyone who appears in any source, once, with the roles the data gives them: participants take
-- sessions, matches and courses; volunteers give sessions, are buddies or are on a company roster.
-- `last_loaded_at` is when a record naming the person (or their match's events and check-ins) was
-- last loaded: the models downstream recompute exactly the people it moved for.
-- Incremental: only records loaded since the last build are read; roles are never taken away.
{% set since = loaded_after_watermark(watermark='last_loaded_at') %}
{% set since_match_activity = loaded_after_watermark(
    column='greatest(activity.loaded_at, matches.loaded_at)', watermark='last_loaded_at') %}

with appearances as (

    select participant_user_id as user_id, 'participant' as role, loaded_at
    from {{ ref('kintell_sessions') }} where {{ since }}
    union all
    select volunteer_user_id, 'volunteer', loaded_at
    from {{ ref('kintell_sessions') }} where {{ since }}
    union all
    select participant_user_id, 'participant', loaded_at
    from {{ ref('buddy_matches') }} where {{ since }}
    union all
    select buddy_user_id, 'volunteer', loaded_at
    from {{ ref('buddy_matches') }} where {{ since }}
    union all
    select person.user_id, person.role, greatest(activity.loaded_at, matches.loaded_at)
    from (
        select match_id, loaded_at from {{ ref('buddy_events') }}
        union all
        select match_id, loaded_at from {{ ref('buddy_checkins') }}
    ) as activity
    inner join {{ ref('buddy_matches') }} as matches on matches.match_id = activity.match_id
    cross join lateral (
        values (matches.participant_user_id, 'participant'), (matches.buddy_user_id, 'volunteer')
    ) as person (user_id, role)
    where {{ since_match_activity }}
    union all
    select user_id, 'participant', loaded_at
    from {{ ref('learning_progress') }} where {{ since }}
    union all
    select user_id, 'participant', loaded_at
    from {{ ref('credentials') }} where {{ since }}
    union all
    select user_id, 'volunteer', loaded_at
    from {{ ref('stg_roster__volunteers') }} where {{ since }}

),

changed as (

    select
        user_id,
        bool_or(role = 'participant') as is_participant,
        bool_or(role = 'volunteer') as is_volunteer,
        max(loaded_at) as last_loaded_at
    from appearances
    group by user_id

),

merged as (

    select
        changed.user_id,
        {% if is_incremental() -%}
        changed.is_participant or coalesce(existing.is_participant, false) as is_participant,
        changed.is_volunteer or coalesce(existing.is_volunteer, false) as is_volunteer,
        {%- else -%}
        changed.is_participant,
        changed.is_volunteer,
        {%- endif %}
        changed.last_loaded_at
    from changed
    {% if is_incremental() -%}
    left join {{ this }} as existing on existing.user_id = changed.user_id
    {%- endif %}

),

final as (

    select
        merged.user_id,
        merged.is_participant,
        merged.is_volunteer,
        roster.company_id,
        merged.last_loaded_at,
        now() as dbt_updated_at

    from merged
    left join {{ ref('stg_roster__volunteers') }} as roster on roster.user_id = merged.user_id

)

select * from final
