"""The month-of-year purchase intensity each lifetime-value fit measures time with
(var `clv_seasonality`), estimated from the occasions before the fit's own cut-off of
the customers no campaign treated before it
(customer_segmentation.lifetime_value.seasonality_table)."""

from customer_segmentation.engine import to_pandas
from customer_segmentation.lifetime_value import (
    campaign_treatments,
    seasonality_table,
    settings_from_config,
)


def model(dbt, session):
    dbt.config(materialized="table")
    settings = settings_from_config(dbt.config.get("clv"))
    spend = to_pandas(dbt.ref("int_customer_spend_by_day"))
    split = to_pandas(dbt.ref("int_clv_calibration_date")).iloc[0]
    treatments = campaign_treatments(
        to_pandas(dbt.ref("int_campaign_audiences")), to_pandas(dbt.ref("int_campaign_windows"))
    )
    return seasonality_table(
        spend, split["calibration_date"], split["as_of_date"], settings, treatments
    )
