{#- The day calendar MetricFlow aggregates metric_time on: one row per day
    from the first dated purchase or return line to the day before the as-of
    date (the last day the snapshot counts). Built from the data, so it always
    covers its range. The first purchase comes from the per-customer purchases
    (every clean line has a customer), not from purchase_lines: that view would
    classify every line again for one minimum. -#}
with

customer_purchases as (

    select * from {{ ref('int_customer_purchases') }}

),

return_lines as (

    select * from {{ ref('return_lines') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

dated_lines as (

    select first_purchase_date as invoice_date from customer_purchases
    union all
    select invoice_date from return_lines

),

bounds as (

    select
        min(dated_lines.invoice_date) as first_date,
        -- Exclusive: only lines dated strictly before the as-of date count.
        max(as_of.as_of_date) as end_date

    from dated_lines
    cross join as_of

),

days as (

    {{ date_spine('(select first_date from bounds)', '(select end_date from bounds)') }}

),

final as (

    select cast(date_day as date) as date_day
    from days

)

select * from final
