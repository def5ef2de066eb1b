{#- One row per raw line of the shop's export, renamed to canonical names and
    cast. Nothing is filtered here: classification happens downstream. The raw
    text of the numbers and of the date is kept only on the lines where it did
    not parse exactly (for the quarantine): everywhere else the typed value says
    all the text did, and writing the text of every line is the widest part of
    the table.
    Numbers are held in fixed decimal types (exact to the cent and beyond); a value
    those types cannot hold exactly is marked, never rounded silently. -#}
{%- set quantity_type = 'decimal(18, 3)' -%}
{%- set price_type = 'decimal(18, 6)' -%}
{%- set amount_type = 'decimal(18, 6)' -%}
{#- Wide enough for any held quantity times any held price, and for the raw text; slow in
    DuckDB (128-bit), so only lines the fast checks cannot settle use it. -#}
{%- set exact_type = 'decimal(38, 9)' -%}
{#- A quantity times a price below this (in value) fits a 64-bit decimal of scale 9. -#}
{%- set small_amount = '1e9' -%}
{%- set wide_product = 'cast(quantity as ' ~ exact_type ~ ') * cast(price_held as ' ~ exact_type ~ ')' -%}
{%- set date_column = var('raw_columns')['invoice_date'] -%}
{%- set source_types = source_column_types(source('shop', 'transactions')) -%}
{#- Incremental (README "Incremental runs"): a run stages only the lines after the last
    one stored, when the export has only grown at its end (staged_lines_growth checks it
    against stg_shop__loaded_files); otherwise it stages every line again, emptying the
    table first (the pre-hook reads the decision from this model's compiled SQL), so old
    and new lines are never mixed. The post-hooks record the files read
    (stg_shop__loaded_files) in the same transaction. A warehouse table as the source has no files to
    compare: it is staged whole every run. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    full_refresh=(true if raw_source_is_table() else none),
    pre_hook="{% if is_incremental() and '-- every line staged again' in model.compiled_code %}truncate table {{ this }}{% endif %}",
    post_hook=[
        "{{ record_staged_files(this, ref('stg_shop__source_files'), 'drop') }}",
        "{{ record_staged_files(this, ref('stg_shop__source_files'), 'create') }}",
    ]
) }}
{%- set growth = staged_lines_growth(this, ref('stg_shop__source_files')) if is_incremental() else none -%}
{%- if growth is not none and growth.rebuild_reason is not none %}
-- every line staged again: {{ growth.rebuild_reason | replace('\n', ' ') }}
{%- set growth = none -%}
{%- endif %}
-- depends_on: {{ ref('stg_shop__source_files') }}
with

{% if growth is none -%}
-- The line id is the position in the export (see the macro for how DuckDB numbers it).
source as {{ numbered_by_position(source('shop', 'transactions'), 'source_line_number') }},
{%- else -%}
-- Only the last staged file and the new ones are read; positions continue after the
-- files before them, and only lines after the last stored one are new.
files_read as {{ numbered_by_position(growth.relation, 'position_in_read') }},

source as (

    select
        position_in_read + {{ growth.lines_before }} as source_line_number,
        *
    from files_read
    where position_in_read + {{ growth.lines_before }} > {{ growth.loaded_lines }}

),
{%- endif %}

renamed as (

    select
        -- Position in the export: the key that tells exact copies apart.
        source_line_number as transaction_line_id,
        {{ raw_text('invoice_no') }} as invoice_no,
        {{ raw_text('stock_code') }} as stock_code,
        -- Trailing spaces are formatting, not content (they also differ between copies of a line).
        {{ raw_text('description') }} as description,
        {{ raw_text('quantity') }} as quantity_raw,
        {{ raw_text('unit_price') }} as price_raw,
        {{ raw_column('invoice_date') }} as invoice_date_raw,
        {{ invoice_timestamp(date_column, source_types.get(date_column | lower)) }} as invoiced_at,
        -- Exports that went through a spreadsheet write ids as floats: 12923.0.
        regexp_replace({{ raw_text('customer_id') }}, '[.]0+$', '') as customer_id,
        {{ raw_text('country') }} as country

    from source

),

numbers as (

    select
        *,
        try_cast(quantity_raw as double) as quantity_number,
        try_cast(price_raw as double) as price_number,
        try_cast(quantity_raw as {{ quantity_type }}) as quantity,
        try_cast(price_raw as {{ price_type }}) as price_held

    from renamed

),

held as (

    select
        *,
        -- A number is a finite decimal or float literal ('NaN' and 'inf' are not).
        coalesce({{ is_finite('quantity_number') }}, false) as is_quantity_number,
        coalesce({{ is_finite('price_number') }}, false) as is_price_number,
        {{ held_exactly('quantity', 'quantity_raw', 'quantity_number', exact_type) }} as is_quantity_exact,
        {{ held_exactly('price_held', 'price_raw', 'price_number', exact_type) }} as is_price_exact,
        -- Below this the product of the held values fits 64-bit decimals: exact and fast.
        coalesce(abs(quantity_number * price_number) < {{ small_amount }}, false) as is_small_amount
    from numbers

),

amounts as (

    select
        *,
        {% if var('raw_price_is_line_total') -%}
        -- The export holds the line total: it is the exact value; the unit price is derived.
        price_held as line_amount,
        try_cast(price_held / nullif(quantity, 0) as {{ price_type }}) as unit_price,
        is_price_exact as is_line_amount_exact
        {%- else -%}
        price_held as unit_price,
        case
            when is_small_amount then cast(quantity * price_held as {{ amount_type }})
            else try_cast({{ wide_product }} as {{ amount_type }})
        end as line_amount,
        -- Rounded to the amount's scale is exact only when nothing was rounded off.
        case
            when is_small_amount then cast(quantity * price_held as {{ amount_type }}) = quantity * price_held
            else try_cast({{ wide_product }} as {{ amount_type }}) = {{ wide_product }}
        end and is_price_exact as is_line_amount_exact
        {%- endif %}
    from held

),

checked as (

    select
        *,
        coalesce(is_quantity_exact and is_line_amount_exact, false) as is_exact,
        coalesce(
            cast(invoiced_at as date) >= cast('{{ var("earliest_valid_date") }}' as date), false
        ) as is_usable_date
    from amounts

),

final as (

    select
        transaction_line_id,
        -- Without invoice numbers, a customer's lines at one timestamp are one order.
        coalesce(
            invoice_no,
            'order ' || coalesce(customer_id, '') || ' ' || coalesce(cast(invoiced_at as {{ dbt.type_string() }}), '')
        ) as invoice_no,
        stock_code,
        description,
        quantity,
        unit_price,
        line_amount,
        cast(invoiced_at as timestamp) as invoiced_at,
        cast(invoiced_at as date) as invoice_date,
        customer_id,
        country,
        is_quantity_number and is_price_number as has_numeric_values,
        is_exact as has_exact_values,
        case when not (is_quantity_number and is_price_number and is_exact) then quantity_raw end as quantity_raw,
        case when not (is_quantity_number and is_price_number and is_exact) then price_raw end as price_raw,
        case when not is_usable_date then invoice_date_raw end as invoice_date_raw

    from checked

)

select * from final
