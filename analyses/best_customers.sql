/* Best customers: who are our most valuable customers, to retain and reward?

   Customers in an RFM segment of var analysis_best_segments (Champions) or a
   K-Means cluster of var analysis_best_clusters (VIP): the top
   var analysis_top_n (null = all) by net monetary value, i.e. clean purchases
   minus matched returns.

   Columns: as analyses/_analyses.yml lists them (macro customer_list).

   After `dbt build`: dbt show --select best_customers --limit 20, or
   dbt compile --select best_customers and run the compiled file (README, "Analyses").
*/

{{ customer_list(
    computed={
        'is_best_rfm_segment': 'rfm_segment in (' ~ sql_string_list(var('analysis_best_segments')) ~ ')',
        'is_best_cluster': 'cluster_name in (' ~ sql_string_list(var('analysis_best_clusters')) ~ ')',
    },
    where='is_best_rfm_segment or is_best_cluster',
    order_by='net_monetary desc, customer_id asc',
) }}
