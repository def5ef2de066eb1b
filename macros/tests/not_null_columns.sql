{#- Every listed column is non-null on every row, checked in one scan: one row per column
    that holds nulls, naming it with its count of null rows. One test per model instead of
    dbt's not_null per column: each test is a dbt node, and on a small build a node's own
    overhead (about 80 ms) is many times its query. The failure count is the number of null
    values, the sum of what the per-column tests would report. -#}
{% test not_null_columns(model, columns) %}
{{ config(fail_calc="coalesce(sum(null_rows), 0)") }}
{%- if columns is string or columns | length == 0 -%}
    {{ exceptions.raise_compiler_error(
        "not_null_columns on " ~ model ~ ": `columns` must be a non-empty list of column names, got "
        ~ columns ~ ".") }}
{%- endif %}
with

null_counts as (

    select
        {%- for column in columns %}
        count(*) - count({{ column }}) as null_rows_{{ loop.index }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}

),

by_column as (

    {%- for column in columns %}
    select
        '{{ column }}' as column_name,
        null_rows_{{ loop.index }} as null_rows
    from null_counts
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

)

select
    column_name,
    null_rows
from by_column
where null_rows > 0
{% endtest %}
