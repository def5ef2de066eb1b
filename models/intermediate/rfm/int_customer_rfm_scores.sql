{#- R, F and M quantile scores (1 to var('rfm_bins')), the RFM cell and the
    combined FM score. See macro quantile_score for how ties are scored. -#}
with

rfm as (

    select * from {{ ref('int_customer_rfm') }}

),

scored as (

    select
        customer_id,
        {{ quantile_score('recency_days', var('rfm_bins'), higher_is_better=false) }} as r_score,
        {{ quantile_score('frequency', var('rfm_bins')) }} as f_score,
        {{ quantile_score('monetary', var('rfm_bins')) }} as m_score
    from rfm

),

final as (

    select
        customer_id,
        r_score,
        f_score,
        m_score,
        {{ rfm_cell('r_score', 'f_score', 'm_score') }} as rfm_cell,
        {{ fm_score('f_score', 'm_score') }} as fm_score

    from scored

)

select * from final
