{#- One row per customer, invoice, day and country of the clean purchase lines:
    what the invoice's lines on that day add up to. The customer-level models that
    need no more than invoices (the segment history, the spend per day, the main
    country, the first purchase day) read these rows instead of classifying every
    line again: at 10 million lines they are about 15 times fewer. Amounts keep the
    lines' precision (no rounding), so sums over them equal sums over the lines. -#}
with

clean_lines as (

    select
        transaction_line_id,
        customer_id,
        invoice_no,
        invoice_date,
        country,
        line_amount
    from {{ ref('int_transaction_lines_classified') }}
    where line_status = 'clean'

),

final as (

    select
        -- Every line is in exactly one group, so its first line's id is the group's key.
        min(transaction_line_id) as first_transaction_line_id,
        customer_id,
        invoice_no,
        invoice_date,
        country,
        count(*) as purchase_lines,
        sum(line_amount) as purchase_amount
    from clean_lines
    group by customer_id, invoice_no, invoice_date, country

)

select * from final
