{#- Every line that is neither a clean purchase nor a return, with the reason
    and the raw values as the export had them. -#}
with

classified as (

    select * from {{ ref('int_transaction_lines_classified') }}
    where line_status = 'quarantined'

),

rules as (

    select
        reason_code,
        rule
    from {{ ref('cleaning_rules') }}

),

final as (

    select
        classified.transaction_line_id,
        classified.reason_code,
        rules.rule as reason,
        classified.invoice_no,
        classified.stock_code,
        classified.description,
        classified.quantity_raw,
        classified.price_raw,
        classified.invoice_date_raw,
        classified.customer_id,
        classified.country,
        classified.quantity,
        classified.unit_price,
        classified.line_amount,
        classified.invoiced_at,
        classified.outlier_quantity_threshold,
        classified.outlier_line_amount_threshold
    from classified
    left join rules on classified.reason_code = rules.reason_code

)

select * from final
