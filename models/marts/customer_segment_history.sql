{#- One row per snapshot date and customer: recency, frequency, monetary value,
    scores, RFM segment and cluster as they were on that date, from the lines
    dated before it. The last snapshot is the as-of date: the customers mart. -#}
with

rfm_history as (

    select * from {{ ref('int_customer_rfm_history') }}

),

cluster_history as (

    select * from {{ ref('int_customer_cluster_history') }}

),

snapshots as (

    select * from {{ ref('int_segment_history_snapshots') }}

),

final as (

    select
        rfm_history.snapshot_date,
        rfm_history.customer_id,
        snapshots.snapshot_number,
        snapshots.is_period_end,
        rfm_history.first_purchase_date,
        rfm_history.last_purchase_date,
        rfm_history.recency_days,
        rfm_history.frequency,
        rfm_history.monetary,
        rfm_history.matched_return_amount,
        rfm_history.return_rate,
        rfm_history.r_score,
        rfm_history.f_score,
        rfm_history.m_score,
        rfm_history.fm_score,
        rfm_history.rfm_cell,
        rfm_history.rfm_segment,
        cluster_history.cluster_id,
        cluster_history.cluster_name

    from rfm_history
    inner join snapshots on rfm_history.snapshot_date = snapshots.snapshot_date
    left join cluster_history
        on
            rfm_history.snapshot_date = cast(cluster_history.snapshot_date as date)
            and rfm_history.customer_id = cluster_history.customer_id

)

select * from final
