{#- The named RFM segment of each customer: the highest-priority rule in seed
    rfm_segment_rules (for the configured number of bins) whose R and FM score
    ranges contain the customer's scores. -#}
with

scores as (

    select * from {{ ref('int_customer_rfm_scores') }}

),

rules as (

    select * from {{ ref('rfm_segment_rules') }}
    where rfm_bins = {{ var('rfm_bins') }}

),

matches as (

    select
        scores.customer_id,
        rules.rfm_segment,
        row_number() over (partition by scores.customer_id order by rules.priority) as match_rank
    from scores
    inner join rules
        on
            scores.r_score between rules.r_score_min and rules.r_score_max
            and scores.fm_score between rules.fm_score_min and rules.fm_score_max

),

final as (

    select
        scores.customer_id,
        matches.rfm_segment
    from scores
    left join matches
        on
            scores.customer_id = matches.customer_id
            and matches.match_rank = 1

)

select * from final
