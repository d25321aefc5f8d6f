with source as (

    select * from {{ source('buddy', 'buddy_checkins') }}

),

renamed as (

    select
        checkin_id,
        match_id,
        checkin_date,
        mood,
        notes,
        question_responses,

        load_id,
        source_file,
        source_row_number,
        loaded_at

    from source

)

select * from renamed
