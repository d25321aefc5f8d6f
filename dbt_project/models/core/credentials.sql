{{
    config(
        materialized='incremental',
        unique_key='credential_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['credential_id'], 'unique': True},
            {'columns': ['loaded_at']},
            {'columns': ['dbt_updated_at']},
            {'columns': ['user_id']},
        ],
    )
}}

with credentials as (

    select * from {{ ref('stg_upskilling__credentials') }}
    where {{ loaded_after_watermark() }}

),

final as (

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
        loaded_at,
        now() as dbt_updated_at

    from credentials

)

select * from final
