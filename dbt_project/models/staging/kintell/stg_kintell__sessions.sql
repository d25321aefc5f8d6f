with source as (

    select * from {{ source('kintell', 'kintell_sessions') }}

),

renamed as (

    select
        -- ids
        session_id,
        participant_user_id,
        volunteer_user_id,

        -- session
        session_type,
        language_level,
        topics,
        feedback_text,
        rating::double precision as rating,
        duration_minutes,

        -- timestamps (UTC)
        scheduled_at,
        started_at,
        completed_at,

        -- lineage
        load_id,
        source_file,
        source_row_number,
        loaded_at

    from source

)

select * from renamed
