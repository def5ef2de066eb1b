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
        {#- Spark's percentile_cont is a double, DuckDB's keeps the decimal; the contracts
            say decimal(18, 2), and avg of decimals is a decimal on Spark, a double on DuckDB. -#}
        cast(percentile_cont(0.5) within group (order by monetary) as decimal(18, 2)) as median_monetary,
        cast(sum(monetary) / sum(frequency) as decimal(18, 2)) as average_order_value,
        avg(case when frequency > 1 then cast(1 as double) else cast(0 as double) end) as repeat_purchase_rate,
        cast(sum(matched_return_amount) / sum(monetary) as double) as return_rate
{%- endmacro %}
