{#- Returned lines (cancellations and negative quantities of customers), each
    with its match to the customer's earlier purchases. -#}
{{ select_contract_columns(ref('int_return_lines_matched')) }}
