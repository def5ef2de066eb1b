{#- One row per customer: who to contact, with what action, and whether the
    customer is held out as a control group. The flag is a hash of the customer
    id and a salt, so a customer stays in the same group on every rebuild; change
    var('control_group_salt') to draw a fresh split for a new campaign. -#}
with

customers as (

    select * from {{ ref('customers') }}

),

final as (

    select
        customer_id,
        country,
        rfm_segment,
        cluster_id,
        cluster_name,
        recommended_action,
        is_high_returner,
        {{ hash_to_unit_interval("'" ~ var('control_group_salt') ~ ":' || customer_id") }}
        < {{ var('control_group_share') }} as is_control_group

    from customers

)

select * from final
