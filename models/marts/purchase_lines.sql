{#- The clean purchase lines RFM is computed from. A view: the lines are written
    once, in staging. -#}
{{ config(materialized='view') }}
with

classified as (

    select * from {{ ref('int_transaction_lines_classified') }}
    where line_status = 'clean'

),

final as (

    select
        {{ transaction_line_columns() | join(',\n        ') }}
    from classified

)

select * from final
