{#- Every segment named in vars segment_drop_from_segments and
    segment_drop_to_segments is a segment of seed rfm_segments: a typo would
    leave segment_moves_to_act_on silently empty. Returns the unknown names. -#}
{%- set named = [] -%}
{%- for setting in ['segment_drop_from_segments', 'segment_drop_to_segments'] -%}
{%- for name in var(setting) -%}
{%- do named.append((setting, name)) -%}
{%- endfor -%}
{%- endfor -%}
with

named as (

    {% for setting, name in named -%}
    select
        '{{ setting }}' as setting,
        {{ text_literal(name) }} as rfm_segment
    {% if not loop.last %}
    union all
    {% endif -%}
    {%- endfor %}

)

select
    named.setting,
    named.rfm_segment
from named
left join {{ ref('rfm_segments') }} as segments on named.rfm_segment = segments.rfm_segment
where segments.rfm_segment is null
