{#- The product a line is for, as returns are matched to purchases: the stock code
    without case. Without stock codes (an export that has none) all of a
    customer's goods are one product. -#}
{% macro product_key(stock_code) -%}
    coalesce(upper({{ stock_code }}), '')
{%- endmacro %}

{#- The join condition of a return and a purchase it can take goods back from: the
    same customer and product, bought at or before the return. Both relations
    carry customer_id, product_key and invoiced_at. Matching the returns and
    booking their refunds use the same condition, so a refund is always booked on
    a purchase the return was matched to. -#}
{% macro return_matches_purchase(returns, purchases) -%}
    {{ returns }}.customer_id = {{ purchases }}.customer_id
    and {{ returns }}.product_key = {{ purchases }}.product_key
    and {{ returns }}.invoiced_at >= {{ purchases }}.invoiced_at
{%- endmacro %}
