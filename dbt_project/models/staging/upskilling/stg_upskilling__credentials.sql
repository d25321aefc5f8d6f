with source as (

    select * from {{ source('upskilling', 'upskilling_credentials') }}

),

renamed as (

    select
        credential_id,
        user_id,
        provider,
        course_id,
        credential_type,
        issued_at,
        expires_at,
        url,
        verification_code,

        load_id,
        source_file,
        source_row_number,
        loaded_at

    from source

)

select * from renamed
