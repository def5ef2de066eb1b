{#- The columns every table of transaction lines carries, in their order: the
    line's id and its parsed values (the contract of purchase_lines and the first
    columns of return_lines). One list, so that a column added to the lines is
    added everywhere the lines are carried through. -#}
{% macro transaction_line_columns() -%}
    {{ return([
        'transaction_line_id', 'invoice_no', 'stock_code', 'description', 'quantity', 'unit_price',
        'line_amount', 'invoiced_at', 'invoice_date', 'customer_id', 'country',
    ]) }}
{%- endmacro %}
