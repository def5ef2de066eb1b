"""The backtest: the calibration fit of int_clv_fit predicts each calibration customer's
purchase occasions in the holdout period; predicted against actual per calibration
frequency group and in total (the holdout measured on the calibration fit's clock,
int_clv_seasonality), with the customers a campaign treated during the holdout
scored apart (customer_segmentation.lifetime_value.backtest_groups)."""

from customer_segmentation import lifetime_value as ltv
from customer_segmentation.engine import to_pandas


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ltv.settings_from_config(dbt.config.get("clv"))
    calibration_fit, clock = ltv.scope_fit(
        to_pandas(dbt.ref("int_clv_fit")), to_pandas(dbt.ref("int_clv_seasonality")), "calibration"
    )
    split = to_pandas(dbt.ref("int_clv_calibration_date")).iloc[0]
    start, end = split["calibration_date"], split["as_of_date"]
    groups = ltv.backtest_groups(
        to_pandas(dbt.ref("int_customer_btyd_summary")),
        ltv.fit_parameters(calibration_fit, ltv.BGNBD_PARAMETERS),
        float(clock.elapsed([start], [end])[0]),
        settings["backtest_top_frequency_group"],
        campaign_treated=ltv.treated_customers(
            ltv.campaign_treatments(
                to_pandas(dbt.ref("int_campaign_audiences")),
                to_pandas(dbt.ref("int_campaign_windows")),
            ),
            start,
            end,
        ),
        confidence=settings["backtest_confidence"],
    )
    return groups.assign(
        calibration_date=start, as_of_date=end, holdout_days=int(split["holdout_days"])
    )
