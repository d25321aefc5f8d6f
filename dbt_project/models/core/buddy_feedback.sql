with feedback as (

    select * from {{ ref('stg_buddy__feedback') }}

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
        loaded_at

    from feedback

)

select * from final
