{{
    config(
        materialized='incremental',
        unique_key='user_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['company_user_id'], 'unique': True},
            {'columns': ['user_id']},
            {'columns': ['company_id', 'role']},
            {'columns': ['dbt_updated_at']},
        ],
    )
}}

-- depends_on: {{ ref('kintell_sessions') }}, {{ ref('buddy_matches') }}
-- Who belongs to which company: its volunteers (from the roster) and the participants who worked
-- with one of them (a session, a match, an event or a check-in), linked from their first such activity.
-- Incremental: a build recomputes every membership of the people whose records moved (users.last_loaded_at)
-- and of the participants of volunteers whose roster row moved (a volunteer newly on a roster links their
-- participants to the company).
with changed as (

    select user_id from {{ ref('users') }}
    where {{ loaded_after_watermark(column='last_loaded_at', watermark='inputs_loaded_through') }}

),

rostered as (

    -- volunteers whose roster row is new or changed: their participants' memberships move with them
    select user_id from {{ ref('stg_roster__volunteers') }}
    where {{ loaded_after_watermark(column='loaded_at', watermark='inputs_loaded_through') }}

),

recomputed as (

    select user_id from changed
    {% if is_incremental() %}
    union
    select participant_user_id from {{ ref('kintell_sessions') }}
    where volunteer_user_id = any(array(select user_id from rostered)) and completed_at is not null
    union
    select participant_user_id from {{ ref('buddy_matches') }}
    where buddy_user_id = any(array(select user_id from rostered))
    {% endif %}

),

roster as (

    select * from {{ ref('stg_roster__volunteers') }}

),

volunteers as (

    select
        company_id,
        user_id,
        'volunteer' as role,
        joined_at as linked_at
    from roster
    -- a hash semi-join: the roster is small and has no index on user_id
    where user_id in (select user_id from recomputed)

),

participants as (

    select
        roster.company_id,
        activities.user_id,
        'participant' as role,
        min(activities.activity_at) as linked_at
    from (
        {{ participant_activities(only_users='recomputed' if is_incremental() else none) }}
    ) as activities
    inner join roster on roster.user_id = activities.volunteer_user_id
    group by roster.company_id, activities.user_id

),

final as (

    select
        md5(company_id || '|' || user_id || '|' || role) as company_user_id,
        company_id,
        user_id,
        role,
        linked_at,
        (select max(last_loaded_at) from {{ ref('users') }}) as inputs_loaded_through,
        now() as dbt_updated_at
    from (select * from volunteers union all select * from participants) as members

)

select * from final
