{#- TEMPORARY, for the port's groundwork only. The marts' enforced contracts
    (models/marts/*.yml) declare text columns `varchar`; dbt checks a contract by
    running `select cast(null as <declared type>)`, which Spark rejects for a varchar
    without a length. The port declares `string` there and removes this file; until
    then the check on Spark reads `varchar` as `string`. -#}
{% macro spark__get_empty_schema_sql(columns) -%}
    {%- set mapped = {} -%}
    {%- for name in columns -%}
        {%- set column = {} -%}
        {%- do column.update(columns[name]) -%}
        {%- if (column.get('data_type') or '') | lower | trim == 'varchar' -%}
            {%- do column.update({'data_type': 'string'}) -%}
        {%- endif -%}
        {%- do mapped.update({name: column}) -%}
    {%- endfor -%}
    {{ return(dbt.default__get_empty_schema_sql(mapped)) }}
{%- endmacro %}
