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

{#- Null-safe: a null on one side only (a customer without a cluster) is a difference. -#}
{%- set compared = [
    'first_purchase_date', 'last_purchase_date', 'recency_days', 'frequency', 'monetary',
    'matched_return_amount', 'return_rate', 'r_score', 'f_score', 'm_score', 'fm_score',
    'rfm_cell', 'rfm_segment', 'cluster_id', 'cluster_name',
] %}

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
    {%- for column in compared %}
    or last_snapshot.{{ column }} is distinct from customers.{{ column }}
    {%- endfor %}
