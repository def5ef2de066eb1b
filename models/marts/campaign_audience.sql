{#- One row per customer: who to contact, with what action, and whether the
    customer is held out as a control group.

    The control group is a stratified random sample: within each RFM segment,
    customers are ordered by a hash of var('control_group_salt') and their id,
    and the first round(share x segment size) are held out. So every segment is
    represented in proportion, the overall share is the configured one to
    within rounding, and the same data gives the same split on every rebuild
    (no random state). Change the salt to draw a fresh split for a new campaign. -#}
with

customers as (

    select * from {{ ref('customers') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by rfm_segment
            order by
                {{ hash_to_unit_interval("'" ~ var('control_group_salt') ~ ":' || customer_id") }},
                customer_id
        ) as control_rank,
        count(*) over (partition by rfm_segment) as segment_customers
    from customers

),

final as (

    select
        customer_id,
        country,
        rfm_segment,
        cluster_id,
        cluster_name,
        primary_segment,
        recommended_action,
        is_high_returner,
        control_rank <= round({{ var('control_group_share') }} * segment_customers) as is_control_group

    from ranked

)

select * from final
