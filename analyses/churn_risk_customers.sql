{%- set top_n = var('analysis_top_n') -%}
{%- set churn_segments = sql_string_list(var('analysis_churn_risk_segments')) -%}
/* Churn risk: which valuable customers are slipping away, and how much value
   is at stake if they lapse?

   Customers in an RFM segment of var analysis_churn_risk_segments (At Risk,
   Can't Lose Them, About to Sleep), ordered by the value at stake (their net
   monetary value: what they have spent, minus matched returns), the top
   var analysis_top_n (null = all). Days since the last purchase tell how
   urgent the win-back is.

   Run from the repository root after `dbt build`. Preview:
     dbt show --select churn_risk_customers --limit 20
   Or compile it and run the compiled SQL against the warehouse, with the
   DuckDB CLI or with Python:
     dbt compile --select churn_risk_customers
     duckdb -readonly segmentation.duckdb < target/compiled/customer_segmentation/analyses/churn_risk_customers.sql
     .venv/bin/python -c "import duckdb, sys; duckdb.connect('segmentation.duckdb', read_only=True).sql(sys.stdin.read()).show()" \
         < target/compiled/customer_segmentation/analyses/churn_risk_customers.sql
*/

with

customers as (

    select * from {{ ref('customers') }}

),

at_risk as (

    select
        customer_id,
        country,
        rfm_segment,
        cluster_name,
        net_monetary as value_at_stake,
        monetary,
        frequency,
        average_order_value,
        recency_days,
        last_purchase_date,
        tenure_days,
        recommended_action

    from customers
    where rfm_segment in ({{ churn_segments }})

),

ranked as (

    select
        row_number() over (order by at_risk.value_at_stake desc, at_risk.customer_id asc) as list_rank,
        at_risk.*

    from at_risk

),

final as (

    select * from ranked
    {%- if top_n %}
    where list_rank <= {{ top_n }}
    {%- endif %}

)

select * from final
order by list_rank
