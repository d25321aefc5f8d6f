with source as (

    select * from {{ source('buddy', 'buddy_events') }}

),

renamed as (

    select
        event_id,
        match_id,
        event_type,
        event_date,
        description,
        location,
        attendees,

        load_id,
        source_file,
        source_row_number,
        loaded_at

    from source

)

select * from renamed
