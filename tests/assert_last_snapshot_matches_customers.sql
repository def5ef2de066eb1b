{#- The last snapshot of customer_segment_history is today's segmentation: the
    same customers as the customers mart, with the same recency, frequency,
    monetary value, scores, RFM segment and cluster. Returns the customers that
    differ. -#}
with

history as (

    select * from {{ ref('customer_segment_history') }}

),

latest as (

    select max(snapshot_date) as snapshot_date
    from history

),

last_snapshot as (

    select history.*
    from history
    inner join latest on history.snapshot_date = latest.snapshot_date

),

customers as (

    select * from {{ ref('customers') }}

)

select
    coalesce(last_snapshot.customer_id, customers.customer_id) as customer_id,
    last_snapshot.snapshot_date,
    customers.as_of_date
from last_snapshot
full outer join customers on last_snapshot.customer_id = customers.customer_id
where
    last_snapshot.customer_id is null
    or customers.customer_id is null
    or last_snapshot.snapshot_date != customers.as_of_date
    or last_snapshot.first_purchase_date != customers.first_purchase_date
    or last_snapshot.last_purchase_date != customers.last_purchase_date
    or last_snapshot.recency_days != customers.recency_days
    or last_snapshot.frequency != customers.frequency
    or last_snapshot.monetary != customers.monetary
    or last_snapshot.matched_return_amount != customers.matched_return_amount
    or last_snapshot.return_rate != customers.return_rate
    or last_snapshot.r_score != customers.r_score
    or last_snapshot.f_score != customers.f_score
    or last_snapshot.m_score != customers.m_score
    or last_snapshot.fm_score != customers.fm_score
    or last_snapshot.rfm_cell != customers.rfm_cell
    or last_snapshot.rfm_segment is distinct from customers.rfm_segment
    or last_snapshot.cluster_id is distinct from customers.cluster_id
    or last_snapshot.cluster_name is distinct from customers.cluster_name
