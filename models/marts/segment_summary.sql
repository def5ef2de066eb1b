{#- One row per RFM segment and one per K-Means cluster (segment_type tells
    which), with the measures to compare them and the recommended action. -#}
with

customers as (

    select * from {{ ref('customers') }}

),

segment_actions as (

    select
        rfm_segment as segment_name,
        recommended_action
    from {{ ref('rfm_segments') }}

),

cluster_actions as (

    select
        cluster_name as segment_name,
        recommended_action
    from {{ ref('cluster_names') }}

),

totals as (

    select
        count(*) as total_customers,
        sum(monetary) as total_revenue
    from customers

),

by_rfm_segment as (

    select
        'rfm_segment' as segment_type,
        customers.rfm_segment as segment_name,
        {{ customer_group_measures() }}

    from customers
    cross join totals
    group by customers.rfm_segment, totals.total_customers, totals.total_revenue

),

by_cluster as (

    select
        'cluster' as segment_type,
        customers.cluster_name as segment_name,
        {{ customer_group_measures() }}

    from customers
    cross join totals
    group by customers.cluster_name, totals.total_customers, totals.total_revenue

),

grouped as (

    select * from by_rfm_segment
    union all
    select * from by_cluster

),

final as (

    select
        grouped.*,
        coalesce(segment_actions.recommended_action, cluster_actions.recommended_action)
            as recommended_action

    from grouped
    left join segment_actions
        on
            grouped.segment_type = 'rfm_segment'
            and grouped.segment_name = segment_actions.segment_name
    left join cluster_actions
        on
            grouped.segment_type = 'cluster'
            and grouped.segment_name = cluster_actions.segment_name

)

select * from final
