{#- Every R x FM cell of the configured number of bins is covered by at least
    one segment rule, so no customer can be left without a segment. Returns
    the uncovered cells. -#}
with

scores as (

    select score from (
        {%- for score in range(1, var('rfm_bins') + 1) %}
        select {{ score }} as score{{ ' union all' if not loop.last }}
        {%- endfor %}
    ) as score_values

),

cells as (

    select
        r.score as r_score,
        fm.score as fm_score
    from scores as r
    cross join scores as fm

),

rules as (

    select * from {{ ref('rfm_segment_rules') }}
    where rfm_bins = {{ var('rfm_bins') }}

)

select
    cells.r_score,
    cells.fm_score
from cells
where not exists (
    select 1 as is_covered from rules
    where
        cells.r_score between rules.r_score_min and rules.r_score_max
        and cells.fm_score between rules.fm_score_min and rules.fm_score_max
)
