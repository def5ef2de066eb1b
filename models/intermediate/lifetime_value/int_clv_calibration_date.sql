{#- One row: the backtest's split of the period. The lifetime-value fit of the
    backtest sees the lines before calibration_date and predicts the purchase
    occasions from it to the as-of date. By default the split is
    var('clv_calibration_share') of the way from the first purchase day to the
    as-of date; var('clv_calibration_date') sets it. -#}
{%- set offset = 'cast(floor(' ~ var('clv_calibration_share') ~ ' * period_days) as integer)' -%}
{%- set calibration_date = 'cast(' ~ dbt.dateadd('day', offset, 'period_start') ~ ' as date)' -%}
{%- if var('clv_calibration_date') -%}
{%- set calibration_date = "cast('" ~ var('clv_calibration_date') ~ "' as date)" -%}
{%- endif %}
with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

spend as (

    select * from {{ ref('int_customer_spend_by_day') }}

),

period as (

    select
        min(spend.purchase_date) as period_start,
        max(as_of.as_of_date) as as_of_date
    from spend
    cross join as_of

),

period_days as (

    select
        period_start,
        as_of_date,
        {{ dbt.datediff('period_start', 'as_of_date', 'day') }} as period_days  -- noqa: LT05
    from period

),

split as (

    select
        period_start,
        {{ calibration_date }} as calibration_date,
        as_of_date,
        {{ 'true' if var('clv_calibration_date') else 'false' }} as is_configured
    from period_days

),

final as (

    select
        period_start,
        calibration_date,
        as_of_date,
        {{ dbt.datediff('calibration_date', 'as_of_date', 'day') }}
            as holdout_days,
        is_configured
    from split

)

select * from final
