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

{#- xxhash64, not Spark's hash(): a 32-bit murmur3 gives about a hundred colliding
    pairs among a million distinct lines, each one a false candidate for the exact
    comparison. A null argument is skipped, which still gives equal hashes for equal
    rows. -#}
{% macro spark__row_hash(expressions) -%}
    xxhash64({{ expressions | join(', ') }})
{%- endmacro %}
