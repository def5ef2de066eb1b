{%- set top_n = var('analysis_top_n') -%}
{%- set best_segments = sql_string_list(var('analysis_best_segments')) -%}
{%- set best_clusters = sql_string_list(var('analysis_best_clusters')) -%}
/* Best customers: who are our most valuable customers, to retain and reward?

   Customers in an RFM segment of var analysis_best_segments (Champions) or a
   K-Means cluster of var analysis_best_clusters (VIP): the top
   var analysis_top_n (null = all) by net monetary value, i.e. clean purchases
   minus matched returns.

   Run from the repository root after `dbt build`. Preview:
     dbt show --select best_customers --limit 20
   Or compile it and run the compiled SQL against the warehouse, with the
   DuckDB CLI or with Python:
     dbt compile --select best_customers
     duckdb -readonly segmentation.duckdb < target/compiled/customer_segmentation/analyses/best_customers.sql
     .venv/bin/python -c "import duckdb, sys; duckdb.connect('segmentation.duckdb', read_only=True).sql(sys.stdin.read()).show()" \
         < target/compiled/customer_segmentation/analyses/best_customers.sql
*/

with

customers as (

    select * from {{ ref('customers') }}

),

flagged as (

    select
        customer_id,
        country,
        rfm_segment,
        cluster_name,
        rfm_segment in ({{ best_segments }}) as is_best_rfm_segment,
        cluster_name in ({{ best_clusters }}) as is_best_cluster,
        recency_days,
        frequency,
        monetary,
        matched_return_amount,
        net_monetary,
        average_order_value,
        first_purchase_date,
        last_purchase_date,
        recommended_action

    from customers

),

ranked as (

    select
        row_number() over (order by flagged.net_monetary desc, flagged.customer_id asc) as list_rank,
        flagged.*

    from flagged
    where flagged.is_best_rfm_segment or flagged.is_best_cluster

),

final as (

    select * from ranked
    {%- if top_n %}
    where list_rank <= {{ top_n }}
    {%- endif %}

)

select * from final
order by list_rank
