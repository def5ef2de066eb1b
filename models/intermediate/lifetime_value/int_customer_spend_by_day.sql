{#- What each customer spent per purchase day, as booked day by day: a purchase
    day's clean lines, and the refunds of later returns taken off the day the
    returned goods were bought. The BTYD summary (int_customer_lifetime_value)
    adds up what was booked before its cut-off day, so the backtest's
    calibration period never sees a refund booked in the holdout period.
    A purchase occasion is a day whose net spend is positive: returns create
    no occasion and refunded value does not count. A return's matched part
    (int_return_lines_matched) is refunded from the customer's latest clean
    purchase of the product at or before it (the goods most likely sent back);
    the unmatched part was bought before the data starts and nets against nothing. -#}
with

purchases as (

    select
        customer_id,
        {{ product_key('stock_code') }} as product_key,
        invoiced_at,
        invoice_date,
        line_amount
    from {{ ref('int_transaction_lines_classified') }}
    where line_status = 'clean'

),

matched_returns as (

    select
        transaction_line_id,
        customer_id,
        {{ product_key('stock_code') }} as product_key,
        invoiced_at,
        invoice_date,
        matched_amount
    from {{ ref('int_return_lines_matched') }}
    where matched_amount > 0

),

refunded_purchase_days as (

    select
        matched_returns.transaction_line_id,
        max(purchases.invoice_date) as purchase_date
    from matched_returns
    inner join purchases
        on {{ return_matches_purchase('matched_returns', 'purchases') }}
    group by matched_returns.transaction_line_id

),

purchase_days as (

    select
        customer_id,
        invoice_date as purchase_date,
        invoice_date as booked_date,
        'purchase' as amount_kind,
        sum(line_amount) as amount
    from purchases
    group by customer_id, invoice_date

),

refunds as (

    select
        matched_returns.customer_id,
        refunded_purchase_days.purchase_date,
        matched_returns.invoice_date as booked_date,
        'refund' as amount_kind,
        -sum(matched_returns.matched_amount) as amount
    from matched_returns
    inner join refunded_purchase_days
        on matched_returns.transaction_line_id = refunded_purchase_days.transaction_line_id
    group by matched_returns.customer_id, refunded_purchase_days.purchase_date, matched_returns.invoice_date

),

booked as (

    select * from purchase_days
    union all
    select * from refunds

),

final as (

    select
        customer_id,
        purchase_date,
        booked_date,
        amount_kind,
        cast(amount as decimal(18, 2)) as amount
    from booked

)

select * from final
