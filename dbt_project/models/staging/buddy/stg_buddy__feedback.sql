with source as (

    select * from {{ source('buddy', 'buddy_feedback') }}

),

renamed as (

    select
        feedback_id,
        match_id,
        from_role,
        rating::double precision as rating,
        feedback_text,
        submitted_at,
        communication::double precision as communication,
        helpfulness::double precision as helpfulness,
        engagement::double precision as engagement,

        load_id,
        source_file,
        source_row_number,
        loaded_at

    from source

)

select * from renamed
