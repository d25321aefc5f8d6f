{{
    config(
        materialized='incremental',
        unique_key='match_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['match_id'], 'unique': True},
            {'columns': ['loaded_at']},
            {'columns': ['dbt_updated_at']},
            {'columns': ['participant_user_id']},
            {'columns': ['buddy_user_id']},
        ],
    )
}}

with matches as (

    select * from {{ ref('stg_buddy__matches') }}
    where {{ loaded_after_watermark() }}

),

final as (

    select
        match_id,
        participant_user_id,
        buddy_user_id,
        matched_at,
        status,
        ended_at,
        language,
        interests,
        location,
        load_id,
        loaded_at,
        now() as dbt_updated_at

    from matches

)

select * from final
