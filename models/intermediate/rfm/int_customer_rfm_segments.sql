{#- The named RFM segment of each customer: the highest-priority rule in seed
    rfm_segment_rules (for the configured number of bins) whose R and FM score
    ranges contain the customer's scores (macro rfm_segment_lookup, shared with
    the segment history). -#}
with

scores as (

    select * from {{ ref('int_customer_rfm_scores') }}

),

final as (

    {{ rfm_segment_lookup('scores', ['customer_id']) }}

)

select * from final
