{#- Returned lines (cancellations and negative quantities of customers), each
    with its match to the customer's earlier purchases. -#}
with

returns as (

    select * from {{ ref('int_return_lines_matched') }}

),

final as (

    select
        {{ transaction_line_columns() | join(',\n        ') }},
        is_cancellation_invoice,
        returned_quantity,
        returned_amount,
        purchased_quantity_before,
        matched_quantity,
        matched_amount,
        match_status
    from returns

)

select * from final
