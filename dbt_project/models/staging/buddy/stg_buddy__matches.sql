with source as (

    select * from {{ source('buddy', 'buddy_matches') }}

),

renamed as (

    select
        match_id,
        participant_user_id,
        buddy_user_id,
        matched_at,
        status,
        ended_at,
        language,
        interests,
        location,

        load_id,
        source_file,
        source_row_number,
        loaded_at

    from source

)

select * from renamed
