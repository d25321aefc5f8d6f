with source as (

    select * from {{ source('kintell', 'kintell_ratings') }}

),

renamed as (

    select
        rating_id,
        session_id,
        from_role,
        rating::double precision as rating,
        feedback_text,
        created_at,

        load_id,
        source_file,
        source_row_number,
        loaded_at

    from source

)

select * from renamed
