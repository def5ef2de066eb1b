"""Per customer, the BTYD summary the lifetime-value models are fitted to.

Purchase occasions are days with positive net spend (int_customer_spend_by_day). The
summary is taken at the as-of date and at the backtest's calibration date, with the
occasions of the holdout period between them, in seasonal days of each fit's clock
(int_clv_seasonality; customer_segmentation.lifetime_value).
"""

from customer_segmentation.engine import to_pandas
from customer_segmentation.lifetime_value import btyd_table, clocks_from_table


def model(dbt, session):
    dbt.config(materialized="table")
    spend = to_pandas(dbt.ref("int_customer_spend_by_day"))
    clocks = clocks_from_table(to_pandas(dbt.ref("int_clv_seasonality")))
    split = to_pandas(dbt.ref("int_clv_calibration_date")).iloc[0]
    return btyd_table(spend, split["calibration_date"], split["as_of_date"], clocks)
