"""Per campaign and metric: the treated and control values, the lift with its Welch
interval and p-value, incremental revenue and the minimum detectable effect. The maths is
`customer_segmentation.campaigns.campaign_results`."""

from customer_segmentation.campaigns import campaign_results
from customer_segmentation.engine import to_pandas


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt.config.get("campaign_measurement")
    outcomes = to_pandas(dbt.ref("int_campaign_outcomes"))
    return campaign_results(
        outcomes,
        confidence=float(settings["confidence"]),
        power=float(settings["power"]),
        relevant_lift=float(settings["relevant_lift"]),
        min_buyers=int(settings["min_buyers"]),
    )
