/* High returners: who returns a large share of what they buy, and how much
   value comes back?

   Customers flagged is_high_returner (matched returns reach
   var high_returner_threshold of their purchased value), by matched returned
   value, the top var analysis_top_n (null = all). Candidates to exclude from
   discount-heavy campaigns and to ask about return reasons.

   Its columns are the ones analyses/_analyses.yml describes (macro
   customer_list).

   Run from the repository root after `dbt build`. Preview:
     dbt show --select high_returners --limit 20
   Or compile it and run the compiled SQL against the warehouse, with the
   DuckDB CLI or with Python:
     dbt compile --select high_returners
     duckdb -readonly segmentation.duckdb < target/compiled/customer_segmentation/analyses/high_returners.sql
     .venv/bin/python -c "import duckdb, sys; duckdb.connect('segmentation.duckdb', read_only=True).sql(sys.stdin.read()).show()" \
         < target/compiled/customer_segmentation/analyses/high_returners.sql
*/

{{ customer_list(
    where='is_high_returner',
    order_by='matched_return_amount desc, return_rate desc, customer_id asc',
) }}
