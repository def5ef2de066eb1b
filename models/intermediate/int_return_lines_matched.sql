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
        transaction_line_id,
        invoice_no,
        stock_code,
        upper(stock_code) as product_key,
        description,
        quantity,
        unit_price,
        line_amount,
        invoiced_at,
        invoice_date,
        customer_id,
        country,
        is_cancellation_invoice
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
        classified.quantity
    from {{ ref('int_transaction_lines_classified') }} as classified
    inner join returned_products
        on
            classified.customer_id = returned_products.customer_id
            and upper(classified.stock_code) = returned_products.product_key
    where classified.line_status = 'clean'

),

purchased_before as (

    select
        returns.transaction_line_id,
        sum(purchases.quantity) as purchased_quantity_before
    from returns
    inner join purchases
        on
            returns.customer_id = purchases.customer_id
            and returns.product_key = purchases.product_key
            and returns.invoiced_at >= purchases.invoiced_at
    group by returns.transaction_line_id

),

returned_before as (

    select
        transaction_line_id,
        coalesce(
            sum(abs(quantity)) over (
                partition by customer_id, product_key
                order by invoiced_at, transaction_line_id
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as returned_quantity_before
    from returns

),

matched as (

    select
        returns.*,
        abs(returns.quantity) as returned_quantity,
        abs(returns.line_amount) as returned_amount,
        cast(coalesce(purchased_before.purchased_quantity_before, 0) as decimal(18, 3))
            as purchased_quantity_before,
        returned_before.returned_quantity_before,
        cast(greatest(
            0,
            least(
                abs(returns.quantity),
                coalesce(purchased_before.purchased_quantity_before, 0) - returned_before.returned_quantity_before
            )
        ) as decimal(18, 3)) as matched_quantity

    from returns
    inner join returned_before on returns.transaction_line_id = returned_before.transaction_line_id
    left join purchased_before on returns.transaction_line_id = purchased_before.transaction_line_id

),

final as (

    select
        transaction_line_id,
        invoice_no,
        stock_code,
        description,
        quantity,
        unit_price,
        line_amount,
        invoiced_at,
        invoice_date,
        customer_id,
        country,
        is_cancellation_invoice,
        returned_quantity,
        returned_amount,
        purchased_quantity_before,
        matched_quantity,
        cast(matched_quantity * unit_price as decimal(18, 4)) as matched_amount,
        case
            when matched_quantity = returned_quantity then 'matched'
            when matched_quantity > 0 then 'partially_matched'
            else 'unmatched'
        end as match_status

    from matched

)

select * from final
