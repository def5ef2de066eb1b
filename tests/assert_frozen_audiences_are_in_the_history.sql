{#- A frozen campaign audience is kept by incremental runs, so it must still
    describe this data: every member was a customer in the history snapshot the
    audience was taken from. Rows here mean the data was replaced (another export,
    another shop) under a warehouse that kept the old audiences: rebuild them with
    `dbt build --full-refresh` (`make build DBT_ARGS=--full-refresh`). -#}
with

members as (

    select * from {{ ref('int_campaign_audiences') }}

),

history as (

    select * from {{ ref('int_customer_rfm_history') }}

),

final as (

    select
        members.campaign_id,
        members.customer_id,
        members.audience_snapshot_date
    from members
    left join history
        on
            members.audience_snapshot_date = history.snapshot_date
            and members.customer_id = history.customer_id
    where history.customer_id is null

)

select * from final
