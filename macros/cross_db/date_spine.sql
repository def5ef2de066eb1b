{#- A query returning one row per day, column date_day (a date), from
    start_date (inclusive) to end_date (exclusive), like dbt_utils.date_spine
    but without the package. Both arguments are SQL expressions, e.g. a date
    literal or a scalar subquery such as "(select first_date from bounds)";
    the bounds may come from the data, so nothing is fixed at compile time.
    Use the result as the body of a CTE. -#}
{% macro date_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('date_spine', 'customer_segmentation')(start_date, end_date)) }}
{%- endmacro %}

{#- Portable fallback: a recursive CTE, which most warehouses support. -#}
{% macro default__date_spine(start_date, end_date) -%}
    with recursive days (date_day) as (

        select cast({{ start_date }} as date)
        where cast({{ start_date }} as date) < cast({{ end_date }} as date)

        union all

        select cast({{ dbt.dateadd('day', 1, 'date_day') }} as date)
        from days
        where cast({{ dbt.dateadd('day', 1, 'date_day') }} as date) < cast({{ end_date }} as date)

    )

    select date_day from days
{%- endmacro %}

{#- DuckDB generates the days in one table function call. -#}
{% macro duckdb__date_spine(start_date, end_date) -%}
    select cast(range as date) as date_day
    from range(
        cast({{ start_date }} as timestamp),
        cast({{ end_date }} as timestamp),
        interval 1 day
    )
{%- endmacro %}
