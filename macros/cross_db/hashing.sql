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

{#- A 64-bit hash of several columns' values at once, nulls included (equal values,
    nulls in the same places, give equal hashes). For grouping candidates cheaply
    before an exact comparison, never as an id that is kept: no engine promises the
    same value across versions. -#}
{% macro row_hash(expressions) -%}
    {{ return(adapter.dispatch('row_hash', 'customer_segmentation')(expressions)) }}
{%- endmacro %}

{% macro default__row_hash(expressions) -%}
    {{ exceptions.raise_compiler_error("row_hash is not implemented for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro duckdb__row_hash(expressions) -%}
    hash({{ expressions | join(', ') }})
{%- endmacro %}
