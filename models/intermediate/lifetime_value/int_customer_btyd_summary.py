"""Per customer, the BTYD summary the lifetime-value models are fitted to.

Purchase occasions are days with positive net spend (int_customer_spend_by_day). The
summary is taken at the as-of date and at the backtest's calibration date, with the
occasions of the holdout period between them (customer_segmentation.lifetime_value).
"""

from customer_segmentation.lifetime_value import btyd_table


def model(dbt, session):
    dbt.config(materialized="table")
    spend = dbt.ref("int_customer_spend_by_day").df()
    calibration = dbt.ref("int_clv_calibration_date").df()
    split = calibration.iloc[0]
    return btyd_table(spend, split["calibration_date"], split["as_of_date"])
