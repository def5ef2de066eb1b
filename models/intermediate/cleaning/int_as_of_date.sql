{#- One row: the snapshot day. Only lines dated strictly before it count, and
    recency is measured from it. Never the wall clock: a rebuild gives the
    same answer. A few lines dated far after the rest (a typo'd year) never move
    it: the dates after a gap of more than var('stray_date_gap_days') days, when
    they hold at most var('stray_date_max_share') of the dated lines, are stray;
    those lines are quarantined (stray_future_date) and the data ends before them. -#}
with

daily as (

    select
        invoice_date,
        count(*) as lines
    from {{ ref('stg_shop__transactions') }}
    where invoice_date >= cast('{{ var("earliest_valid_date") }}' as date)
    group by invoice_date

),

with_previous as (

    select
        invoice_date,
        lines,
        lag(invoice_date) over (order by invoice_date) as previous_date
    from daily

),

gaps as (

    select
        invoice_date,
        {{ dbt.datediff('previous_date', 'invoice_date', 'day') }} as days_since_previous,  -- noqa: LT05
        sum(lines) over (
            order by invoice_date desc rows between unbounded preceding and current row
        ) as lines_from_here,
        sum(lines) over () as dated_lines
    from with_previous

),

stray as (

    select min(invoice_date) as stray_dates_from
    from gaps
    where
        days_since_previous > {{ var('stray_date_gap_days') }}
        and lines_from_here <= {{ var('stray_date_max_share') }} * dated_lines

),

final as (

    select
        {% if var('as_of_date') -%}
        cast('{{ var("as_of_date") }}' as date)
        {%- else -%}
        cast({{ dbt.dateadd('day', 1, 'max(daily.invoice_date)') }} as date)
        {%- endif %} as as_of_date,
        {{ 'true' if var('as_of_date') else 'false' }} as is_configured,
        max(daily.invoice_date) as last_transaction_date,
        stray.stray_dates_from

    from daily
    cross join stray
    where daily.invoice_date < coalesce(stray.stray_dates_from, cast('9999-12-31' as date))
    group by stray.stray_dates_from

)

select * from final
