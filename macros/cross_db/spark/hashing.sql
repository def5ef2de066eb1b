{#- The same number as duckdb__hash_to_unit_interval (the first 32 bits of the md5,
    over 2^32), so a customer lands in the same control group on either engine. -#}
{% macro spark__hash_to_unit_interval(text_expression) -%}
    (cast(conv(left(md5({{ text_expression }}), 8), 16, 10) as bigint) / cast(4294967296 as double))
{%- endmacro %}

{#- xxhash64, not Spark's hash(): a 32-bit murmur3 gives about a hundred colliding
    pairs among a million distinct lines, each one a false candidate for the exact
    comparison. A null argument is skipped, which still gives equal hashes for equal
    rows. -#}
{% macro spark__row_hash(expressions) -%}
    xxhash64({{ expressions | join(', ') }})
{%- endmacro %}
