{#- One row per raw line of the shop's export, renamed to canonical names and
    cast. Nothing is filtered here: classification happens downstream, and the
    raw text of every value that can fail to parse is kept for the quarantine. -#}
with

-- The line id is the position in the export (see the macro for how DuckDB numbers it).
source as {{ numbered_by_position(source('shop', 'transactions'), 'source_line_number') }},

renamed as (

    select
        -- Position in the export: the key that tells exact copies apart.
        source_line_number as transaction_line_id,
        trim({{ raw_column('invoice_no') }}) as invoice_no,
        trim({{ raw_column('stock_code') }}) as stock_code,
        -- Trailing spaces are formatting, not content (they also differ between copies of a line).
        nullif(trim({{ raw_column('description') }}), '') as description,
        {{ raw_column('quantity') }} as quantity_raw,
        {{ raw_column('unit_price') }} as price_raw,
        {{ raw_column('invoice_date') }} as invoice_date_raw,
        -- Exports that went through a spreadsheet write ids as floats: 12923.0.
        nullif(regexp_replace(trim({{ raw_column('customer_id') }}), '\.0+$', ''), '') as customer_id,
        nullif(trim({{ raw_column('country') }}), '') as country

    from source

),

typed as (

    select
        transaction_line_id,
        invoice_no,
        stock_code,
        description,
        try_cast(quantity_raw as decimal(18, 3)) as quantity,
        {% if var('raw_price_is_line_total') -%}
        try_cast(price_raw as decimal(18, 4)) / nullif(try_cast(quantity_raw as decimal(18, 3)), 0)
        {%- else -%}
        try_cast(price_raw as decimal(18, 4))
        {%- endif %} as unit_price,
        {{ parse_timestamp('trim(invoice_date_raw)', var('raw_invoice_date_formats')) }} as invoiced_at,
        customer_id,
        country,
        quantity_raw,
        price_raw,
        invoice_date_raw

    from renamed

),

final as (

    select
        transaction_line_id,
        invoice_no,
        stock_code,
        description,
        quantity,
        cast(unit_price as decimal(18, 4)) as unit_price,
        cast(quantity * unit_price as decimal(18, 4)) as line_amount,
        cast(invoiced_at as timestamp) as invoiced_at,
        cast(invoiced_at as date) as invoice_date,
        customer_id,
        country,
        quantity_raw,
        price_raw,
        invoice_date_raw

    from typed

)

select * from final
