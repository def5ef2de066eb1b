{#- One row per campaign and metric: did the campaign work, by how much, and how
    sure are we (Welch intervals; see customer_segmentation/campaigns.py). -#}
with

results as (

    select * from {{ ref('int_campaign_results') }}

),

windows as (

    select * from {{ ref('int_campaign_windows') }}

),

final as (

    select
        results.campaign_id,
        results.metric,
        windows.measurement_status,
        results.treated_customers,
        results.control_customers,
        results.treated_value,
        results.control_value,
        results.absolute_lift,
        results.absolute_lift_lower,
        results.absolute_lift_upper,
        results.relative_lift,
        results.relative_lift_lower,
        results.relative_lift_upper,
        results.p_value,
        results.minimum_detectable_lift,
        results.minimum_detectable_relative_lift,
        results.conclusion,
        results.incremental_revenue,
        results.incremental_revenue_lower,
        results.incremental_revenue_upper

    from results
    inner join windows on results.campaign_id = windows.campaign_id

)

select * from final
