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

-- Every amount booked: clean purchases as bought (per invoice), and each matched return's refund on the
-- day of the latest purchase it matched, booked the day it was returned.
booked_amounts as (

    select
        customer_id,
        invoice_date as purchase_date,
        invoice_date as booked_date,
        'purchase' as amount_kind,
        purchase_amount as amount
    from {{ ref('int_customer_invoices') }}
    union all
    select
        customer_id,
        last_purchase_date_before as purchase_date,
        invoice_date as booked_date,
        'refund' as amount_kind,
        -matched_amount as amount
    from {{ ref('int_return_lines_matched') }}
    where matched_amount > 0

),

final as (

    select
        customer_id,
        purchase_date,
        booked_date,
        amount_kind,
        {{ to_cents('sum(amount)') }} as amount
    from booked_amounts
    group by customer_id, purchase_date, booked_date, amount_kind

)

select * from final
