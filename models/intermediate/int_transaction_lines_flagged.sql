{#- Every staged line with one boolean per cleaning rule (is_<reason_code>).
    The flags are independent; int_transaction_lines_classified picks the first
    true one in var('cleaning_rule_precedence'). Outlier flags need thresholds
    computed from the other flags, so they are added there. -#}
{%- set duplicate_text_columns = ['invoice_no', 'stock_code', 'description', 'customer_id', 'country'] -%}
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

non_product_codes as (

    select
        upper(stock_code) as code,
        match_type
    from {{ ref('non_product_stock_codes') }}

),

-- Matched once per distinct code, not once per line: prefix rules cannot use a hash join.
distinct_stock_codes as (

    select distinct stock_code from {{ ref('stg_shop__transactions') }}

),

non_product_stock_codes as (

    select distinct distinct_stock_codes.stock_code
    from distinct_stock_codes
    inner join non_product_codes
        on (
            non_product_codes.match_type = 'exact'
            and upper(distinct_stock_codes.stock_code) = non_product_codes.code
        )
        or (
            non_product_codes.match_type = 'prefix'
            and left(upper(distinct_stock_codes.stock_code), length(non_product_codes.code))
            = non_product_codes.code
        )

),

-- Exact duplicates share all eight values below. Lines that share the five text values
-- are found first with one aggregate over a hash of them (cheap: no casts, one 64-bit
-- key); only those few lines go through the exact window. Equal lines always have equal
-- hashes, and the window compares the values themselves, so the result is the window's
-- over every line at a fraction of its cost. The model is read once per CTE (no CTE is
-- used twice, so DuckDB copies nothing).
repeated_text_hashes as (

    select hash({{ duplicate_text_columns | join(', ') }}) as text_hash
    from {{ ref('stg_shop__transactions') }}
    group by 1
    having count(*) > 1

),

repeated_lines as (

    select
        transaction_line_id,
        row_number() over (
            partition by
                invoice_no,
                stock_code,
                description,
                coalesce(cast(quantity as {{ dbt.type_string() }}), quantity_raw),
                coalesce(cast(unit_price as {{ dbt.type_string() }}), price_raw),
                coalesce(cast(invoiced_at as {{ dbt.type_string() }}), invoice_date_raw),
                customer_id,
                country
            order by transaction_line_id
        ) as occurrence
    from {{ ref('stg_shop__transactions') }}
    where
        hash({{ duplicate_text_columns | join(', ') }})
        in (select repeated_text_hashes.text_hash from repeated_text_hashes)

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
        coalesce(repeated_lines.occurrence, 1) as occurrence

    from staged
    cross join as_of
    left join non_product_stock_codes
        on staged.stock_code = non_product_stock_codes.stock_code
    left join repeated_lines
        on staged.transaction_line_id = repeated_lines.transaction_line_id

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
