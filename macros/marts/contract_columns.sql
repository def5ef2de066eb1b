{#- Every column of the model's contract (its properties file), in that order,
    cast to its data_type: for marts over a Python model, whose DataFrame types
    (object, int64, float64) the contract pins down. A column added to the
    contract is selected without touching the SQL. -#}
{% macro contract_columns() -%}
    {%- for column in model.columns.values() %}
        cast({{ column.name }} as {{ column.data_type }}) as {{ column.name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
