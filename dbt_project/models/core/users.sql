{{ config(indexes=[{'columns': ['user_id'], 'unique': True}]) }}

-- Everyone who appears in any source, once, with the roles the data gives them: participants take
-- sessions, matches and courses; volunteers give sessions, are buddies or are on a company roster.
with appearances as (

    select distinct participant_user_id as user_id, 'participant' as role from {{ ref('kintell_sessions') }}
    union
    select distinct volunteer_user_id, 'volunteer' from {{ ref('kintell_sessions') }}
    union
    select participant_user_id, 'participant' from {{ ref('buddy_matches') }}
    union
    select buddy_user_id, 'volunteer' from {{ ref('buddy_matches') }}
    union
    select user_id, 'participant' from {{ ref('learning_progress') }}
    union
    select user_id, 'participant' from {{ ref('credentials') }}
    union
    select user_id, 'volunteer' from {{ ref('stg_roster__volunteers') }}

),

roles as (

    select
        user_id,
        bool_or(role = 'participant') as is_participant,
        bool_or(role = 'volunteer') as is_volunteer
    from appearances
    group by user_id

),

final as (

    select
        roles.user_id,
        roles.is_participant,
        roles.is_volunteer,
        roster.company_id

    from roles
    left join {{ ref('stg_roster__volunteers') }} as roster on roster.user_id = roles.user_id

)

select * from final
