{#- Valuable customers at risk of churning: in the top var('churn_risk_value_share')
    of customers by net spend, with a probability of still being a customer below
    var('churn_risk_max_probability_alive'). Next to campaign_audience, with the
    same control group, so a win-back campaign can be measured. One-time buyers
    never appear: BG/NBD gives them a probability alive of 1. -#}
with

customers as (

    select * from {{ ref('customers') }}

),

audience as (

    select * from {{ ref('campaign_audience') }}

),

ranked as (

    select
        *,
        cume_dist() over (order by net_monetary desc) as value_rank_share
    from customers

),

final as (

    select
        ranked.customer_id,
        ranked.country,
        ranked.rfm_segment,
        ranked.primary_segment,
        ranked.recommended_action,
        ranked.net_monetary,
        ranked.value_rank_share,
        ranked.probability_alive,
        ranked.expected_purchases,
        ranked.predicted_clv,
        ranked.last_purchase_date,
        ranked.recency_days,
        audience.is_control_group

    from ranked
    inner join audience on ranked.customer_id = audience.customer_id
    where
        ranked.value_rank_share <= {{ var('churn_risk_value_share') }}
        and ranked.probability_alive < {{ var('churn_risk_max_probability_alive') }}

)

select * from final
