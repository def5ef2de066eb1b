{#- Every customer's recency, frequency, monetary value, scores and RFM segment
    as they were on each snapshot date of int_segment_history_snapshots, from the
    clean lines dated before it: the same definitions as int_customer_rfm,
    int_customer_rfm_scores and int_customer_rfm_segments (shared macros), so the
    last snapshot is today's segmentation.

    Set-based, not one pass per snapshot: the clean invoices (int_customer_invoices,
    the lines already added up per invoice and day) are reduced once to one row
    per customer and period (what they added in it), running totals over those
    rows give each customer's state after each period, and a range join hands
    every snapshot the latest state before it. The invoices are scanned once
    whatever the number of snapshots; only the output grows with it.

    Incremental: a run computes only the snapshots not stored yet (a new
    period's data adds its snapshot, old ones are kept as they were). The
    pre-hook first drops stored snapshots that are no longer in the snapshot
    list (a provisional as-of snapshot superseded by the period's end, another
    grain or an earlier as-of date). Lines corrected or added before the last
    stored snapshot need `dbt build --full-refresh --select
    int_customer_rfm_history+`; the test assert_segment_history_matches_the_lines
    fails when that is the case. -#}
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    pre_hook="{% if is_incremental() %}{{ delete_partitions_not_in(this, 'snapshot_date', 'select snapshot_date from ' ~ ref('int_segment_history_snapshots') ~ ' where is_period_end') }}{% endif %}",
    **incremental_by_partition('snapshot_date', 'append')
) }}
{%- set grain = var('segment_history_grain') -%}
with

all_snapshots as (

    select * from {{ ref('int_segment_history_snapshots') }}

),

snapshots as (

    select snapshot_date from all_snapshots
    {% if is_incremental() -%}
    where snapshot_date not in (select distinct snapshot_date from {{ this }})
    {%- endif %}

),

bounds as (

    select
        min(snapshot_date) as first_snapshot_date,
        max(snapshot_date) as last_snapshot_date
    from all_snapshots

),

invoices as (

    select
        customer_id,
        invoice_no,
        invoice_date,
        purchase_lines,
        purchase_amount
    from {{ ref('int_customer_invoices') }}

),

matched_returns as (

    select
        customer_id,
        invoice_date,
        matched_amount
    from {{ ref('int_return_lines_matched') }}

),


invoice_periods as (

    {#- One row per customer, invoice and snapshot period (an invoice's lines
        almost always share a day). -#}
    select
        invoices.customer_id,
        invoices.invoice_no,
        {{ first_counting_snapshot('invoices.invoice_date', grain, 'bounds') }} as period_snapshot_date,
        min(invoices.invoice_date) as first_purchase_date,
        max(invoices.invoice_date) as last_purchase_date,
        sum(invoices.purchase_amount) as purchase_amount,
        sum(invoices.purchase_lines) as purchase_lines
    from invoices
    cross join bounds
    group by
        invoices.customer_id,
        invoices.invoice_no,
        period_snapshot_date

),

invoice_first_periods as (

    select
        *,
        row_number() over (
            partition by customer_id, invoice_no order by period_snapshot_date
        ) as invoice_period_rank
    from invoice_periods

),

invoices_counted as (

    {#- Frequency counts distinct invoices: an invoice counts in the period it
        first appears in. -#}
    select
        *,
        case when invoice_no is not null and invoice_period_rank = 1 then 1 else 0 end as new_invoices
    from invoice_first_periods

),

return_periods as (

    select
        matched_returns.customer_id,
        {{ first_counting_snapshot('matched_returns.invoice_date', grain, 'bounds') }} as period_snapshot_date,
        sum(matched_returns.matched_amount) as matched_return_amount
    from matched_returns
    cross join bounds
    group by matched_returns.customer_id, period_snapshot_date

),

customer_periods as (

    select
        customer_id,
        period_snapshot_date,
        min(first_purchase_date) as first_purchase_date,
        max(last_purchase_date) as last_purchase_date,
        sum(purchase_amount) as purchase_amount,
        sum(purchase_lines) as purchase_lines,
        sum(new_invoices) as new_invoices,
        sum(matched_return_amount) as matched_return_amount
    from (
        select
            customer_id,
            period_snapshot_date,
            first_purchase_date,
            last_purchase_date,
            purchase_amount,
            purchase_lines,
            new_invoices,
            0 as matched_return_amount
        from invoices_counted

        union all

        select
            customer_id,
            period_snapshot_date,
            null as first_purchase_date,
            null as last_purchase_date,
            0 as purchase_amount,
            0 as purchase_lines,
            0 as new_invoices,
            matched_return_amount
        from return_periods
    ) as period_rows
    group by customer_id, period_snapshot_date

),

running as (

    {#- Each customer's state after each period they bought or returned in, and
        the period of their next change (their state holds until then). -#}
    select
        customer_id,
        period_snapshot_date,
        lead(period_snapshot_date) over customer_periods_in_order as next_period_snapshot_date,
        min(first_purchase_date) over customer_periods_so_far as first_purchase_date,
        max(last_purchase_date) over customer_periods_so_far as last_purchase_date,
        sum(purchase_amount) over customer_periods_so_far as gross_monetary,
        sum(purchase_lines) over customer_periods_so_far as purchase_lines,
        sum(new_invoices) over customer_periods_so_far as frequency,
        sum(matched_return_amount) over customer_periods_so_far as matched_return_amount
    from customer_periods
    window
        customer_periods_in_order as (partition by customer_id order by period_snapshot_date),
        customer_periods_so_far as (
            partition by customer_id order by period_snapshot_date
            rows between unbounded preceding and current row
        )

),

states as (

    select
        snapshots.snapshot_date,
        running.customer_id,
        running.first_purchase_date,
        running.last_purchase_date,
        cast(running.frequency as bigint) as frequency,
        {{ to_cents('running.gross_monetary') }} as monetary,
        {{ to_cents('running.matched_return_amount') }} as matched_return_amount
    from running
    inner join snapshots
        on
            running.period_snapshot_date <= snapshots.snapshot_date
            and (
                running.next_period_snapshot_date is null
                or running.next_period_snapshot_date > snapshots.snapshot_date
            )
    -- A customer enters the snapshots with their first clean purchase, not a return.
    where running.purchase_lines > 0

),

measured as (

    select
        snapshot_date,
        customer_id,
        first_purchase_date,
        last_purchase_date,
        -- Spark's datediff is an int, DuckDB's a bigint: the contracts say bigint.
        cast({{ dbt.datediff('last_purchase_date', 'snapshot_date', 'day') }} as bigint) as recency_days,  -- noqa: LT05
        frequency,
        monetary,
        matched_return_amount,
        cast(matched_return_amount / monetary as double) as return_rate
    from states

),

scored as (

    select
        *,
        {{ quantile_score(
            'recency_days', var('rfm_bins'), higher_is_better=false, partition_by='snapshot_date'
        ) }} as r_score,
        {{ quantile_score('frequency', var('rfm_bins'), partition_by='snapshot_date') }} as f_score,
        {{ quantile_score('monetary', var('rfm_bins'), partition_by='snapshot_date') }} as m_score
    from measured

),

cells as (

    select
        *,
        {{ rfm_cell('r_score', 'f_score', 'm_score') }} as rfm_cell,
        {{ fm_score('f_score', 'm_score') }} as fm_score
    from scored

),

segments as (

    {{ rfm_segment_lookup('cells', ['snapshot_date', 'customer_id']) }}

),

final as (

    select
        cells.snapshot_date,
        cells.customer_id,
        cells.first_purchase_date,
        cells.last_purchase_date,
        cells.recency_days,
        cells.frequency,
        cells.monetary,
        cells.matched_return_amount,
        cells.return_rate,
        cells.r_score,
        cells.f_score,
        cells.m_score,
        cells.fm_score,
        cells.rfm_cell,
        segments.rfm_segment,
        '{{ invocation_id }}' as computed_in_invocation_id
    from cells
    inner join segments
        on
            cells.snapshot_date = segments.snapshot_date
            and cells.customer_id = segments.customer_id

)

select * from final
