/* High returners: who returns a large share of what they buy, and how much
   value comes back?

   Customers flagged is_high_returner (matched returns reach
   var high_returner_threshold of their purchased value), by matched returned
   value, the top var analysis_top_n (null = all). Candidates to exclude from
   discount-heavy campaigns and to ask about return reasons.

   Columns: as analyses/_analyses.yml lists them (macro customer_list).

   After `dbt build`: dbt show --select high_returners --limit 20, or
   dbt compile --select high_returners and run the compiled file (README, "Analyses").
*/

{{ customer_list(
    where='is_high_returner',
    order_by='matched_return_amount desc, return_rate desc, customer_id asc',
) }}
