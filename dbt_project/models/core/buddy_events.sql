{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['event_id'], 'unique': True},
            {'columns': ['loaded_at']},
            {'columns': ['dbt_updated_at']},
            {'columns': ['match_id']},
        ],
    )
}}

with events as (

    select * from {{ ref('stg_buddy__events') }}
    where {{ loaded_after_watermark() }}

),

hours as (

    select * from {{ ref('buddy_event_hours') }}

),

final as (

    select
        events.event_id,
        events.match_id,
        events.event_type,
        events.event_date,
        events.description,
        events.location,
        events.attendees,
        hours.volunteer_hours,
        events.load_id,
        events.loaded_at,
        now() as dbt_updated_at

    from events
    left join hours on hours.event_type = events.event_type

)

select * from final
