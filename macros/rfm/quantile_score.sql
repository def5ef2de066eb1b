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
    `higher_is_better=false` reverses the order (recency: fewer days, higher score).
    `partition_by` scores each group on its own (the segment history scores every
    snapshot among the customers of that snapshot only). -#}
{% macro quantile_score(column, bins, higher_is_better=true, partition_by=none) -%}
    {%- set direction = 'asc' if higher_is_better else 'desc' -%}
    {%- set partition = 'partition by ' ~ partition_by ~ ' ' if partition_by else '' -%}
    cast(1 + floor({{ bins }} * (rank() over ({{ partition }}order by {{ column }} {{ direction }}) - 1) / count(*) over ({{ partition | trim }})) as integer)
{%- endmacro %}

{#- The combined FM score: the mean of F and M, halves rounded up, so buying often
    and spending much weigh alike. -#}
{% macro fm_score(f_score, m_score) -%}
    cast(floor(({{ f_score }} + {{ m_score }} + 1) / 2) as integer)
{%- endmacro %}

{#- The RFM cell: the three scores written side by side, e.g. '545'. -#}
{% macro rfm_cell(r_score, f_score, m_score) -%}
    cast({{ r_score }} as {{ dbt.type_string() }})
    || cast({{ f_score }} as {{ dbt.type_string() }})
    || cast({{ m_score }} as {{ dbt.type_string() }})
{%- endmacro %}
