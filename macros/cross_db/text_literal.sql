{#- A text value as a SQL string literal, quotes (and on Spark backslashes) escaped:
    "Can't Lose Them" -> 'Can''t Lose Them' on DuckDB, 'Can\'t Lose Them' on Spark.
    For names and tokens that come from vars or seeds. -#}
{% macro text_literal(value) -%}
    {{ return(adapter.dispatch('text_literal', 'customer_segmentation')(value)) }}
{%- endmacro %}

{#- The SQL standard: a quote inside the literal is doubled. -#}
{% macro default__text_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{#- Spark reads two adjacent literals as one ('Can''t' is 'Cant') and a backslash as an
    escape ('\.' is '.'): both are escaped with a backslash. -#}
{% macro spark__text_literal(value) -%}
    '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}
