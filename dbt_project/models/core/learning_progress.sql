{{
    config(
        materialized='incremental',
        unique_key='progress_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['progress_id'], 'unique': True},
            {'columns': ['user_id']},
            {'columns': ['loaded_at']},
            {'columns': ['dbt_updated_at']},
        ],
    )
}}

with progress as (

    select * from {{ ref('stg_upskilling__progress') }}
        -- bounded to progress rows (re)loaded since the last build
    where {{ loaded_after_watermark() }}

),

final as (

    select
        md5(provider || '|' || user_id || '|' || course_id) as progress_id,
        provider,
        user_id,
        course_id,
        course_name,
        status,
        progress_percent,
        started_at,
        completed_at,
        final_score,
        credential_ref,
        load_id,
        loaded_at,
        now() as dbt_updated_at

    from progress

)

select * from final
