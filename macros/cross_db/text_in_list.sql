{#- Whether a text expression equals one of `values` (text from vars or seeds), as
    `expression in (...)` does: true, false, or null for a null expression. -#}
{% macro text_in_list(expression, values) -%}
    {{ return(adapter.dispatch('text_in_list', 'customer_segmentation')(expression, values)) }}
{%- endmacro %}

{% macro default__text_in_list(expression, values) -%}
    {{ expression }} in ({{ sql_string_list(values) }})
{%- endmacro %}

{#- DuckDB plans an `in` list of constants in staging's query as a mark join (a hash
    join per text column of every line); a list lookup is one function call per row and
    took staging's parse of 10 million lines from 3.9 s to 2.5 s. -#}
{% macro duckdb__text_in_list(expression, values) -%}
    list_contains([{{ sql_string_list(values) }}], {{ expression }})
{%- endmacro %}
