{#- Whether to trust the lifetime-value predictions: fitted on the lines before
    the calibration date, predicted against actual purchase occasions in the
    holdout period, per calibration frequency group and in total. -#}
with

backtest as (

    select * from {{ ref('int_clv_backtest') }}

),

final as (

    select
        {{ contract_columns() }}
    from backtest

)

select * from final
