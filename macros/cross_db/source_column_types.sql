{#- The warehouse type of each column of a relation, as a dict of lower-case column
    name -> lower-case type name; empty while dbt parses (nothing is read then). Lets
    staging use a typed column (a Parquet timestamp) as it is instead of casting it to
    text and parsing it back. -#}
{% macro source_column_types(relation) -%}
    {{ return(adapter.dispatch('source_column_types', 'customer_segmentation')(relation)) }}
{%- endmacro %}

{% macro default__source_column_types(relation) -%}
    {%- set types = {} -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do types.update({column.name | lower: column.data_type | lower}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(types) }}
{%- endmacro %}

{#- A DuckDB source can be a table function (read_csv, read_parquet): describe its query. -#}
{% macro duckdb__source_column_types(relation) -%}
    {%- set types = {} -%}
    {%- if execute -%}
        {%- set described = run_query('describe select * from ' ~ relation) -%}
        {%- for row in described.rows -%}
            {%- do types.update({row['column_name'] | lower: row['column_type'] | lower}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(types) }}
{%- endmacro %}
