{#- One row per snapshot of the segment history: the period boundaries on the
    grain of var('segment_history_grain') (week, month or quarter) from the end of
    the first full period of clean purchases up to the as-of date, and the as-of
    date itself, so the last snapshot is today's segmentation. A snapshot counts
    the lines dated strictly before its date, like the as-of date. When the as-of
    date falls inside a period its snapshot is provisional (is_period_end false):
    a later run with more data replaces it by the period's end. -#}
{%- set grain = var('segment_history_grain') -%}
with

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

first_purchase as (

    select min(invoice_date) as first_purchase_date
    from {{ ref('int_customer_invoices') }}

),

first_full_period as (

    {#- A period that starts on the first purchase day is full; otherwise the
        first full period is the next one. -#}
    select
        case
            when cast({{ dbt.date_trunc(grain, 'first_purchase_date') }} as date) = first_purchase_date
                then first_purchase_date
            else cast({{ dbt.dateadd(grain, 1, dbt.date_trunc(grain, 'first_purchase_date')) }} as date)
        end as period_start
    from first_purchase

),

bounds as (

    select
        cast({{ dbt.dateadd(grain, 1, 'first_full_period.period_start') }} as date) as first_snapshot_date,
        as_of.as_of_date
    from first_full_period
    cross join as_of

),

days as (

    {{ date_spine(
        '(select first_snapshot_date from bounds)',
        '(select as_of_date from bounds)'
    ) }}

),

period_ends as (

    select days.date_day as snapshot_date
    from days
    where cast({{ dbt.date_trunc(grain, 'days.date_day') }} as date) = days.date_day

),

snapshot_dates as (

    select
        snapshot_date,
        true as is_period_end
    from period_ends

    union all

    select
        as_of_date as snapshot_date,
        cast({{ dbt.date_trunc(grain, 'as_of_date') }} as date) = as_of_date as is_period_end
    from as_of

),

final as (

    select
        snapshot_date,
        is_period_end,
        -- Spark's row_number is an int, DuckDB's a bigint: the contract says bigint.
        cast(row_number() over (order by snapshot_date) as bigint) as snapshot_number,
        lag(snapshot_date) over (order by snapshot_date) as previous_snapshot_date,
        '{{ grain }}' as snapshot_grain
    from snapshot_dates

)

select * from final
