{#- One row per campaign: the measured window (its start to the end of its
    follow-up, var('campaign_follow_up_days') when the seed leaves it empty), the
    part of it the data covers so far, and where the measurement stands. -#}
with

campaigns as (

    select * from {{ ref('campaigns') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

campaign_follow_ups as (

    select
        campaign_id,
        coalesce(follow_up_days, {{ var('campaign_follow_up_days') }}) as follow_up_days
    from campaigns

),

windows as (

    select
        campaigns.campaign_id,
        campaigns.start_date as measured_from,
        campaign_follow_ups.follow_up_days,
        -- Exclusive end: the day after the last day of the follow-up.
        cast(
            {{ dbt.dateadd('day', 'campaign_follow_ups.follow_up_days + 1', 'campaigns.end_date') }} as date
        ) as measured_until,
        as_of.as_of_date
    from campaigns
    inner join campaign_follow_ups on campaigns.campaign_id = campaign_follow_ups.campaign_id
    cross join as_of

),

final as (

    select
        campaign_id,
        measured_from,
        follow_up_days,
        measured_until,
        -- Lines count strictly before the as-of date: the window is observed up to it.
        least(measured_until, greatest(measured_from, as_of_date)) as observed_until,
        case
            when as_of_date <= measured_from then 'not started'
            when as_of_date < measured_until then 'in progress'
            else 'complete'
        end as measurement_status

    from windows

)

select * from final
