/* Segments by country: in each country, how many customers and how much
   revenue does each RFM segment hold?

   One row per country (the customer's main country) and RFM segment, with
   the share of the country's customers and revenue; countries by revenue,
   then segments by revenue. Every customer is counted exactly once, so the
   customers column adds up to the customers mart.

   After `dbt build`: dbt show --select segments_by_country --limit 20, or
   dbt compile --select segments_by_country and run the compiled file (README, "Analyses").
*/

with

customers as (

    select * from {{ ref('customers') }}

),

by_country_segment as (

    select
        country,
        rfm_segment,
        count(*) as customers,
        sum(monetary) as revenue,
        sum(net_monetary) as net_revenue,
        sum(matched_return_amount) as matched_return_amount

    from customers
    group by country, rfm_segment

),

final as (

    select
        country,
        rfm_segment,
        customers,
        cast(customers as double) / sum(customers) over (partition by country) as country_customer_share,
        revenue,
        cast(revenue / sum(revenue) over (partition by country) as double) as country_revenue_share,
        net_revenue,
        cast(matched_return_amount / revenue as double) as return_rate,
        sum(revenue) over (partition by country) as country_revenue

    from by_country_segment

)

select * from final
order by country_revenue desc, country asc, revenue desc, rfm_segment asc
