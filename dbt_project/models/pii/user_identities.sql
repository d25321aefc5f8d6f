-- The only place emails live outside the raw layer. One row per person (pseudonymous user id).
with emails as (

    select participant_user_id as user_id, participant_email as email, loaded_at
    from {{ source('kintell', 'kintell_sessions') }}

    union all

    select volunteer_user_id as user_id, volunteer_email as email, loaded_at
    from {{ source('kintell', 'kintell_sessions') }}

),

final as (

    select distinct on (user_id)
        user_id,
        email,
        loaded_at as last_seen_at
    from emails
    order by user_id, loaded_at desc

)

select * from final
