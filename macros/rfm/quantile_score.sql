{#- A quantile score from 1 to `bins`, with ties always scored alike.

    score = 1 + floor(bins * (rank - 1) / n), where rank is the 1-based rank of
    the value with ties sharing their lowest rank (SQL `rank()`), and n the
    number of customers. So:
    - equal values get equal scores (unlike ntile, which splits ties arbitrarily);
    - the lowest value always scores 1 and a unique highest value scores `bins`;
    - a value shared by many customers (in retail most bought exactly once)
      scores where its group starts, and the bins its group spans stay empty:
      one-time buyers all score F = 1, and the next frequency jumps to the bin
      of its own position (e.g. F = 4 when 60% bought once);
    - with no spread at all (every customer equal, or a single customer) every
      customer scores 1: there is nothing to rank.
    `higher_is_better=false` reverses the order (recency: fewer days, higher score). -#}
{% macro quantile_score(column, bins, higher_is_better=true) -%}
    {%- set direction = 'asc' if higher_is_better else 'desc' -%}
    cast(1 + floor({{ bins }} * (rank() over (order by {{ column }} {{ direction }}) - 1) / count(*) over ()) as integer)
{%- endmacro %}
