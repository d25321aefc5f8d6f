with source as (

    select * from {{ source('roster', 'roster_companies') }}

),

renamed as (

    select
        company_code as company_id,
        company_name,
        industry,
        country,

        load_id,
        source_file,
        source_row_number,
        loaded_at

    from source

)

select * from renamed
