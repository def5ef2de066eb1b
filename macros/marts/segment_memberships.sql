{#- Every row of `relation` twice, as a member of its RFM segment and of its
    cluster: `columns`, then segment_type ('rfm_segment' or 'cluster') and
    segment_name. The history marts count and compare both kinds of segment the
    same way from these rows. -#}
{% macro segment_memberships(relation, columns) -%}
    {%- for segment_type, segment_column in [('rfm_segment', 'rfm_segment'), ('cluster', 'cluster_name')] %}
    select
        {%- for column in columns %}
        {{ column }},
        {%- endfor %}
        '{{ segment_type }}' as segment_type,
        {{ segment_column }} as segment_name
    from {{ relation }}
    {%- if not loop.last %}

    union all
    {% endif -%}
    {%- endfor %}
{%- endmacro %}
