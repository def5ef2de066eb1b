{#- For every bin count the settings accept (macro rfm_supported_bins), every
    R x FM cell is covered by at least one segment rule of that count, so no
    customer can be left without a segment whichever rfm_bins is set. Returns
    the uncovered cells. -#}
with

rules as (

    select * from {{ ref('rfm_segment_rules') }}

),

cells as (

    {%- for bins in rfm_supported_bins() %}
    {%- set outer_loop = loop %}
    {%- for r_score in range(1, bins + 1) %}
    {%- for fm_score in range(1, bins + 1) %}
    select
        {{ bins }} as rfm_bins,
        {{ r_score }} as r_score,
        {{ fm_score }} as fm_score
    {{ 'union all' if not (outer_loop.last and loop.last and r_score == bins) }}
    {%- endfor %}
    {%- endfor %}
    {%- endfor %}

),

final as (

    select
        cells.rfm_bins,
        cells.r_score,
        cells.fm_score
    from cells
    where not exists (
        select 1 as is_covered from rules
        where
            rules.rfm_bins = cells.rfm_bins
            and cells.r_score between rules.r_score_min and rules.r_score_max
            and cells.fm_score between rules.fm_score_min and rules.fm_score_max
    )

)

select * from final
