{#- Every line that is neither a clean purchase nor a return, with the reason
    and the raw values. Staging keeps the export's text only where it did not
    parse exactly; elsewhere the text is the value as read (a number without
    trailing zeros, the timestamp in ISO form). A view: the lines are written
    once, in staging. -#}
{{ config(materialized='view') }}
{#- The value the export's price column held. -#}
{%- set exported_price = 'line_amount' if var('raw_price_is_line_total') else 'unit_price' -%}
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
        coalesce(
            classified.quantity_raw,
            regexp_replace(cast(classified.quantity as {{ dbt.type_string() }}), '[.]?0+$', '')
        ) as quantity_raw,
        coalesce(
            classified.price_raw,
            regexp_replace(cast(classified.{{ exported_price }} as {{ dbt.type_string() }}), '[.]?0+$', '')
        ) as price_raw,
        coalesce(
            classified.invoice_date_raw, cast(classified.invoiced_at as {{ dbt.type_string() }})
        ) as invoice_date_raw,
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
