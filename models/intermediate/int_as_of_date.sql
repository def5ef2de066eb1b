{#- One row: the snapshot day. Only lines dated strictly before it count, and
    recency is measured from it. Never the wall clock: a rebuild gives the
    same answer. -#}
with

dated as (

    select invoice_date from {{ ref('stg_shop__transactions') }}
    where invoice_date >= cast('{{ var("earliest_valid_date") }}' as date)

),

final as (

    select
        {% if var('as_of_date') -%}
        cast('{{ var("as_of_date") }}' as date)
        {%- else -%}
        cast({{ dbt.dateadd('day', 1, 'max(invoice_date)') }} as date)
        {%- endif %} as as_of_date,
        {{ 'true' if var('as_of_date') else 'false' }} as is_configured,
        max(invoice_date) as last_transaction_date

    from dated

)

select * from final
