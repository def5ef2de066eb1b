"""The month-of-year purchase intensity each lifetime-value fit measures time with
(var `clv_seasonality`), estimated from the occasions before the fit's own cut-off of
the customers no campaign treated before it
(customer_segmentation.lifetime_value.seasonality_table)."""

from customer_segmentation.lifetime_value import (
    campaign_treatments,
    seasonality_table,
    settings_from_config,
)


def model(dbt, session):
    dbt.config(materialized="table")
    settings = settings_from_config(dbt.config.get("clv"))
    spend = dbt.ref("int_customer_spend_by_day").df()
    split = dbt.ref("int_clv_calibration_date").df().iloc[0]
    treatments = campaign_treatments(
        dbt.ref("int_campaign_audiences").df(), dbt.ref("int_campaign_windows").df()
    )
    return seasonality_table(
        spend, split["calibration_date"], split["as_of_date"], settings, treatments
    )
