-- Both providers' adapters load this one table; the itslearning source is the same relation and is
-- named here only so its Dagster ingest asset is upstream too: {{ source('upskilling', 'itslearning_progress') }}
with source as (

    select * from {{ source('upskilling', 'ecornell_progress') }}

),

renamed as (

    select
        provider,
        user_id,
        course_id,
        course_name,
        status,
        progress_percent::double precision as progress_percent,
        started_at,
        completed_at,
        final_score::double precision as final_score,
        credential_ref,

        load_id,
        source_file,
        source_row_number,
        loaded_at

    from source

)

select * from renamed
