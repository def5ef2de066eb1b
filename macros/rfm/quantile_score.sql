{#- A quantile score from 1 to `bins`, with ties always scored alike.

    Each customer's score is the quantile bin of the middle of its group of
    tied values: 1 + floor(bins * (rank - 1 + ties / 2) / n), where rank is the
    1-based rank of the value (the lowest rank of its ties) and ties the number
    of customers sharing it. Consequences:
    - equal values, equal scores (unlike ntile, which splits ties arbitrarily);
    - a value shared by many customers (most bought exactly once) lands in the
      bin that holds the middle of that group, and the next bins stay empty
      rather than being filled with customers who differ from it;
    - all customers equal, or a single customer: the middle score.
    `higher_is_better=false` reverses the order (recency: fewer days, higher score). -#}
{% macro quantile_score(column, bins, higher_is_better=true) -%}
    {%- set direction = 'asc' if higher_is_better else 'desc' -%}
    cast(least(
        {{ bins }},
        1 + floor(
            {{ bins }}
            * (
                rank() over (order by {{ column }} {{ direction }}) - 1
                + count(*) over (partition by {{ column }}) / 2.0
            )
            / count(*) over ()
        )
    ) as integer)
{%- endmacro %}
