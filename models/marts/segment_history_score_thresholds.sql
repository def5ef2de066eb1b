{#- Per snapshot, score and score value: the range of recency, frequency or
    monetary value the customers with that score had, i.e. the quantile
    thresholds the snapshot's scores used (they move as the customer base grows),
    and how many customers got it. -#}
with

history as (

    select * from {{ ref('int_customer_rfm_history') }}

),

values_scored as (

    select
        snapshot_date,
        'recency' as score_name,
        r_score as score,
        cast(recency_days as decimal(18, 2)) as measure_value
    from history

    union all

    select
        snapshot_date,
        'frequency' as score_name,
        f_score as score,
        cast(frequency as decimal(18, 2)) as measure_value
    from history

    union all

    select
        snapshot_date,
        'monetary' as score_name,
        m_score as score,
        monetary as measure_value
    from history

),

final as (

    select
        snapshot_date,
        score_name,
        score,
        min(measure_value) as min_value,
        max(measure_value) as max_value,
        count(*) as customers
    from values_scored
    group by snapshot_date, score_name, score

)

select * from final
