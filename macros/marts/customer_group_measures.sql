{#- The measures marketing compares groups of customers by (RFM segments,
    clusters), as aggregate expressions over the customers mart. `totals` is a
    relation with one row: total_customers and total_revenue. -#}
{% macro customer_group_measures(totals='totals') -%}
        count(*) as customers,
        cast(count(*) as double) / {{ totals }}.total_customers as customer_share,
        cast(sum(monetary) as decimal(18, 2)) as revenue,
        cast(sum(monetary) / {{ totals }}.total_revenue as double) as revenue_share,
        percentile_cont(0.5) within group (order by recency_days) as median_recency_days,
        percentile_cont(0.5) within group (order by frequency) as median_frequency,
        percentile_cont(0.5) within group (order by monetary) as median_monetary,
        cast(sum(monetary) / sum(frequency) as decimal(18, 2)) as average_order_value,
        avg(case when frequency > 1 then 1.0 else 0.0 end) as repeat_purchase_rate,
        cast(sum(matched_return_amount) / sum(monetary) as double) as return_rate
{%- endmacro %}
