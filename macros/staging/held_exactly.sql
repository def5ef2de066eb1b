{#- True when a value read from text into a fixed decimal type holds exactly the
    text's value (nothing rounded off), false when it does not or could not be read.
    Casting every text to a 128-bit decimal to compare costs 50 times the cast to a
    64-bit one in DuckDB, so it is done only for long texts: a text of at most 15
    characters has at most 15 significant digits, and then the held value differs
    from the text's value by at least 1e-15 of it if at all, which doubles (53 bits,
    2.2e-16) always tell apart. -#}
{% macro held_exactly(held, text, number, exact_type) -%}
    case
        when {{ held }} is null then false
        when length({{ text }}) <= 15 then cast({{ held }} as double) = {{ number }}
        else coalesce(try_cast({{ text }} as {{ exact_type }}) = {{ held }}, false)
    end
{%- endmacro %}
