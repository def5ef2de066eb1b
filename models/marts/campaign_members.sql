{#- One row per campaign and audience member: the arm (treated or control), the
    segment the customer had when the audience was frozen and the action for it.
    The activation export (`make campaign-export`) writes a campaign's treated rows. -#}
with

members as (

    select * from {{ ref('int_campaign_audiences') }}

),

segments as (

    select * from {{ ref('rfm_segments') }}

),

final as (

    select
        members.campaign_id,
        members.customer_id,
        members.arm,
        members.rfm_segment,
        members.cluster_id,
        members.cluster_name,
        segments.recommended_action,
        members.audience_snapshot_date,
        members.is_frozen

    from members
    left join segments on members.rfm_segment = segments.rfm_segment

)

select * from final
