{#- DuckDB implementation of dbt's built-in `unique` test (dbt dispatches `test_unique`
    to `duckdb__test_unique` in the root project before its own `default__test_unique`).
    Same result: one row per repeated value with its number of records. It sorts instead
    of hashing: dbt's version groups by the column, and with one group per line the hash
    table of a key over 100 million lines outgrows memory and becomes the slowest query
    of the build (about 35 s against 5 to 10 s for the sort, measured on this 2-core
    machine). Other adapters keep dbt's version: a window over the whole table with one
    ordering does not distribute. -#}
{% macro duckdb__test_unique(model, column_name) %}

with

ordered as (

    select
        {{ column_name }} as unique_field,
        lead({{ column_name }}) over (order by {{ column_name }}) as next_value
    from {{ model }}
    where {{ column_name }} is not null

)

select
    unique_field,
    count(*) + 1 as n_records
from ordered
where unique_field = next_value
group by unique_field

{% endmacro %}
