{#- A sum of line amounts (six decimals) as money: decimal(18, 2), rounded half away
    from zero. It goes through decimal(18, 6), the lines' own type, on the way: DuckDB
    casts a wide sum (decimal(38, 6)) straight to two decimals about 100 times more
    slowly (1.1 s against 0.01 s for 1.3 million values; the segment history rounds two
    sums on each of its million rows at 10 million lines), with the same result. A sum beyond decimal(18, 6) (10^12) fails
    the cast loudly rather than losing digits. -#}
{% macro to_cents(amount) -%}
    cast(cast({{ amount }} as decimal(18, 6)) as decimal(18, 2))
{%- endmacro %}
