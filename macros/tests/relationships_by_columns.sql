{#- Fails for every row of the model whose values of the keys of `columns` have no
    row of `to` with the same values in the columns they map to (a foreign key over
    several columns, where dbt's relationships test takes one). Rows with a null in
    one of the model's columns are not checked: pair it with not_null. -#}
{% test relationships_by_columns(model, to, columns) %}
with

child as (

    select * from {{ model }}

),

parent as (

    select * from {{ to }}

)

select
    {%- for child_column in columns %}
    child.{{ child_column }}{{ ',' if not loop.last }}
    {%- endfor %}
from child
where
    not exists (
        select 1
        from parent
        where
            {%- for child_column, parent_column in columns.items() %}
            {{ 'and ' if not loop.first }}parent.{{ parent_column }} = child.{{ child_column }}
            {%- endfor %}
    )
    {%- for child_column in columns %}
    and child.{{ child_column }} is not null
    {%- endfor %}
{% endtest %}
