{#- Per customer, what their clean purchase lines add up to. -#}
with

purchases as (

    select
        customer_id,
        invoice_no,
        stock_code,
        quantity,
        line_amount,
        invoice_date
    from {{ ref('int_transaction_lines_classified') }}
    where line_status = 'clean'

),

final as (

    select
        customer_id,
        min(invoice_date) as first_purchase_date,
        max(invoice_date) as last_purchase_date,
        count(distinct invoice_no) as frequency,
        {{ to_cents('sum(line_amount)') }} as gross_monetary,
        count(*) as purchase_lines,
        sum(quantity) as purchased_quantity,
        count(distinct upper(stock_code)) as distinct_products

    from purchases
    group by customer_id

)

select * from final
