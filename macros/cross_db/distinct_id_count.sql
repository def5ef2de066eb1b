{#- The number of distinct values of an integer id column, as an aggregate expression.
    With the smallest and largest id the column can hold (integers, e.g. from
    line_id_bounds), DuckDB counts them with a bitmap; ids outside the bounds are not
    counted (so a check of distinct ids = rows fails on them). -#}
{% macro distinct_id_count(column_name, min_value=none, max_value=none) -%}
    {{ return(adapter.dispatch('distinct_id_count', 'customer_segmentation')(column_name, min_value, max_value)) }}
{%- endmacro %}

{% macro default__distinct_id_count(column_name, min_value, max_value) -%}
    count(distinct {{ column_name }})
{%- endmacro %}

{#- One bit per possible id between the bounds, counted: exact like count(distinct) with
    no hash table, about 7 times faster at 10 million ids on this machine, and 12.5 MB of
    bits at 100 million, where a hash table of every id outgrew memory. Without bounds,
    count(distinct): DuckDB's own bounds come from statistics a view does not always
    carry. -#}
{% macro duckdb__distinct_id_count(column_name, min_value, max_value) -%}
    {%- if min_value is none or max_value is none -%}
    count(distinct {{ column_name }})
    {%- else -%}
    bit_count(bitstring_agg(
        case when {{ column_name }} between {{ min_value }} and {{ max_value }} then {{ column_name }} end,
        {{ min_value }}, {{ max_value }}
    ))
    {%- endif -%}
{%- endmacro %}

{#- [smallest, largest] id of a relation's column, read when the build runs; [none, none]
    while parsing or compiling without a build, or when the relation has no row. A table
    answers from its column in a few milliseconds. -#}
{% macro line_id_bounds(relation, column_name) -%}
    {%- if execute and flags.WHICH in ('build', 'test', 'retry') -%}
        {%- set row = run_query("select min(" ~ column_name ~ "), max(" ~ column_name ~ ") from " ~ relation).rows[0] -%}
        {{ return([row[0], row[1]]) }}
    {%- endif -%}
    {{ return([none, none]) }}
{%- endmacro %}
