-- Per company and UTC calendar month: its active volunteers (a completed session, a Buddy event or a
-- check-in that month), their mean Volunteer Impact Score and its band (docs/metrics.md, reading 6).
with volunteer_months as (

    select * from {{ ref('int_volunteer_month_vis') }}
    where company_id is not null

),

company_months as (

    select
        company_id,
        period_start,
        count(*) as active_volunteers,
        round(avg(vis_score), 1) as vis_score
    from volunteer_months
    group by company_id, period_start

),

final as (

    select
        company_id,
        period_start,
        active_volunteers,
        vis_score,
        {{ vis_band('vis_score') }} as vis_band
    from company_months

)

select * from final
