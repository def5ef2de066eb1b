{#- One row per customer with at least one clean purchase: everything marketing
    needs to pick an audience. -#}
with

rfm as (

    select * from {{ ref('int_customer_rfm') }}

),

scores as (

    select * from {{ ref('int_customer_rfm_scores') }}

),

segments as (

    select * from {{ ref('int_customer_rfm_segments') }}

),

segment_actions as (

    select * from {{ ref('rfm_segments') }}

),

clusters as (

    select * from {{ ref('int_customer_clusters') }}

),

segment_changes as (

    select * from {{ ref('int_customer_segment_changes') }}

),

lifetime_value as (

    select * from {{ ref('int_customer_lifetime_value') }}

),

high_returner_name as (

    {#- The one-action rule (README "One customer, one action"): a high returner
        gets the seed's high-returner action, everyone else the RFM segment's. -#}
    select
        cluster_name as segment_name,
        recommended_action
    from {{ ref('cluster_names') }}
    where name_role = 'high_returners'

),

final as (

    select
        rfm.customer_id,
        rfm.country,
        rfm.as_of_date,
        rfm.first_purchase_date,
        rfm.last_purchase_date,
        rfm.recency_days,
        rfm.frequency,
        rfm.monetary,
        rfm.net_monetary,
        rfm.average_order_value,
        rfm.tenure_days,
        rfm.distinct_products,
        rfm.purchase_lines,
        rfm.return_lines,
        rfm.matched_return_lines,
        rfm.returned_amount,
        rfm.matched_return_amount,
        rfm.return_rate,
        rfm.return_line_rate,
        rfm.is_high_returner,
        scores.r_score,
        scores.f_score,
        scores.m_score,
        scores.fm_score,
        scores.rfm_cell,
        segments.rfm_segment,
        segment_actions.description as rfm_segment_description,
        case
            when rfm.is_high_returner then high_returner_name.segment_name
            else segments.rfm_segment
        end as primary_segment,
        case
            when rfm.is_high_returner then 'high_returner'
            else 'rfm_segment'
        end as primary_segment_source,
        case
            when rfm.is_high_returner then high_returner_name.recommended_action
            else segment_actions.recommended_action
        end as recommended_action,
        segment_actions.recommended_action as rfm_segment_action,
        clusters.cluster_id,
        clusters.cluster_name,
        segment_changes.previous_rfm_segment,
        segment_changes.rfm_segment_changed_on,
        segment_changes.periods_in_rfm_segment,
        lifetime_value.probability_alive,
        lifetime_value.expected_purchases,
        lifetime_value.expected_value_per_purchase,
        lifetime_value.predicted_clv

    from rfm
    inner join scores on rfm.customer_id = scores.customer_id
    inner join segments on rfm.customer_id = segments.customer_id
    left join segment_actions on segments.rfm_segment = segment_actions.rfm_segment
    left join clusters on rfm.customer_id = clusters.customer_id
    left join segment_changes on rfm.customer_id = segment_changes.customer_id
    left join lifetime_value on rfm.customer_id = lifetime_value.customer_id
    cross join high_returner_name

)

select * from final
