{#- Each returned line, matched to the same customer's earlier clean purchases
    of the same stock code (the data carries no reference to the original
    invoice). A return is matched up to the quantity bought before it, less
    what earlier returns of that product already took back; the rest of it is
    unmatched (typically bought before the data starts).
    The lines are read twice rather than through one shared CTE (which DuckDB would
    copy whole), and only purchases of a product the customer returned are joined:
    the join's hash table holds those few lines, not every clean line. -#}
with

returns as (

    select
        {{ transaction_line_columns() | join(',\n        ') }},
        is_cancellation_invoice,
        {{ product_key('stock_code') }} as product_key
    from {{ ref('int_transaction_lines_classified') }}
    where line_status = 'returned'

),

returned_products as (

    select distinct
        customer_id,
        product_key
    from returns

),

purchases as (

    select
        classified.customer_id,
        returned_products.product_key,
        classified.invoiced_at,
        classified.invoice_date,
        classified.quantity
    from {{ ref('int_transaction_lines_classified') }} as classified
    inner join returned_products
        on
            classified.customer_id = returned_products.customer_id
            and {{ product_key('classified.stock_code') }} = returned_products.product_key
    where classified.line_status = 'clean'

),

purchased_before as (

    select
        returns.transaction_line_id,
        sum(purchases.quantity) as purchased_quantity_before,
        max(purchases.invoice_date) as last_purchase_date_before
    from returns
    inner join purchases
        on {{ return_matches_purchase('returns', 'purchases') }}
    group by returns.transaction_line_id

),

-- Returns of a product take back, in order, what was bought before them and not yet
-- taken back by an earlier return's *matched* part: an unmatched return (goods bought
-- before the data starts) uses up nothing. With P = quantity bought before a return and
-- Q = quantity returned up to and including it, the cumulative matched quantity is
-- M = Q + min(0, min over this and earlier returns of (P - Q)), which the recursion
-- M(i) = min(M(i-1) + q(i), P(i)) unrolls to; the return matches M(i) - M(i-1).
cumulative as (

    select
        returns.transaction_line_id,
        returns.customer_id,
        returns.product_key,
        returns.invoiced_at,
        abs(returns.quantity) as returned_quantity,
        cast(coalesce(purchased_before.purchased_quantity_before, 0) as decimal(18, 3))
            as purchased_quantity_before,
        purchased_before.last_purchase_date_before,
        sum(abs(returns.quantity)) over returns_so_far as returned_quantity_so_far
    from returns
    left join purchased_before on returns.transaction_line_id = purchased_before.transaction_line_id
    window returns_so_far as (
        partition by returns.customer_id, returns.product_key
        order by returns.invoiced_at, returns.transaction_line_id
        rows between unbounded preceding and current row
    )

),

matched_so_far as (

    select
        *,
        returned_quantity_so_far + least(
            0,
            min(purchased_quantity_before - returned_quantity_so_far) over (
                partition by customer_id, product_key
                order by invoiced_at, transaction_line_id
                rows between unbounded preceding and current row
            )
        ) as matched_quantity_so_far
    from cumulative

),

matched as (

    select
        returns.*,
        matched_so_far.returned_quantity,
        abs(returns.line_amount) as returned_amount,
        matched_so_far.purchased_quantity_before,
        matched_so_far.last_purchase_date_before,
        cast(
            matched_so_far.matched_quantity_so_far
            - coalesce(lag(matched_so_far.matched_quantity_so_far) over (
                partition by matched_so_far.customer_id, matched_so_far.product_key
                order by matched_so_far.invoiced_at, matched_so_far.transaction_line_id
            ), 0)
            as decimal(18, 3)
        ) as matched_quantity

    from returns
    inner join matched_so_far on returns.transaction_line_id = matched_so_far.transaction_line_id

),

final as (

    select
        {{ transaction_line_columns() | join(',\n        ') }},
        is_cancellation_invoice,
        returned_quantity,
        returned_amount,
        purchased_quantity_before,
        last_purchase_date_before,
        matched_quantity,
        cast(matched_quantity * unit_price as decimal(18, 6)) as matched_amount,
        case
            when matched_quantity = returned_quantity then 'matched'
            when matched_quantity > 0 then 'partially_matched'
            else 'unmatched'
        end as match_status

    from matched

)

select * from final
