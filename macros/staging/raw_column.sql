{#- The shop's column for a canonical name, read as text.
    The mapping lives in var('raw_columns'), so a new export format is a
    configuration change, never a SQL edit. -#}
{% macro raw_column(canonical_name) -%}
    {%- set mapping = var('raw_columns') -%}
    {%- if canonical_name not in mapping -%}
        {{ exceptions.raise_compiler_error("var('raw_columns') has no entry for '" ~ canonical_name ~ "'") }}
    {%- endif -%}
    cast({{ adapter.quote(mapping[canonical_name]) }} as {{ dbt.type_string() }})
{%- endmacro %}
