{{
    config(
        materialized='incremental',
        unique_key='feedback_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['feedback_id'], 'unique': True},
            {'columns': ['loaded_at']},
            {'columns': ['dbt_updated_at']},
            {'columns': ['match_id']},
        ],
    )
}}

with feedback as (

    select * from {{ ref('stg_buddy__feedback') }}
    where {{ loaded_after_watermark() }}

),

final as (

    select
        feedback_id,
        match_id,
        from_role,
        rating,
        feedback_text,
        submitted_at,
        communication,
        helpfulness,
        engagement,
        load_id,
        loaded_at,
        now() as dbt_updated_at

    from feedback

)

select * from final
