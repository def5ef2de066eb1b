{#- The number of distinct values of an integer id column, as an aggregate expression. -#}
{% macro distinct_id_count(column_name) -%}
    {{ return(adapter.dispatch('distinct_id_count', 'customer_segmentation')(column_name)) }}
{%- endmacro %}

{% macro default__distinct_id_count(column_name) -%}
    count(distinct {{ column_name }})
{%- endmacro %}

{#- One bit per possible id between the column's smallest and largest value (DuckDB takes
    them from the column's statistics), counted: exact like count(distinct) with no hash
    table, about 7 times faster at 10 million ids on this machine, and 12.5 MB of bits at
    100 million, where a hash table of every id outgrew memory. -#}
{% macro duckdb__distinct_id_count(column_name) -%}
    bit_count(bitstring_agg({{ column_name }}))
{%- endmacro %}
