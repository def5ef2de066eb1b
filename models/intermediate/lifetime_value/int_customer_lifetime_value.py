"""Per customer: probability alive, expected purchases, expected value per purchase and
predicted CLV, from the as-of fit of int_clv_fit, the periods ahead measured on the
as-of fit's clock (int_clv_seasonality; customer_segmentation.lifetime_value)."""

from customer_segmentation import lifetime_value as ltv
from customer_segmentation.engine import to_pandas


def model(dbt, session):
    dbt.config(materialized="table")
    fit_row, clock = ltv.scope_fit(
        to_pandas(dbt.ref("int_clv_fit")), to_pandas(dbt.ref("int_clv_seasonality")), "as_of"
    )
    as_of_date = to_pandas(dbt.ref("int_clv_calibration_date")).iloc[0]["as_of_date"]
    return ltv.predictions_table(
        to_pandas(dbt.ref("int_customer_btyd_summary")),
        fit_row,
        ltv.settings_from_config(dbt.config.get("clv")),
        as_of_date,
        clock,
    )
