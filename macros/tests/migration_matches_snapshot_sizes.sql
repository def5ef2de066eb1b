{#- Fails for every snapshot, segment type and segment where the migration
    matrix does not add up: the rows leaving a from-segment (every movement but
    entries) must count the segment's customers in the previous snapshot, the
    rows arriving in a to-segment (every movement but exits) its customers in
    this snapshot. `history_model` holds one row per snapshot_date and
    customer_id with columns rfm_segment and cluster_name. -#}
{% test migration_matches_snapshot_sizes(model, history_model) %}
with

migration as (

    select * from {{ model }}

),

sizes as (

    select
        snapshot_date,
        'rfm_segment' as segment_type,
        rfm_segment as segment_name,
        count(*) as customers
    from {{ history_model }}
    group by snapshot_date, rfm_segment

    union all

    select
        snapshot_date,
        'cluster' as segment_type,
        cluster_name as segment_name,
        count(*) as customers
    from {{ history_model }}
    group by snapshot_date, cluster_name

),

pairs as (

    select distinct
        snapshot_date,
        previous_snapshot_date
    from migration

),

expected as (

    select
        pairs.snapshot_date,
        'to' as side,
        sizes.segment_type,
        sizes.segment_name,
        sizes.customers
    from pairs
    inner join sizes on pairs.snapshot_date = sizes.snapshot_date

    union all

    select
        pairs.snapshot_date,
        'from' as side,
        sizes.segment_type,
        sizes.segment_name,
        sizes.customers
    from pairs
    inner join sizes on pairs.previous_snapshot_date = sizes.snapshot_date

),

counted as (

    select
        snapshot_date,
        'to' as side,
        segment_type,
        to_segment as segment_name,
        sum(customers) as customers
    from migration
    where movement != 'exit'
    group by snapshot_date, segment_type, to_segment

    union all

    select
        snapshot_date,
        'from' as side,
        segment_type,
        from_segment as segment_name,
        sum(customers) as customers
    from migration
    where movement != 'entry'
    group by snapshot_date, segment_type, from_segment

)

select
    coalesce(expected.snapshot_date, counted.snapshot_date) as snapshot_date,
    coalesce(expected.side, counted.side) as side,
    coalesce(expected.segment_type, counted.segment_type) as segment_type,
    coalesce(expected.segment_name, counted.segment_name) as segment_name,
    expected.customers as snapshot_customers,
    counted.customers as migration_customers
from expected
full outer join counted
    on
        expected.snapshot_date = counted.snapshot_date
        and expected.side = counted.side
        and expected.segment_type = counted.segment_type
        and expected.segment_name is not distinct from counted.segment_name
where expected.customers is distinct from counted.customers
{% endtest %}
