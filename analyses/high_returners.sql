{%- set top_n = var('analysis_top_n') -%}
/* High returners: who returns a large share of what they buy, and how much
   value comes back?

   Customers flagged is_high_returner (matched returns reach
   var high_returner_threshold of their purchased value), by matched returned
   value, the top var analysis_top_n (null = all). Candidates to exclude from
   discount-heavy campaigns and to ask about return reasons.

   Run from the repository root after `dbt build`. Preview:
     dbt show --select high_returners --limit 20
   Or compile it and run the compiled SQL against the warehouse, with the
   DuckDB CLI or with Python:
     dbt compile --select high_returners
     duckdb -readonly segmentation.duckdb < target/compiled/customer_segmentation/analyses/high_returners.sql
     .venv/bin/python -c "import duckdb, sys; duckdb.connect('segmentation.duckdb', read_only=True).sql(sys.stdin.read()).show()" \
         < target/compiled/customer_segmentation/analyses/high_returners.sql
*/

with

customers as (

    select * from {{ ref('customers') }}

),

returners as (

    select
        customer_id,
        country,
        rfm_segment,
        cluster_name,
        return_rate,
        matched_return_amount,
        returned_amount,
        monetary,
        net_monetary,
        return_lines,
        matched_return_lines,
        purchase_lines,
        frequency,
        recency_days

    from customers
    where is_high_returner

),

ranked as (

    select
        row_number() over (
            order by returners.matched_return_amount desc, returners.return_rate desc, returners.customer_id asc
        ) as list_rank,
        returners.*

    from returners

),

final as (

    select * from ranked
    {%- if top_n %}
    where list_rank <= {{ top_n }}
    {%- endif %}

)

select * from final
order by list_rank
