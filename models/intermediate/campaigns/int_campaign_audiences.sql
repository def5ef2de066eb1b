{#- One row per campaign and audience member: the customers of the targeted
    segments as they were on the day before the campaign started, and the arm
    each one is in.

    The audience is the latest snapshot of the segment history on or before
    the start date (a snapshot counts the lines dated before it), so later lines
    never change it. Once the data reaches the start date the audience is frozen:
    an incremental run keeps its rows and computes only the campaigns that are new
    or still provisional (starting after the as-of date: their audience is today's
    segments until then). `dbt build --full-refresh` recomputes every audience
    from the history (the same members while the segment rules and the cluster
    model are unchanged).

    The control group is drawn per campaign and stratified by RFM segment, like
    campaign_audience's: within each segment, members ordered by a hash of the
    campaign's salt and their id, the first round(control_share x segment size)
    are held out. -#}
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    **incremental_by_partition('campaign_id', 'delete+insert')
) }}
with

campaigns as (

    select * from {{ ref('campaigns') }}
    {% if is_incremental() %}
        where campaign_id not in (select distinct campaign_id from {{ this }} where is_frozen)
    {% endif %}

),

targets as (

    select * from {{ ref('campaign_targets') }}

),

rfm_history as (

    select * from {{ ref('int_customer_rfm_history') }}

),

cluster_history as (

    select * from {{ ref('int_customer_cluster_history') }}

),

history as (

    select
        rfm_history.snapshot_date,
        rfm_history.customer_id,
        rfm_history.rfm_segment,
        cluster_history.cluster_id,
        cluster_history.cluster_name
    from rfm_history
    left join cluster_history
        on
            rfm_history.snapshot_date = cast(cluster_history.snapshot_date as date)
            and rfm_history.customer_id = cluster_history.customer_id

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

snapshot_dates as (

    select distinct snapshot_date from history

),

audience_snapshots as (

    select
        campaigns.campaign_id,
        max(snapshot_dates.snapshot_date) as audience_snapshot_date
    from campaigns
    inner join snapshot_dates on campaigns.start_date >= snapshot_dates.snapshot_date
    group by campaigns.campaign_id

),

members as (

    select
        campaigns.campaign_id,
        campaigns.salt,
        campaigns.control_share,
        audience_snapshots.audience_snapshot_date,
        campaigns.start_date <= as_of.as_of_date as is_frozen,
        history.customer_id,
        history.rfm_segment,
        history.cluster_id,
        history.cluster_name

    from campaigns
    inner join audience_snapshots on campaigns.campaign_id = audience_snapshots.campaign_id
    inner join history on audience_snapshots.audience_snapshot_date = history.snapshot_date
    cross join as_of
    where exists (
        select 1 as is_targeted
        from targets
        where
            targets.campaign_id = campaigns.campaign_id
            and (
                targets.segment_type = 'all'
                or (targets.segment_type = 'rfm_segment' and targets.segment_name = history.rfm_segment)
                or (targets.segment_type = 'cluster' and targets.segment_name = history.cluster_name)
            )
    )

),

ranked as (

    select
        *,
        row_number() over (
            partition by campaign_id, rfm_segment
            order by {{ hash_to_unit_interval("salt || ':' || customer_id") }}, customer_id
        ) as control_rank,
        count(*) over (partition by campaign_id, rfm_segment) as segment_members
    from members

),

final as (

    select
        campaign_id,
        customer_id,
        case
            when control_rank <= round(control_share * segment_members) then 'control'
            else 'treated'
        end as arm,
        rfm_segment,
        cluster_id,
        cluster_name,
        audience_snapshot_date,
        is_frozen

    from ranked

)

select * from final
