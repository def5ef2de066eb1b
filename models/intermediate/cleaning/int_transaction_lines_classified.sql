{#- Every raw line with exactly one reason code (the first matching rule in
    var('cleaning_rule_precedence')) and its status: clean, returned or
    quarantined. The outlier thresholds used are recorded on each line. -#}
{#- A view: it only adds a reason to the flagged lines, which every reader gets for
    the cost of a scan, instead of writing every line a second time. -#}
{{ config(materialized='view') }}
with

flagged as (

    select * from {{ ref('int_transaction_lines_flagged') }}

),

thresholds as (

    select
        quantity_threshold,
        line_amount_threshold
    from {{ ref('int_outlier_thresholds') }}

),

rules as (

    select
        reason_code,
        line_status
    from {{ ref('cleaning_rules') }}

),

with_outliers as (

    select
        flagged.*,
        thresholds.quantity_threshold as outlier_quantity_threshold,
        thresholds.line_amount_threshold as outlier_line_amount_threshold,
        coalesce(abs(flagged.quantity) > thresholds.quantity_threshold, false) as is_outlier_quantity,
        coalesce(abs(flagged.line_amount) > thresholds.line_amount_threshold, false) as is_outlier_value

    from flagged
    cross join thresholds

),

reasoned as (

    select
        *,
        {{ cleaning_reason() }} as reason_code
    from with_outliers

),

final as (

    select
        reasoned.transaction_line_id,
        rules.line_status,
        reasoned.reason_code,
        reasoned.invoice_no,
        reasoned.stock_code,
        reasoned.description,
        reasoned.quantity,
        reasoned.unit_price,
        reasoned.line_amount,
        reasoned.invoiced_at,
        reasoned.invoice_date,
        reasoned.customer_id,
        reasoned.country,
        reasoned.quantity_raw,
        reasoned.price_raw,
        reasoned.invoice_date_raw,
        reasoned.is_cancellation_invoice,
        reasoned.outlier_quantity_threshold,
        reasoned.outlier_line_amount_threshold

    from reasoned
    left join rules on reasoned.reason_code = rules.reason_code

)

select * from final
