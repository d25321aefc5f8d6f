with events as (

    select * from {{ ref('stg_buddy__events') }}

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
        events.loaded_at

    from events
    left join hours on hours.event_type = events.event_type

)

select * from final
