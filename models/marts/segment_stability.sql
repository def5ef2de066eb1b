{#- Per pair of consecutive snapshots: how many customers are in both, the share
    of them who kept their RFM segment and their cluster, and the adjusted Rand
    index (ARI) of the two snapshots' RFM segments and clusters on those
    customers (1 = the same partition, about 0 = no more alike than chance). The
    ARI comes from the migration matrix (Hubert and Arabie's formula on its
    cells, rows and columns). -#}
with

migration as (

    select * from {{ ref('segment_migration') }}
    where movement in ('stayed', 'moved')

),

cells as (

    select
        snapshot_date,
        previous_snapshot_date,
        segment_type,
        cast(sum(customers) as bigint) as customers_in_both,
        cast(sum(case when movement = 'stayed' then customers else 0 end) as bigint) as customers_kept,
        sum(customers * (customers - 1) / 2.0) as cell_pairs
    from migration
    group by snapshot_date, previous_snapshot_date, segment_type

),

from_totals as (

    select
        snapshot_date,
        segment_type,
        sum(from_customers * (from_customers - 1) / 2.0) as from_pairs
    from (
        select
            snapshot_date,
            segment_type,
            from_segment,
            sum(customers) as from_customers
        from migration
        group by snapshot_date, segment_type, from_segment
    ) as by_from
    group by snapshot_date, segment_type

),

to_totals as (

    select
        snapshot_date,
        segment_type,
        sum(to_customers * (to_customers - 1) / 2.0) as to_pairs
    from (
        select
            snapshot_date,
            segment_type,
            to_segment,
            sum(customers) as to_customers
        from migration
        group by snapshot_date, segment_type, to_segment
    ) as by_to
    group by snapshot_date, segment_type

),

ari as (

    select
        cells.snapshot_date,
        cells.previous_snapshot_date,
        cells.segment_type,
        cells.customers_in_both,
        cells.customers_kept,
        cells.cell_pairs,
        from_totals.from_pairs,
        to_totals.to_pairs,
        from_totals.from_pairs * to_totals.to_pairs
        / nullif(cells.customers_in_both * (cells.customers_in_both - 1) / cast(2 as double), 0) as expected_pairs
    from cells
    inner join from_totals
        on
            cells.snapshot_date = from_totals.snapshot_date
            and cells.segment_type = from_totals.segment_type
    inner join to_totals
        on
            cells.snapshot_date = to_totals.snapshot_date
            and cells.segment_type = to_totals.segment_type

),

scored as (

    select
        snapshot_date,
        previous_snapshot_date,
        segment_type,
        customers_in_both,
        customers_kept,
        cast(customers_kept as double) / customers_in_both as kept_share,
        -- Both partitions trivial (one group, or every customer alone): they agree, as in scikit-learn.
        -- Doubles, not 2.0 and 1.0: Spark reads those as decimals and would compute in decimal(38, 6).
        case
            when (from_pairs + to_pairs) / cast(2 as double) - expected_pairs = 0 then cast(1 as double)
            else (cell_pairs - expected_pairs) / ((from_pairs + to_pairs) / cast(2 as double) - expected_pairs)
        end as adjusted_rand_index
    from ari

),

final as (

    select
        rfm.snapshot_date,
        rfm.previous_snapshot_date,
        rfm.customers_in_both,
        rfm.kept_share as rfm_segment_kept_share,
        clusters.kept_share as cluster_kept_share,
        rfm.adjusted_rand_index as rfm_segment_ari,
        clusters.adjusted_rand_index as cluster_ari
    from scored as rfm
    inner join scored as clusters
        on
            rfm.snapshot_date = clusters.snapshot_date
            and clusters.segment_type = 'cluster'
    where rfm.segment_type = 'rfm_segment'

)

select * from final
