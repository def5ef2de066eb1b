/* Churn risk: which valuable customers are slipping away, and how much value
   is at stake if they lapse?

   Customers in an RFM segment of var analysis_churn_risk_segments (At Risk,
   Can't Lose Them, About to Sleep), ordered by the value at stake (their net
   monetary value: what they have spent, minus matched returns), the top
   var analysis_top_n (null = all). Days since the last purchase tell how
   urgent the win-back is.

   Its columns are the ones analyses/_analyses.yml describes (macro
   customer_list).

   Run from the repository root after `dbt build`. Preview:
     dbt show --select churn_risk_customers --limit 20
   Or compile it and run the compiled SQL against the warehouse, with the
   DuckDB CLI or with Python:
     dbt compile --select churn_risk_customers
     duckdb -readonly segmentation.duckdb < target/compiled/customer_segmentation/analyses/churn_risk_customers.sql
     .venv/bin/python -c "import duckdb, sys; duckdb.connect('segmentation.duckdb', read_only=True).sql(sys.stdin.read()).show()" \
         < target/compiled/customer_segmentation/analyses/churn_risk_customers.sql
*/

{{ customer_list(
    computed={'value_at_stake': 'net_monetary'},
    where='rfm_segment in (' ~ sql_string_list(var('analysis_churn_risk_segments')) ~ ')',
    order_by='value_at_stake desc, customer_id asc',
) }}
