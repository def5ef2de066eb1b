{#- The whole query of a mart that passes a model's columns through: every column
    of the mart's contract (its properties file), in that order, cast to its
    data_type, from `relation`. For a Python model it pins the DataFrame's types
    (object, int64, float64) down; for a SQL model whose types already match it
    changes nothing. A column added to the contract is selected without touching
    the SQL. -#}
{% macro select_contract_columns(relation) -%}
select
    {%- for column in model.columns.values() %}
    cast({{ column.name }} as {{ column.data_type }}) as {{ column.name }}{{ ',' if not loop.last }}
    {%- endfor %}
from {{ relation }}
{%- endmacro %}
