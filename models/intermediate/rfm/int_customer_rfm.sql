{#- One row per customer with at least one clean purchase: recency, frequency,
    monetary value and the measures around them, as of the as-of date. -#}
with

purchases as (

    select * from {{ ref('int_customer_purchases') }}

),

returns as (

    select * from {{ ref('int_customer_returns') }}

),

countries as (

    select * from {{ ref('int_customer_countries') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

joined as (

    select
        purchases.customer_id,
        countries.country,
        as_of.as_of_date,
        purchases.first_purchase_date,
        purchases.last_purchase_date,
        purchases.frequency,
        purchases.gross_monetary,
        purchases.purchase_lines,
        purchases.distinct_products,
        coalesce(returns.return_lines, 0) as return_lines,
        coalesce(returns.matched_return_lines, 0) as matched_return_lines,
        coalesce(returns.returned_amount, 0) as returned_amount,
        coalesce(returns.matched_return_amount, 0) as matched_return_amount

    from purchases
    cross join as_of
    left join returns on purchases.customer_id = returns.customer_id
    left join countries on purchases.customer_id = countries.customer_id

),

final as (

    select
        customer_id,
        country,
        as_of_date,
        first_purchase_date,
        last_purchase_date,
        -- Spark's datediff is an int, DuckDB's a bigint: the contracts say bigint.
        cast({{ dbt.datediff('last_purchase_date', 'as_of_date', 'day') }} as bigint) as recency_days,  -- noqa: LT05
        frequency,
        gross_monetary as monetary,
        cast(gross_monetary - matched_return_amount as decimal(18, 2)) as net_monetary,
        cast(gross_monetary / frequency as decimal(18, 2)) as average_order_value,
        cast({{ dbt.datediff('first_purchase_date', 'as_of_date', 'day') }} as bigint) as tenure_days,  -- noqa: LT05
        distinct_products,
        purchase_lines,
        return_lines,
        matched_return_lines,
        returned_amount,
        matched_return_amount,
        -- Clean purchases always have a positive value, so the ratios are defined; 0 without returns.
        cast(matched_return_amount / gross_monetary as double) as return_rate,
        cast(matched_return_lines as double) / purchase_lines as return_line_rate,
        matched_return_amount / gross_monetary >= {{ var('high_returner_threshold') }} as is_high_returner

    from joined

)

select * from final
