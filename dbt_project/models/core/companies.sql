-- The companies of the rosters, plus any company code a volunteer roster names that the companies
-- export does not list yet (kept with no name, so no volunteer loses their company).
with listed as (

    select * from {{ ref('stg_roster__companies') }}

),

unlisted as (

    select distinct volunteers.company_id
    from {{ ref('stg_roster__volunteers') }} as volunteers
    where not exists (select 1 from listed where listed.company_id = volunteers.company_id)

),

final as (

    select company_id, company_name, industry, country, true as is_listed from listed
    union all
    select company_id, null, null, null, false from unlisted

)

select * from final
