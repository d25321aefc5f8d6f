with credentials as (

    select * from {{ ref('stg_upskilling__credentials') }}

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
        loaded_at

    from credentials

)

select * from final
