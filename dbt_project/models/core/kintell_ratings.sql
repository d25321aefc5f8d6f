with ratings as (

    select * from {{ ref('stg_kintell__ratings') }}

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
        loaded_at

    from ratings

)

select * from final
