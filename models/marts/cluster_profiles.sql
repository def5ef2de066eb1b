{#- One row per K-Means cluster: size, value, typical recency, frequency and
    monetary value in original units, return rate and most common RFM segment. -#}
with

customers as (

    select * from {{ ref('customers') }}

),

cluster_names as (

    select * from {{ ref('cluster_names') }}

),

totals as (

    select
        count(*) as total_customers,
        sum(monetary) as total_revenue
    from customers

),

segment_counts as (

    select
        cluster_id,
        rfm_segment,
        row_number() over (partition by cluster_id order by count(*) desc, rfm_segment asc) as segment_rank
    from customers
    group by cluster_id, rfm_segment

),

profiles as (

    select
        customers.cluster_id,
        customers.cluster_name,
        {{ customer_group_measures() }},
        avg(customers.recency_days) as mean_recency_days,
        avg(customers.frequency) as mean_frequency,
        cast(avg(customers.monetary) as decimal(18, 2)) as mean_monetary

    from customers
    cross join totals
    group by customers.cluster_id, customers.cluster_name, totals.total_customers, totals.total_revenue

),

final as (

    select
        profiles.*,
        segment_counts.rfm_segment as most_common_rfm_segment,
        cluster_names.description,
        cluster_names.recommended_action

    from profiles
    left join segment_counts
        on
            profiles.cluster_id = segment_counts.cluster_id
            and segment_counts.segment_rank = 1
    left join cluster_names on profiles.cluster_name = cluster_names.cluster_name

)

select * from final
