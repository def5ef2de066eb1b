{#- Every segment named in vars segment_drop_from_segments and
    segment_drop_to_segments is a segment of seed rfm_segments: a typo would
    leave segment_moves_to_act_on silently empty. Returns the unknown names. -#}
with

named as (

    {%- for name in var('segment_drop_from_segments') %}
    select 'segment_drop_from_segments' as setting, '{{ name | replace("'", "''") }}' as rfm_segment union all
    {%- endfor %}
    {%- for name in var('segment_drop_to_segments') %}
    select 'segment_drop_to_segments' as setting, '{{ name | replace("'", "''") }}' as rfm_segment
    {{- ' union all' if not loop.last }}
    {%- endfor %}

)

select
    named.setting,
    named.rfm_segment
from named
left join {{ ref('rfm_segments') }} as segments on named.rfm_segment = segments.rfm_segment
where segments.rfm_segment is null
