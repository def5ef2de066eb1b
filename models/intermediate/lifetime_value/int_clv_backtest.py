"""The backtest: the calibration fit of int_clv_fit predicts each calibration customer's
purchase occasions in the holdout period; predicted against actual per calibration
frequency group and in total (the holdout measured on the calibration fit's clock,
int_clv_seasonality), with the customers a campaign treated during the holdout
scored apart (customer_segmentation.lifetime_value.backtest_groups)."""

from customer_segmentation.lifetime_value import (
    BGNBD_PARAMETERS,
    backtest_groups,
    clocks_from_table,
    fit_parameters,
    settings_from_config,
    treated_customers,
)


def model(dbt, session):
    dbt.config(materialized="table")
    settings = settings_from_config(dbt.config.get("clv"))
    table = dbt.ref("int_customer_btyd_summary").df()
    fits = dbt.ref("int_clv_fit").df()
    calibration = dbt.ref("int_clv_calibration_date").df()
    treatments = dbt.ref("int_clv_campaign_treatments").df()
    split = calibration.iloc[0]
    clock = clocks_from_table(dbt.ref("int_clv_seasonality").df())["calibration"]
    holdout = float(clock.elapsed([split["calibration_date"]], [split["as_of_date"]])[0])
    calibration_fit = fits[fits["fit_scope"] == "calibration"].iloc[0]
    groups = backtest_groups(
        table,
        fit_parameters(calibration_fit, BGNBD_PARAMETERS),
        holdout,
        settings["backtest_top_frequency_group"],
        campaign_treated=treated_customers(
            treatments, split["calibration_date"], split["as_of_date"]
        ),
        confidence=settings["backtest_confidence"],
    )
    return groups.assign(
        calibration_date=split["calibration_date"],
        as_of_date=split["as_of_date"],
        holdout_days=int(split["holdout_days"]),
    )
