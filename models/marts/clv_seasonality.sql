{#- The shop's purchase season as the lifetime-value fits see it: per fit scope
    and month of the year, how busy the month is for a customer who is still
    buying. The fits measure time in days weighted by it. -#}
with

seasonality as (

    select * from {{ ref('int_clv_seasonality') }}

),

final as (

    select
        cast(fit_scope as {{ dbt.type_string() }}) as fit_scope,
        cast(month_of_year as integer) as month_of_year,
        cast(purchase_intensity as double) as purchase_intensity,
        cast(is_seasonal as boolean) as is_seasonal,
        cast(profile_purchases as bigint) as profile_purchases,
        cast(flat_reason as {{ dbt.type_string() }}) as flat_reason

    from seasonality

)

select * from final
