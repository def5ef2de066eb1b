{#- The staged lines that repeat an earlier line exactly: all eight values below
    equal (the first copy, the lowest line id, is not listed). A table of the few
    such lines, so that flagging every line is a join to it and not a window over
    every line. -#}
{%- set text_columns = ['invoice_no', 'stock_code', 'description', 'customer_id', 'country'] -%}
with

-- Lines that share the five text values are found first with one aggregate over a hash
-- of them (row_hash: no casts, one 64-bit key); only those few lines go through the exact
-- window. Equal lines always have equal hashes, and the window compares the values
-- themselves, so the result is the window's over every line at a fraction of its cost.
repeated_text_hashes as (

    select {{ row_hash(text_columns) }} as text_hash
    from {{ ref('stg_shop__transactions') }}
    group by 1
    having count(*) > 1

),

occurrences as (

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
        {{ row_hash(text_columns) }}
        in (select repeated_text_hashes.text_hash from repeated_text_hashes)

),

final as (

    select
        transaction_line_id,
        occurrence
    from occurrences
    where occurrence > 1

)

select * from final
