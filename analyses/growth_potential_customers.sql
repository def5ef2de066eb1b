{%- set top_n = var('analysis_top_n') -%}
{%- set growth_segments = sql_string_list(var('analysis_growth_segments')) -%}
{%- set growth_clusters = sql_string_list(var('analysis_growth_clusters')) -%}
/* Growth potential: which recent customers can we grow into loyal, repeat
   buyers?

   Customers in an RFM segment of var analysis_growth_segments (Potential
   Loyalist, Promising, New) or a K-Means cluster of var
   analysis_growth_clusters (Growth Potential), most recent first, then by
   net monetary value: the top var analysis_top_n (null = all).

   Run from the repository root after `dbt build`. Preview:
     dbt show --select growth_potential_customers --limit 20
   Or compile it and run the compiled SQL against the warehouse, with the
   DuckDB CLI or with Python:
     dbt compile --select growth_potential_customers
     duckdb -readonly segmentation.duckdb < target/compiled/customer_segmentation/analyses/growth_potential_customers.sql
     .venv/bin/python -c "import duckdb, sys; duckdb.connect('segmentation.duckdb', read_only=True).sql(sys.stdin.read()).show()" \
         < target/compiled/customer_segmentation/analyses/growth_potential_customers.sql
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
        rfm_segment in ({{ growth_segments }}) as is_growth_rfm_segment,
        cluster_name in ({{ growth_clusters }}) as is_growth_cluster,
        recency_days,
        frequency,
        monetary,
        net_monetary,
        average_order_value,
        first_purchase_date,
        last_purchase_date,
        recommended_action

    from customers

),

ranked as (

    select
        row_number() over (
            order by flagged.recency_days asc, flagged.net_monetary desc, flagged.customer_id asc
        ) as list_rank,
        flagged.*

    from flagged
    where flagged.is_growth_rfm_segment or flagged.is_growth_cluster

),

final as (

    select * from ranked
    {%- if top_n %}
    where list_rank <= {{ top_n }}
    {%- endif %}

)

select * from final
order by list_rank
