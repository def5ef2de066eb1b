{#- The customers who, between the last two snapshots, dropped from a valuable
    RFM segment (var segment_drop_from_segments) to a different, at-risk one (var
    segment_drop_to_segments): who they are, what they were worth and what to do
    now (the recommended action of their new segment, seed rfm_segments). Most
    valuable first. -#}
with

history as (

    select * from {{ ref('customer_segment_history') }}

),

snapshots as (

    select
        snapshot_date,
        previous_snapshot_date,
        row_number() over (order by snapshot_date desc) as snapshots_after
    from {{ ref('int_segment_history_snapshots') }}

),

last_pair as (

    select
        snapshot_date,
        previous_snapshot_date
    from snapshots
    where snapshots_after = 1 and previous_snapshot_date is not null

),

segment_actions as (

    select * from {{ ref('rfm_segments') }}

),

final as (

    select
        current_snapshot.customer_id,
        last_pair.previous_snapshot_date,
        last_pair.snapshot_date,
        previous_snapshot.rfm_segment as previous_rfm_segment,
        current_snapshot.rfm_segment,
        previous_snapshot.rfm_cell as previous_rfm_cell,
        current_snapshot.rfm_cell,
        current_snapshot.recency_days,
        current_snapshot.frequency,
        current_snapshot.monetary as value_at_stake,
        cast(current_snapshot.monetary / current_snapshot.frequency as decimal(18, 2)) as average_order_value,
        current_snapshot.last_purchase_date,
        current_snapshot.cluster_name,
        segment_actions.recommended_action,
        -- Spark's row_number is an int, DuckDB's a bigint: the contract says bigint.
        cast(row_number() over (
            order by current_snapshot.monetary desc, current_snapshot.customer_id asc
        ) as bigint) as value_rank

    from last_pair
    inner join history as current_snapshot on last_pair.snapshot_date = current_snapshot.snapshot_date
    inner join history as previous_snapshot
        on
            last_pair.previous_snapshot_date = previous_snapshot.snapshot_date
            and current_snapshot.customer_id = previous_snapshot.customer_id
    left join segment_actions on current_snapshot.rfm_segment = segment_actions.rfm_segment
    where
        previous_snapshot.rfm_segment in ({{ sql_string_list(var('segment_drop_from_segments')) }})
        and current_snapshot.rfm_segment in ({{ sql_string_list(var('segment_drop_to_segments')) }})
        and current_snapshot.rfm_segment != previous_snapshot.rfm_segment

)

select * from final
