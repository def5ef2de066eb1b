"""The BG/NBD and Gamma-Gamma fits: one on every occasion before the as-of date (the
predictions use it), one on the backtest's calibration period.

The fitter is var `clv_fitter` (customer_segmentation.lifetime_value: SciPy maximum
likelihood, or pymc-marketing's MAP with flat priors on the same likelihoods).
"""

from customer_segmentation.lifetime_value import fit_table, settings_from_config


def model(dbt, session):
    dbt.config(materialized="table")
    settings = settings_from_config(dbt.config.get("clv"))
    table = dbt.ref("int_customer_btyd_summary").df()
    calibration = dbt.ref("int_clv_calibration_date").df()
    split = calibration.iloc[0].to_dict()
    spend = dbt.ref("int_customer_spend_by_day").df()
    customers = spend["customer_id"].nunique()
    return fit_table(table, customers, split, settings["fitter"])
