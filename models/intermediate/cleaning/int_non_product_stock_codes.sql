{#- The distinct staged stock codes that are not products (postage, fees,
    adjustments...): seed non_product_stock_codes, matched exactly or by prefix,
    case-insensitively. Matched once per distinct code, not once per line: prefix
    rules cannot use a hash join, and every line then joins this small table. -#}
with

non_product_codes as (

    select
        upper(stock_code) as code,
        match_type
    from {{ ref('non_product_stock_codes') }}

),

distinct_stock_codes as (

    select distinct stock_code
    from {{ ref('stg_shop__transactions') }}
    where stock_code is not null

),

final as (

    select distinct distinct_stock_codes.stock_code
    from distinct_stock_codes
    inner join non_product_codes
        on (
            non_product_codes.match_type = 'exact'
            and upper(distinct_stock_codes.stock_code) = non_product_codes.code
        )
        or (
            non_product_codes.match_type = 'prefix'
            and left(upper(distinct_stock_codes.stock_code), length(non_product_codes.code))
            = non_product_codes.code
        )

)

select * from final
