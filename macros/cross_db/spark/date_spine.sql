{#- One row per day from start_date (inclusive) to end_date (exclusive): Spark
    generates them with sequence() and explode(); sequence() fails on a stop before its
    start, so an empty range is an empty array. -#}
{% macro spark__date_spine(start_date, end_date) -%}
    select explode(
        case
            when cast({{ start_date }} as date) < cast({{ end_date }} as date)
                then sequence(cast({{ start_date }} as date), date_sub(cast({{ end_date }} as date), 1), interval 1 day)
            else cast(array() as array<date>)
        end
    ) as date_day
{%- endmacro %}
