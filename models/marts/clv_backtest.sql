{#- Whether to trust the lifetime-value predictions: fitted on the lines before
    the calibration date, predicted against actual purchase occasions in the
    holdout period, per calibration frequency group and in total, for the
    organic customers and, apart, those a campaign treated in the holdout. -#}
with

backtest as (

    select * from {{ ref('int_clv_backtest') }}

),

final as (

    select
        cast(population as varchar) as population,
        cast(frequency_group as bigint) as frequency_group,
        cast(frequency_group_label as varchar) as frequency_group_label,
        cast(is_total as boolean) as is_total,
        cast(customers as bigint) as customers,
        cast(predicted_purchases as double) as predicted_purchases,
        cast(actual_purchases as double) as actual_purchases,
        cast(error as double) as error,
        cast(relative_error as double) as relative_error,
        cast(relative_error_lower as double) as relative_error_lower,
        cast(relative_error_upper as double) as relative_error_upper,
        cast(calibration_date as date) as calibration_date,
        cast(as_of_date as date) as as_of_date,
        cast(holdout_days as bigint) as holdout_days

    from backtest

)

select * from final
