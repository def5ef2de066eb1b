"""Per customer: probability alive, expected purchases, expected value per purchase and
predicted CLV, from the as-of fit of int_clv_fit, the periods ahead measured on the
as-of fit's clock (int_clv_seasonality; customer_segmentation.lifetime_value)."""

from customer_segmentation.lifetime_value import (
    clocks_from_table,
    predictions_table,
    settings_from_config,
)


def model(dbt, session):
    dbt.config(materialized="table")
    settings = settings_from_config(dbt.config.get("clv"))
    table = dbt.ref("int_customer_btyd_summary").df()
    fits = dbt.ref("int_clv_fit").df()
    fit_row = fits[fits["fit_scope"] == "as_of"].iloc[0]
    clock = clocks_from_table(dbt.ref("int_clv_seasonality").df())["as_of"]
    as_of_date = dbt.ref("int_clv_calibration_date").df().iloc[0]["as_of_date"]
    return predictions_table(table, fit_row, settings, as_of_date, clock)
