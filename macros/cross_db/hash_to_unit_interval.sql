{#- Maps text to a number in [0, 1) that depends only on the text, so a
    customer lands in the same bucket on every run and every warehouse that
    implements it the same way. -#}
{% macro hash_to_unit_interval(text_expression) -%}
    {{ return(adapter.dispatch('hash_to_unit_interval', 'customer_segmentation')(text_expression)) }}
{%- endmacro %}

{% macro default__hash_to_unit_interval(text_expression) -%}
    {{ exceptions.raise_compiler_error("hash_to_unit_interval is not implemented for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro duckdb__hash_to_unit_interval(text_expression) -%}
    {#- md5 rather than hash(): hash() is not guaranteed stable across DuckDB versions. -#}
    (cast(('0x' || left(md5({{ text_expression }}), 8)) as bigint) / 4294967296.0)
{%- endmacro %}
