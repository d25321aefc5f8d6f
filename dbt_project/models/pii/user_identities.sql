{{
    config(
        post_hook=[
            "alter table {{ this }} owner to {{ var('pii_reader_role') }}",
        ],
    )
}}

-- The only place emails and names live outside the raw layer: one row per person (pseudonymous user
-- id), owned by the restricted pii reader role. Core tables carry only the user id.
with emails as (

    select participant_user_id as user_id, participant_email as email, null as display_name, loaded_at
    from {{ source('kintell', 'kintell_sessions') }}
    union all
    select volunteer_user_id, volunteer_email, null, loaded_at
    from {{ source('kintell', 'kintell_sessions') }}
    union all
    select participant_user_id, participant_email, null, loaded_at
    from {{ source('buddy', 'buddy_matches') }}
    union all
    select buddy_user_id, buddy_email, null, loaded_at
    from {{ source('buddy', 'buddy_matches') }}
    union all
    select user_id, user_email, {{ display_name('metadata') }}, loaded_at
    from {{ source('upskilling', 'ecornell_progress') }}
    union all
    select user_id, user_email, {{ display_name('metadata') }}, loaded_at
    from {{ source('upskilling', 'upskilling_credentials') }}
    union all
    select user_id, employee_email, {{ display_name('metadata') }}, loaded_at
    from {{ source('roster', 'roster_volunteers') }}

),

final as (

    select
        user_id,
        min(email) as email,
        -- the most recently loaded name an export gave
        (array_agg(display_name order by loaded_at desc) filter (where display_name is not null))[1] as display_name,
        max(loaded_at) as last_seen_at
    from emails
    group by user_id

)

select * from final
