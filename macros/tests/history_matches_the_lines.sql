{#- Stored snapshots of an incremental customer history (`model`: one row per
    snapshot_date and customer_id with frequency and monetary) still describe
    today's lines: per snapshot, its customers and their invoices (exactly) and
    their spend (to within the rounding of each customer's value to the cent, so a
    correction smaller than half a cent per customer of the snapshot goes unseen)
    recomputed from the clean lines of `lines` (those meeting `clean_lines_where`)
    dated before it. A failure means lines before a stored snapshot changed (a
    corrected export, lines added to a past period, other cleaning settings):
    rebuild the history with a full refresh of the model and its children. -#}
{% test history_matches_the_lines(model, lines, clean_lines_where="line_status = 'clean'") %}
with

history as (

    select
        snapshot_date,
        count(*) as customers,
        sum(frequency) as invoices,
        sum(monetary) as monetary
    from {{ model }}
    group by snapshot_date

),

lines as (

    select
        customer_id,
        invoice_no,
        invoice_date,
        line_amount
    from {{ lines }}
    where {{ clean_lines_where }}

),

daily_amounts as (

    select
        invoice_date,
        sum(line_amount) as amount
    from lines
    group by invoice_date

),

first_invoice_days as (

    select
        customer_id,
        invoice_no,
        min(invoice_date) as first_date
    from lines
    group by customer_id, invoice_no

),

first_customer_days as (

    select
        customer_id,
        min(first_date) as first_date
    from first_invoice_days
    group by customer_id

),

recomputed as (

    select
        history.snapshot_date,
        (
            select count(*) as customers from first_customer_days
            where first_customer_days.first_date < history.snapshot_date
        ) as customers,
        (
            select count(*) as invoices from first_invoice_days
            where
                first_invoice_days.first_date < history.snapshot_date
                and first_invoice_days.invoice_no is not null
        ) as invoices,
        (
            select coalesce(sum(daily_amounts.amount), 0) as monetary from daily_amounts
            where daily_amounts.invoice_date < history.snapshot_date
        ) as monetary
    from history

)

select
    history.snapshot_date,
    history.customers,
    recomputed.customers as customers_in_the_lines,
    history.invoices,
    recomputed.invoices as invoices_in_the_lines,
    history.monetary,
    recomputed.monetary as monetary_in_the_lines
from history
inner join recomputed on history.snapshot_date = recomputed.snapshot_date
where
    history.customers != recomputed.customers
    or history.invoices != recomputed.invoices
    or abs(history.monetary - recomputed.monetary) > 0.005 * history.customers
{% endtest %}
