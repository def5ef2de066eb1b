{#- The shop's column for a canonical name, read as text.
    The mapping lives in var('raw_columns'), so a new export format is a
    configuration change, never a SQL edit. Only description, country,
    invoice_no and stock_code may be mapped to null (an export without them);
    the other columns are required. -#}
{% macro raw_column(canonical_name) -%}
    {%- set mapping = var('raw_columns') -%}
    {%- set column = mapping.get(canonical_name) -%}
    {#- Only when running: while dbt parses, validate_settings (on-run-start) has not yet had
        its say, and it names every bad var at once. -#}
    {%- if column is none and canonical_name not in optional_raw_columns() and execute -%}
        {{ exceptions.raise_compiler_error("var('raw_columns') must name the export's column for '"
            ~ canonical_name ~ "' (only " ~ optional_raw_columns() | join(', ') ~ " may be null)") }}
    {%- elif column is none -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        cast({{ adapter.quote(column) }} as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}

{#- The canonical columns an export may leave out (var('raw_columns') maps them to
    null); validate_settings() rejects a null for any other. -#}
{% macro optional_raw_columns() -%}
    {{ return(['invoice_no', 'stock_code', 'description', 'country']) }}
{%- endmacro %}

{#- The shop's column as trimmed text, null when it is empty or one of the
    var('raw_null_tokens') ('NULL', 'NaN', '#N/A', ... compared case-insensitively):
    exports written by spreadsheets and pandas spell a missing value in words. -#}
{% macro raw_text(canonical_name) -%}
    {%- set tokens = [''] + (var('raw_null_tokens') | map('upper') | list) -%}
    {%- set text = 'trim(' ~ raw_column(canonical_name) ~ ')' -%}
    case
        when {{ text_in_list('upper(' ~ text ~ ')', tokens) }} then null
        else {{ text }}
    end
{%- endmacro %}
