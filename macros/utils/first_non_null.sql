{#- The first non-null of the SQL `expressions`: the expression itself when there is
    one (`coalesce` wants two or more on some engines). -#}
{% macro first_non_null(expressions) -%}
    {%- if expressions | length == 1 -%}
        {{ expressions[0] }}
    {%- else -%}
        coalesce({{ expressions | join(', ') }})
    {%- endif -%}
{%- endmacro %}
