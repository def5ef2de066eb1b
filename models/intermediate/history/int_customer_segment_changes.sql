{#- Per customer of the last snapshot of int_customer_rfm_history: the RFM
    segment they were in before their current one, the snapshot date on which
    the current one was first seen (the segment changed in the period ending that
    day; their first snapshot when it never changed) and how many consecutive
    snapshots, the last included, they have been in it. -#}
with

history as (

    select
        snapshot_date,
        customer_id,
        rfm_segment
    from {{ ref('int_customer_rfm_history') }}

),

with_previous as (

    select
        snapshot_date,
        customer_id,
        rfm_segment,
        lag(rfm_segment) over customer_snapshots as previous_rfm_segment,
        row_number() over customer_snapshots as snapshot_rank
    from history
    window customer_snapshots as (partition by customer_id order by snapshot_date)

),

marked as (

    select
        *,
        -- The first snapshot of a customer starts their first run in a segment.
        snapshot_rank = 1 or coalesce(rfm_segment, '') != coalesce(previous_rfm_segment, '') as starts_run
    from with_previous

),

run_starts as (

    select
        customer_id,
        snapshot_date as rfm_segment_changed_on,
        previous_rfm_segment,
        row_number() over (partition by customer_id order by snapshot_date desc) as recency_rank
    from marked
    where starts_run

),

last_snapshot as (

    select max(snapshot_date) as snapshot_date
    from history

),

latest as (

    select
        customer_id,
        max(snapshot_date) as last_snapshot_date
    from history
    group by customer_id

),

snapshot_counts as (

    select
        history.customer_id,
        count(*) as periods_in_rfm_segment
    from history
    inner join run_starts
        on
            history.customer_id = run_starts.customer_id
            and run_starts.recency_rank = 1
            and history.snapshot_date >= run_starts.rfm_segment_changed_on
    group by history.customer_id

),

final as (

    select
        latest.customer_id,
        latest.last_snapshot_date,
        run_starts.previous_rfm_segment,
        run_starts.rfm_segment_changed_on,
        snapshot_counts.periods_in_rfm_segment
    from latest
    inner join run_starts
        on
            latest.customer_id = run_starts.customer_id
            and run_starts.recency_rank = 1
    inner join snapshot_counts on latest.customer_id = snapshot_counts.customer_id
    -- Only the customers of the last snapshot: today's customers.
    inner join last_snapshot on latest.last_snapshot_date = last_snapshot.snapshot_date

)

select * from final
