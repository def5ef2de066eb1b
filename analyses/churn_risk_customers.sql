/* Churn risk: which valuable customers are slipping away, and how much value
   is at stake if they lapse?

   Customers in an RFM segment of var analysis_churn_risk_segments (At Risk,
   Can't Lose Them, About to Sleep), ordered by the value at stake (their net
   monetary value: what they have spent, minus matched returns), the top
   var analysis_top_n (null = all). Days since the last purchase tell how
   urgent the win-back is.

   Columns: as analyses/_analyses.yml lists them (macro customer_list).

   After `dbt build`: dbt show --select churn_risk_customers --limit 20, or
   dbt compile --select churn_risk_customers and run the compiled file (README, "Analyses").
*/

{{ customer_list(
    computed={'value_at_stake': 'net_monetary'},
    where='rfm_segment in (' ~ sql_string_list(var('analysis_churn_risk_segments')) ~ ')',
    order_by='value_at_stake desc, customer_id asc',
) }}
