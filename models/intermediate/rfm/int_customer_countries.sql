{#- Per customer, the country of most of their clean purchase lines; a tie goes
    to the alphabetically first country, so reruns agree. -#}
with

invoices as (

    select
        customer_id,
        country,
        purchase_lines
    from {{ ref('int_customer_invoices') }}

),

line_counts as (

    select
        customer_id,
        coalesce(country, 'Unknown') as country,
        sum(purchase_lines) as purchase_lines
    from invoices
    group by customer_id, coalesce(country, 'Unknown')

),

ranked as (

    select
        customer_id,
        country,
        row_number() over (
            partition by customer_id
            order by purchase_lines desc, country asc
        ) as country_rank,
        count(*) over (partition by customer_id) as countries
    from line_counts

),

final as (

    select
        customer_id,
        country,
        countries
    from ranked
    where country_rank = 1

)

select * from final
