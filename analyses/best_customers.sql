/* Best customers: who are our most valuable customers, to retain and reward?

   Customers in an RFM segment of var analysis_best_segments (Champions) or a
   K-Means cluster of var analysis_best_clusters (VIP): the top
   var analysis_top_n (null = all) by net monetary value, i.e. clean purchases
   minus matched returns.

   Its columns are the ones analyses/_analyses.yml describes (macro
   customer_list).

   Run from the repository root after `dbt build`. Preview:
     dbt show --select best_customers --limit 20
   Or compile it and run the compiled SQL against the warehouse, with the
   DuckDB CLI or with Python:
     dbt compile --select best_customers
     duckdb -readonly segmentation.duckdb < target/compiled/customer_segmentation/analyses/best_customers.sql
     .venv/bin/python -c "import duckdb, sys; duckdb.connect('segmentation.duckdb', read_only=True).sql(sys.stdin.read()).show()" \
         < target/compiled/customer_segmentation/analyses/best_customers.sql
*/

{{ customer_list(
    computed={
        'is_best_rfm_segment': 'rfm_segment in (' ~ sql_string_list(var('analysis_best_segments')) ~ ')',
        'is_best_cluster': 'cluster_name in (' ~ sql_string_list(var('analysis_best_clusters')) ~ ')',
    },
    where='is_best_rfm_segment or is_best_cluster',
    order_by='net_monetary desc, customer_id asc',
) }}
