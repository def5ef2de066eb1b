/* Growth potential: which recent customers can we grow into loyal, repeat
   buyers?

   Customers in an RFM segment of var analysis_growth_segments (Potential
   Loyalist, Promising, New) or a K-Means cluster of var
   analysis_growth_clusters (Growth Potential), most recent first, then by
   net monetary value: the top var analysis_top_n (null = all).

   Columns: as analyses/_analyses.yml lists them (macro customer_list).

   After `dbt build`: dbt show --select growth_potential_customers --limit 20, or
   dbt compile --select growth_potential_customers and run the compiled file (README, "Analyses").
*/

{{ customer_list(
    computed={
        'is_growth_rfm_segment': 'rfm_segment in (' ~ sql_string_list(var('analysis_growth_segments')) ~ ')',
        'is_growth_cluster': 'cluster_name in (' ~ sql_string_list(var('analysis_growth_clusters')) ~ ')',
    },
    where='is_growth_rfm_segment or is_growth_cluster',
    order_by='recency_days asc, net_monetary desc, customer_id asc',
) }}
