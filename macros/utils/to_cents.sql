{#- A sum of line amounts (six decimals) as money: decimal(18, 2), rounded half away
    from zero. It goes through decimal(18, 6), the lines' own type, on the way: DuckDB
    casts a wide sum (decimal(38, 6)) straight to two decimals about 100 times more
    slowly (README, "Every line read once and written once", shows it), with the same
    result; the segment history rounds two sums on each of its rows. A sum beyond
    decimal(18, 6) (10^12) fails the cast loudly rather than losing digits. -#}
{% macro to_cents(amount) -%}
    cast(cast({{ amount }} as decimal(18, 6)) as decimal(18, 2))
{%- endmacro %}
