{{
    config(
        materialized='incremental',
        unique_key='checkin_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['checkin_id'], 'unique': True},
            {'columns': ['match_id', 'checkin_date']},
            {'columns': ['loaded_at']},
            {'columns': ['dbt_updated_at']},
        ],
    )
}}

with checkins as (

    select * from {{ ref('stg_buddy__checkins') }}
        -- bounded to check-ins (re)loaded since the last build
    where {{ loaded_after_watermark() }}

),

moods as (

    select * from {{ ref('checkin_moods') }}

),

final as (

    select
        checkins.checkin_id,
        checkins.match_id,
        checkins.checkin_date,
        checkins.mood,
        moods.mood_score,
        checkins.notes,
        checkins.question_responses,
        checkins.load_id,
        checkins.loaded_at,
        now() as dbt_updated_at

    from checkins
    left join moods on moods.mood = checkins.mood

)

select * from final
