-- Who belongs to which company: its volunteers (from the roster) and the participants who worked
-- with one of them (a session, a match, an event or a check-in), linked from their first such activity.
with volunteers as (

    select
        company_id,
        user_id,
        'volunteer' as role,
        joined_at as linked_at
    from {{ ref('stg_roster__volunteers') }}

),

participants as (

    select
        roster.company_id,
        activities.user_id,
        'participant' as role,
        min(activities.activity_at) as linked_at
    from {{ ref('int_participant_activities') }} as activities
    inner join {{ ref('stg_roster__volunteers') }} as roster on roster.user_id = activities.volunteer_user_id
    group by roster.company_id, activities.user_id

),

final as (

    select
        md5(company_id || '|' || user_id || '|' || role) as company_user_id,
        company_id,
        user_id,
        role,
        linked_at
    from (select * from volunteers union all select * from participants) as members

)

select * from final
