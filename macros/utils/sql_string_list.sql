{#- A list of values as a SQL list of quoted string literals, quotes escaped:
    ['At Risk', "Can't Lose Them"] -> 'At Risk', 'Can''t Lose Them'.
    For `in (...)` filters on names that come from vars. -#}
{% macro sql_string_list(values) -%}
    {%- set quoted = [] -%}
    {%- for value in values -%}
        {%- do quoted.append("'" ~ (value | string | replace("'", "''")) ~ "'") -%}
    {%- endfor -%}
    {{ quoted | join(', ') }}
{%- endmacro %}
