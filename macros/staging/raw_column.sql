{#- The shop's column for a canonical name, read as text.
    The mapping lives in var('raw_columns'), so a new export format is a
    configuration change, never a SQL edit. Only description and country may be
    mapped to null (an export without them); the other columns are required. -#}
{% macro raw_column(canonical_name) -%}
    {%- set mapping = var('raw_columns') -%}
    {%- set optional = ['description', 'country'] -%}
    {%- if canonical_name not in mapping and canonical_name not in optional -%}
        {{ exceptions.raise_compiler_error("var('raw_columns') has no entry for '" ~ canonical_name ~ "'") }}
    {%- endif -%}
    {%- set column = mapping.get(canonical_name) -%}
    {%- if column is none and canonical_name not in optional -%}
        {{ exceptions.raise_compiler_error("var('raw_columns') must name a column for '" ~ canonical_name ~ "'") }}
    {%- elif column is none -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        cast({{ adapter.quote(column) }} as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}
