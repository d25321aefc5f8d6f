with source as (

    select * from {{ source('roster', 'roster_volunteers') }}

),

renamed as (

    select
        user_id,
        company_code as company_id,
        joined_at,

        load_id,
        source_file,
        source_row_number,
        loaded_at

    from source

)

select * from renamed
