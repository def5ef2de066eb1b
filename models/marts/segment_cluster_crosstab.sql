{#- One row per RFM segment x cluster with customers: how the two segmentations
    relate (customers, revenue, and each cell's share of its segment and cluster). -#}
with

customers as (

    select * from {{ ref('customers') }}

),

cells as (

    select
        rfm_segment,
        cluster_id,
        cluster_name,
        count(*) as customers,
        cast(sum(monetary) as decimal(18, 2)) as revenue
    from customers
    group by rfm_segment, cluster_id, cluster_name

),

final as (

    select
        rfm_segment,
        cluster_id,
        cluster_name,
        customers,
        revenue,
        customers / sum(customers) over (partition by rfm_segment) as share_of_rfm_segment,
        customers / sum(customers) over (partition by cluster_id) as share_of_cluster,
        -- A decimal quotient on Spark, a double on DuckDB: the contract says double.
        cast(revenue / nullif(sum(revenue) over (), 0) as double) as revenue_share
    from cells

)

select * from final
