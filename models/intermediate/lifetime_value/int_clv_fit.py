"""The BG/NBD and Gamma-Gamma fits: one on every occasion before the as-of date (the
predictions use it), one on the backtest's calibration period.

The fitter is var `clv_fitter` (customer_segmentation.lifetime_value: SciPy maximum
likelihood, or pymc-marketing's MAP with flat priors on the same likelihoods).
"""

from customer_segmentation.engine import distinct_count, to_pandas
from customer_segmentation.lifetime_value import fit_table, settings_from_config


def model(dbt, session):
    dbt.config(materialized="table")
    settings = settings_from_config(dbt.config.get("clv"))
    table = to_pandas(dbt.ref("int_customer_btyd_summary"))
    calibration = to_pandas(dbt.ref("int_clv_calibration_date"))
    split = calibration.iloc[0].to_dict()
    customers = distinct_count(dbt.ref("int_customer_spend_by_day"), "customer_id")
    return fit_table(table, customers, split, settings["fitter"])
