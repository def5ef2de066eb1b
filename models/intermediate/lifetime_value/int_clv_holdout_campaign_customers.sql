{#- The customers a campaign treated during the backtest's holdout period: in the
    treated arm of a campaign whose measured window (its start to the end of its
    follow-up) overlaps the holdout. Their holdout purchases carry the campaign's
    effect, which no purchase-history model can foresee, so the backtest scores
    them apart from the organic customers (campaign_results measures the effect). -#}
with

split as (

    select * from {{ ref('int_clv_calibration_date') }}

),

windows as (

    select * from {{ ref('int_campaign_windows') }}

),

audiences as (

    select * from {{ ref('int_campaign_audiences') }}

),

campaigns_in_the_holdout as (

    select windows.campaign_id
    from windows
    cross join split
    where
        windows.measured_from < split.as_of_date
        and windows.measured_until > split.calibration_date

),

treated as (

    select
        audiences.customer_id,
        audiences.campaign_id
    from audiences
    inner join campaigns_in_the_holdout
        on audiences.campaign_id = campaigns_in_the_holdout.campaign_id
    where audiences.arm = 'treated'

),

final as (

    select
        customer_id,
        count(*) as campaigns,
        min(campaign_id) as first_campaign_id
    from treated
    group by customer_id

)

select * from final
