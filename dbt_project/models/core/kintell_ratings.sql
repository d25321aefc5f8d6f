{{
    config(
        materialized='incremental',
        unique_key='rating_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['rating_id'], 'unique': True},
            {'columns': ['loaded_at']},
            {'columns': ['dbt_updated_at']},
            {'columns': ['session_id']},
        ],
    )
}}

with ratings as (

    select * from {{ ref('stg_kintell__ratings') }}
    where {{ loaded_after_watermark() }}

),

final as (

    select
        rating_id,
        session_id,
        from_role,
        rating,
        feedback_text,
        created_at,
        load_id,
        loaded_at,
        now() as dbt_updated_at

    from ratings

)

select * from final
