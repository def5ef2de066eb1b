/* Growth potential: which recent customers can we grow into loyal, repeat
   buyers?

   Customers in an RFM segment of var analysis_growth_segments (Potential
   Loyalist, Promising, New) or a K-Means cluster of var
   analysis_growth_clusters (Growth Potential), most recent first, then by
   net monetary value: the top var analysis_top_n (null = all).

   Its columns are the ones analyses/_analyses.yml describes (macro
   customer_list).

   Run from the repository root after `dbt build`. Preview:
     dbt show --select growth_potential_customers --limit 20
   Or compile it and run the compiled SQL against the warehouse, with the
   DuckDB CLI or with Python:
     dbt compile --select growth_potential_customers
     duckdb -readonly segmentation.duckdb < target/compiled/customer_segmentation/analyses/growth_potential_customers.sql
     .venv/bin/python -c "import duckdb, sys; duckdb.connect('segmentation.duckdb', read_only=True).sql(sys.stdin.read()).show()" \
         < target/compiled/customer_segmentation/analyses/growth_potential_customers.sql
*/

{{ customer_list(
    computed={
        'is_growth_rfm_segment': 'rfm_segment in (' ~ sql_string_list(var('analysis_growth_segments')) ~ ')',
        'is_growth_cluster': 'cluster_name in (' ~ sql_string_list(var('analysis_growth_clusters')) ~ ')',
    },
    where='is_growth_rfm_segment or is_growth_cluster',
    order_by='recency_days asc, net_monetary desc, customer_id asc',
) }}
