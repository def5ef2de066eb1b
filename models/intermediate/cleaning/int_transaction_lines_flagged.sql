{#- Every staged line with one boolean per cleaning rule (is_<reason_code>).
    The flags are independent; int_transaction_lines_classified picks the first
    true one in var('cleaning_rule_precedence'). Outlier flags need thresholds
    computed from the other flags, so they are added there. -#}
{#- A view: every line is written once, in staging. The flags cost a scan of it and
    joins to small tables (the repeated lines, the non-product codes), which is less
    than writing every line a second time. -#}
{{ config(materialized='view') }}
with

staged as (

    select * from {{ ref('stg_shop__transactions') }}

),

as_of as (

    select
        as_of_date,
        stray_dates_from
    from {{ ref('int_as_of_date') }}

),

duplicates as (

    select
        transaction_line_id,
        occurrence
    from {{ ref('int_exact_duplicate_lines') }}

),

non_product_stock_codes as (

    select stock_code from {{ ref('int_non_product_stock_codes') }}

),

with_context as (

    select
        staged.*,
        as_of.as_of_date,
        as_of.stray_dates_from,
        coalesce(
            upper(left(staged.invoice_no, length('{{ var("cancellation_invoice_prefix") }}')))
            = upper('{{ var("cancellation_invoice_prefix") }}'),
            false
        ) as is_cancellation_invoice,
        non_product_stock_codes.stock_code is not null as is_non_product,
        coalesce(duplicates.occurrence, 1) as occurrence

    from staged
    cross join as_of
    left join non_product_stock_codes
        on staged.stock_code = non_product_stock_codes.stock_code
    left join duplicates
        on staged.transaction_line_id = duplicates.transaction_line_id

),

flagged as (

    select
        *,
        invoiced_at is null
        or invoice_date < cast('{{ var("earliest_valid_date") }}' as date) as is_unparseable_date,
        not has_numeric_values as is_unparseable_number,
        not has_exact_values as is_unrepresentable_number,
        occurrence > 1 as is_exact_duplicate,
        coalesce(invoice_date >= stray_dates_from, false) as is_stray_future_date,
        coalesce(invoice_date >= as_of_date, false) as is_after_as_of_date,
        coalesce(quantity < 0 and customer_id is null and unit_price = 0, false) as is_stock_adjustment,
        customer_id is null as is_missing_customer,
        coalesce(is_cancellation_invoice and quantity > 0, false) as is_cancellation_positive_quantity,
        coalesce(quantity = 0, false) as is_zero_quantity,
        coalesce(unit_price <= 0, false) as is_invalid_price,
        coalesce(is_cancellation_invoice or quantity < 0, false) as is_return

    from with_context

),

final as (

    select
        {{ transaction_line_columns() | join(',\n        ') }},
        quantity_raw,
        price_raw,
        invoice_date_raw,
        as_of_date,
        stray_dates_from,
        is_cancellation_invoice,
        is_unparseable_date,
        is_unparseable_number,
        is_unrepresentable_number,
        is_exact_duplicate,
        is_stray_future_date,
        is_after_as_of_date,
        is_stock_adjustment,
        is_missing_customer,
        is_non_product,
        is_cancellation_positive_quantity,
        is_zero_quantity,
        is_invalid_price,
        is_return

    from flagged

)

select * from final
