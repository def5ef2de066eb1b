{#- The first snapshot of the segment history that counts a line of day
    `date_column`: the next period boundary on `grain` after that day, but no
    earlier than the first snapshot (the lines before it all count there) and no
    later than the last, the as-of snapshot (every clean line is dated before the
    as-of date). `bounds` is a CTE with first_snapshot_date and last_snapshot_date. -#}
{% macro first_counting_snapshot(date_column, grain, bounds) -%}
    least(
        greatest(
            cast({{ dbt.dateadd(grain, 1, dbt.date_trunc(grain, date_column)) }} as date),
            {{ bounds }}.first_snapshot_date
        ),
        {{ bounds }}.last_snapshot_date
    )
{%- endmacro %}
