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

{#- Spark before 4.1 reads 'Can''t' as two adjacent literals, joined: 'Cant' (SPARK-52545
    made '' a quote), and every version reads a backslash as an escape ('\.' is '.'):
    both are escaped with a backslash, which every version reads. -#}
{% macro spark__text_literal(value) -%}
    '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}
