"""The campaign measurement maths (customer_segmentation.campaigns), against known truths.

Each simulation draws a campaign from a known process: orders per customer are negative
binomial (a gamma-mixed Poisson, over-dispersed like real customers), order values are
lognormal, the treated arm's purchase rate is the control's times (1 + lift). The true
lift of every metric is then known in closed form, and the 95% intervals must contain it
in at least 90 of 100 seeded simulations (the expected count is 95; 90 leaves room for
chance: P(fewer than 90 of 100 | 95%) is about 1.1%).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from customer_segmentation import campaigns

BASE_RATE = 0.6  # expected orders per control customer over the measured window
DISPERSION = 1.5  # gamma shape of the customers' rates (lower = more heterogeneous)
ORDER_VALUE = (math.log(300), 0.9)  # lognormal mu and sigma of one order's value
SIMULATIONS = 100


def simulate(rng: np.random.Generator, treated: int, control: int, lift: float) -> pd.DataFrame:
    arms = np.array(["treated"] * treated + ["control"] * control)
    rate = BASE_RATE * np.where(arms == "treated", 1 + lift, 1.0)
    orders = rng.poisson(rate * rng.gamma(DISPERSION, 1 / DISPERSION, len(arms)))
    values = rng.lognormal(*ORDER_VALUE, orders.sum())
    revenue = np.bincount(np.repeat(np.arange(len(arms)), orders), values, minlength=len(arms))
    returned = revenue * rng.binomial(1, 0.1, len(arms)) * 0.5
    return pd.DataFrame(
        {
            "campaign_id": "simulated",
            "customer_id": np.arange(len(arms)).astype(str),
            "arm": arms,
            "orders": orders,
            "revenue": revenue,
            "returned_amount": returned,
        }
    )


def true_lifts(lift: float) -> dict[str, float]:
    """Absolute lift of each metric implied by the simulated process."""
    mean_value = math.exp(ORDER_VALUE[0] + ORDER_VALUE[1] ** 2 / 2)

    def p_zero(mu: float) -> float:
        return (DISPERSION / (DISPERSION + mu)) ** DISPERSION

    def p_one(mu: float) -> float:
        return p_zero(mu) * mu * DISPERSION / (DISPERSION + mu)

    treated_mu, control_mu = BASE_RATE * (1 + lift), BASE_RATE
    return {
        "orders_per_customer": treated_mu - control_mu,
        "revenue_per_customer": (treated_mu - control_mu) * mean_value,
        "conversion_rate": p_zero(control_mu) - p_zero(treated_mu),
        "repeat_purchase_rate": (
            (1 - p_zero(treated_mu) - p_one(treated_mu))
            - (1 - p_zero(control_mu) - p_one(control_mu))
        ),
        "average_order_value": 0.0,
        "returned_amount_per_customer": (treated_mu - control_mu) * mean_value * 0.05,
    }


@pytest.fixture(scope="module", params=[0.3, 0.0], ids=["lift 30%", "no effect"])
def coverage(request) -> dict:
    lift = request.param
    truth = true_lifts(lift)
    covered = {metric: 0 for metric in campaigns.METRICS}
    relative_covered = 0
    significant = 0
    for seed in range(SIMULATIONS):
        outcomes = simulate(np.random.default_rng(seed), treated=1200, control=400, lift=lift)
        results = campaigns.campaign_results(outcomes).set_index("metric")
        for metric in campaigns.METRICS:
            row = results.loc[metric]
            covered[metric] += row.absolute_lift_lower <= truth[metric] <= row.absolute_lift_upper
        orders = results.loc["orders_per_customer"]
        relative_covered += orders.relative_lift_lower <= lift <= orders.relative_lift_upper
        significant += orders.p_value < 0.05
    return {
        "lift": lift,
        "covered": covered,
        "relative": relative_covered,
        "significant": significant,
    }


def test_the_95_percent_intervals_contain_the_true_lift_in_90_of_100(coverage):
    print(f"lift {coverage['lift']}: intervals containing the truth {coverage['covered']}")
    assert all(count >= 90 for count in coverage["covered"].values()), coverage["covered"]
    assert coverage["relative"] >= 90


def test_the_p_value_rejects_as_often_as_it_should(coverage):
    # No effect: false positives about 5 in 100. A 30% lift on these sizes: power well over 80%.
    if coverage["lift"] == 0:
        assert coverage["significant"] <= 10
    else:
        assert coverage["significant"] >= 80


def test_welch_matches_scipy_on_unequal_variances():
    rng = np.random.default_rng(7)
    treated, control = rng.normal(1.2, 3.0, 80), rng.normal(1.0, 1.0, 30)
    lift = campaigns.compare(campaigns.mean_estimate(treated), campaigns.mean_estimate(control))
    reference = campaigns.stats.ttest_ind(treated, control, equal_var=False)
    assert lift.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    interval = reference.confidence_interval(0.95)
    assert (lift.absolute_lift_lower, lift.absolute_lift_upper) == pytest.approx(
        (interval.low, interval.high), rel=1e-9
    )


def test_a_small_test_that_finds_nothing_says_it_is_underpowered():
    outcomes = simulate(np.random.default_rng(3), treated=40, control=10, lift=0.0)
    results = campaigns.campaign_results(outcomes, relevant_lift=0.1).set_index("metric")
    orders = results.loc["orders_per_customer"]
    assert orders.minimum_detectable_relative_lift > 0.1
    if orders.p_value >= 0.05:
        assert orders.conclusion == "underpowered"
    big = simulate(np.random.default_rng(3), treated=200_000, control=200_000, lift=0.0)
    big_orders = campaigns.campaign_results(big).set_index("metric").loc["orders_per_customer"]
    assert big_orders.minimum_detectable_relative_lift < 0.1
    assert big_orders.conclusion in {"no detectable effect", "significant lift", "significant drop"}


def test_a_handful_of_buyers_is_underpowered_whatever_the_p_value():
    # The demo's June win-back: 21 control customers, 2 of whom bought; Welch's p-value is
    # small only because two values among zeros make the control's variance look tiny.
    control = pd.DataFrame({"orders": [1, 1] + [0] * 19, "revenue": [700.0, 775.0] + [0.0] * 19})
    treated = pd.DataFrame({"orders": [1] * 19 + [0] * 64, "revenue": [1900.0] * 19 + [0.0] * 64})
    outcomes = pd.concat([treated.assign(arm="treated"), control.assign(arm="control")])
    outcomes = outcomes.assign(campaign_id="small", customer_id="x", returned_amount=0.0)
    revenue = campaigns.campaign_results(outcomes).set_index("metric").loc["revenue_per_customer"]
    assert revenue.p_value < 0.05
    assert revenue.conclusion == "underpowered"
    relaxed = campaigns.campaign_results(outcomes, min_buyers=2).set_index("metric")
    assert relaxed.loc["revenue_per_customer"].conclusion == "significant lift"


def test_incremental_revenue_is_the_revenue_lift_times_the_treated_customers():
    outcomes = simulate(np.random.default_rng(5), treated=300, control=100, lift=0.3)
    revenue = campaigns.campaign_results(outcomes).set_index("metric").loc["revenue_per_customer"]
    assert revenue.incremental_revenue == pytest.approx(revenue.absolute_lift * 300)
    assert revenue.incremental_revenue_lower == pytest.approx(revenue.absolute_lift_lower * 300)


def test_an_arm_without_customers_or_orders_is_not_measurable_rather_than_an_error():
    outcomes = simulate(np.random.default_rng(1), treated=20, control=0, lift=0.0)
    results = campaigns.campaign_results(outcomes).set_index("metric")
    assert (results["conclusion"] == "not measurable").all()
    no_orders = simulate(np.random.default_rng(1), treated=20, control=20, lift=0.0)
    no_orders[["orders", "revenue", "returned_amount"]] = 0
    aov = campaigns.campaign_results(no_orders).set_index("metric").loc["average_order_value"]
    assert aov.conclusion == "not measurable"
