{#- Segment sizes and value over time: per snapshot of customer_segment_history,
    RFM segment and cluster, the customers in it, their share of the snapshot,
    and their monetary value and its share. -#}
with

history as (

    select * from {{ ref('customer_segment_history') }}

),

memberships as (

    {{ segment_memberships('history', ['snapshot_date', 'monetary']) }}

),

sizes as (

    select
        snapshot_date,
        segment_type,
        segment_name,
        count(*) as customers,
        sum(monetary) as monetary
    from memberships
    group by snapshot_date, segment_type, segment_name

),

final as (

    select
        snapshot_date,
        segment_type,
        segment_name,
        customers,
        cast(customers as double) / sum(customers) over snapshot_segments as customer_share,
        cast(monetary as decimal(18, 2)) as monetary,
        cast(monetary / nullif(sum(monetary) over snapshot_segments, 0) as double) as monetary_share
    from sizes
    window snapshot_segments as (partition by snapshot_date, segment_type)

)

select * from final
