{#- Who was treated by a campaign, and when: one row per campaign and customer of
    its treated arm, with the campaign's measured window (its start to the end of
    its follow-up). A purchase history cannot foresee a campaign: the backtest
    scores the customers treated during its holdout apart from the organic ones,
    and the seasonal profiles leave treated customers out, so that a campaign's
    month does not pass for a busy season (campaign_results measures the effect). -#}
with

windows as (

    select * from {{ ref('int_campaign_windows') }}

),

audiences as (

    select * from {{ ref('int_campaign_audiences') }}

),

final as (

    select
        audiences.campaign_id,
        audiences.customer_id,
        windows.measured_from,
        windows.measured_until
    from audiences
    inner join windows on audiences.campaign_id = windows.campaign_id
    where audiences.arm = 'treated'

)

select * from final
