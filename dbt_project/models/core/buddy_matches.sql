{{ config(indexes=[{'columns': ['match_id'], 'unique': True}]) }}

with matches as (

    select * from {{ ref('stg_buddy__matches') }}

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
        loaded_at

    from matches

)

select * from final
