{{
    config(
        materialized='incremental',
        unique_key='user_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['user_id'], 'unique': True}],
        post_hook=[
            "alter table {{ this }} owner to {{ var('pii_reader_role') }}",
        ],
    )
}}

-- The only place emails and names live outside the raw layer: one row per person (pseudonymous user
-- id), owned by the restricted pii reader role. Core tables carry only the user id.
-- Incremental: only raw records loaded since the last build are read.
{% set since = loaded_after_watermark(watermark='last_seen_at') %}

with emails as (

    select participant_user_id as user_id, participant_email as email, null as display_name, loaded_at
    from {{ source('kintell', 'kintell_sessions') }} where {{ since }}
    union all
    select volunteer_user_id, volunteer_email, null, loaded_at
    from {{ source('kintell', 'kintell_sessions') }} where {{ since }}
    union all
    select participant_user_id, participant_email, null, loaded_at
    from {{ source('buddy', 'buddy_matches') }} where {{ since }}
    union all
    select buddy_user_id, buddy_email, null, loaded_at
    from {{ source('buddy', 'buddy_matches') }} where {{ since }}
    union all
    select user_id, user_email, {{ display_name('metadata') }}, loaded_at
    from {{ source('upskilling', 'ecornell_progress') }} where {{ since }}
    union all
    select user_id, user_email, {{ display_name('metadata') }}, loaded_at
    from {{ source('upskilling', 'upskilling_credentials') }} where {{ since }}
    union all
    select user_id, employee_email, {{ display_name('metadata') }}, loaded_at
    from {{ source('roster', 'roster_volunteers') }} where {{ since }}

),

changed as (

    select
        user_id,
        min(email) as email,
        -- the most recently loaded name an export gave
        (array_agg(display_name order by loaded_at desc) filter (where display_name is not null))[1] as display_name,
        max(loaded_at) as last_seen_at
    from emails
    group by user_id

),

final as (

    select
        changed.user_id,
        changed.email,
        {% if is_incremental() -%}
        coalesce(changed.display_name, existing.display_name) as display_name,
        {%- else -%}
        changed.display_name,
        {%- endif %}
        changed.last_seen_at
    from changed
    {% if is_incremental() -%}
    left join {{ this }} as existing on existing.user_id = changed.user_id
    {%- endif %}

)

select * from final
