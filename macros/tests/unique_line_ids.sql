{#- The line id is unique and never null, checked in one scan with one aggregate
    (dbt's unique and not_null read it twice, and group by every id). With
    `sequential`, the ids are also exactly 1..n (staging numbers lines by position):
    then every other line table's ids are a subset of a known range. Fails with one
    row giving the counts. -#}
{% test unique_line_ids(model, column_name, sequential=false, ids_from=none) %}
{#- The ids' bounds come from the model, or from `ids_from` (a table whose ids the
    model's are a subset of: a view's own bounds would cost a scan of it). -#}
{%- set bounds = line_id_bounds(ids_from or model, column_name) -%}
with

counts as (

    select
        count(*) as line_rows,
        count({{ column_name }}) as ids,
        {{ distinct_id_count(column_name, bounds[0], bounds[1]) }} as distinct_ids,
        min({{ column_name }}) as first_id,
        max({{ column_name }}) as last_id
    from {{ model }}

)

select *
from counts
where
    ids != line_rows
    or distinct_ids != line_rows
    {%- if sequential %}
    or (line_rows > 0 and (first_id != 1 or last_id != line_rows))
    {%- endif %}
{% endtest %}
