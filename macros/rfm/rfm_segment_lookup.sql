{#- The body of a CTE naming each scored row's RFM segment: the highest-priority
    rule of seed rfm_segment_rules (for var('rfm_bins')) whose R and FM score ranges
    contain the row's r_score and fm_score; null when no rule matches (a data test
    keeps the seed covering every cell). `scores` is a CTE or relation with
    r_score, fm_score and the `keys` columns, which identify a row and come back
    with the segment. Today's segments (key customer_id) and the history's (keys
    snapshot_date, customer_id) both use it, so a segment means the same thing in
    every snapshot. -#}
{% macro rfm_segment_lookup(scores, keys) -%}
    {%- set keys = [keys] if keys is string else keys -%}
    with rules as (

        select * from {{ ref('rfm_segment_rules') }}
        where rfm_bins = {{ var('rfm_bins') }}

    ),

    matches as (

        select
            {%- for key in keys %}
            scores.{{ key }},
            {%- endfor %}
            rules.rfm_segment,
            row_number() over (
                partition by {% for key in keys %}scores.{{ key }}{{ ', ' if not loop.last }}{% endfor %}
                order by rules.priority
            ) as match_rank
        from {{ scores }} as scores
        inner join rules
            on
                scores.r_score between rules.r_score_min and rules.r_score_max
                and scores.fm_score between rules.fm_score_min and rules.fm_score_max

    )

    select
        {%- for key in keys %}
        scores.{{ key }},
        {%- endfor %}
        matches.rfm_segment
    from {{ scores }} as scores
    left join matches
        on
            {% for key in keys -%}
            scores.{{ key }} = matches.{{ key }}
            {% if not loop.last %}and {% endif -%}
            {%- endfor %}
            and matches.match_rank = 1
{%- endmacro %}
