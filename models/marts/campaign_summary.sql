{#- One row per campaign of seeds/campaigns.csv: when it ran, its frozen
    audience, where its measurement stands, and its headline result (revenue per
    customer). A campaign that starts before the first snapshot of the history
    has no audience to freeze: it is listed with zero members. -#}
with

campaigns as (

    select * from {{ ref('campaigns') }}

),

windows as (

    select * from {{ ref('int_campaign_windows') }}

),

members as (

    select
        campaign_id,
        count(*) as audience_customers,
        count(case when arm = 'treated' then 1 end) as treated_customers,
        count(case when arm = 'control' then 1 end) as control_customers,
        min(audience_snapshot_date) as audience_snapshot_date,
        bool_and(is_frozen) as is_audience_frozen
    from {{ ref('int_campaign_audiences') }}
    group by campaign_id

),

revenue as (

    select * from {{ ref('int_campaign_results') }}
    where metric = 'revenue_per_customer'

),

final as (

    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.start_date,
        campaigns.end_date,
        windows.follow_up_days,
        cast({{ dbt.dateadd('day', -1, 'windows.measured_until') }} as date) as measured_until,
        campaigns.control_share,
        members.audience_snapshot_date,
        coalesce(members.is_audience_frozen, false) as is_audience_frozen,
        coalesce(members.audience_customers, 0) as audience_customers,
        coalesce(members.treated_customers, 0) as treated_customers,
        coalesce(members.control_customers, 0) as control_customers,
        windows.measurement_status,
        revenue.relative_lift as revenue_relative_lift,
        revenue.incremental_revenue,
        revenue.incremental_revenue_lower,
        revenue.incremental_revenue_upper,
        coalesce(revenue.conclusion, 'not measurable') as conclusion

    from campaigns
    inner join windows on campaigns.campaign_id = windows.campaign_id
    left join members on campaigns.campaign_id = members.campaign_id
    left join revenue on campaigns.campaign_id = revenue.campaign_id

)

select * from final
