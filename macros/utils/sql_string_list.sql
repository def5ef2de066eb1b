{#- A list of values as a SQL list of quoted string literals (text_literal):
    ['At Risk', "Can't Lose Them"] -> 'At Risk', 'Can''t Lose Them' (on DuckDB).
    For `in (...)` filters on names that come from vars. -#}
{% macro sql_string_list(values) -%}
    {%- set quoted = [] -%}
    {%- for value in values -%}
        {%- do quoted.append(text_literal(value)) -%}
    {%- endfor -%}
    {{ quoted | join(', ') }}
{%- endmacro %}
