"""Campaign measurement: the lift of a campaign's treated arm over its control group.

Every metric is a comparison of two independent groups of customers, so every interval is
a **Welch** interval (unequal variances, Welch-Satterthwaite degrees of freedom):

- per-customer means (conversion, orders, revenue, returns, repeat purchase) are compared
  directly: the customers are independent, the arms are hundreds or thousands of customers
  (the central limit theorem holds even for skewed revenue), the arms have different sizes
  and variances (a 10% control group), and the interval is closed-form and reproducible,
  where a bootstrap would need a seed, thousands of resamples per metric and gives no
  better coverage at these sizes;
- the average order value is a ratio of sums (revenue over orders), so its variance comes
  from the delta method: each customer's linearised value (revenue - aov x orders) / mean
  orders, whose mean's variance is the ratio's;
- the relative lift (treated / control - 1) has its interval from the delta method too.

The minimum detectable effect is the absolute lift a test of this size would detect with
the configured power at the configured significance: (t(1 - alpha/2) + t(power)) x the
standard error of the difference. A test whose minimum detectable relative lift is above
the lift worth detecting (var `campaign_relevant_lift`) and that finds nothing is reported
as underpowered, not as "no effect"; so is any test with fewer buyers in an arm than var
`campaign_min_buyers_per_arm` (the normal approximation needs them, see `conclusion`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

# Per-customer metrics compared as means, and how each is computed from the outcomes.
MEAN_METRICS = {
    "conversion_rate": lambda outcomes: (outcomes["orders"] > 0).astype(float),
    "orders_per_customer": lambda outcomes: outcomes["orders"].astype(float),
    "revenue_per_customer": lambda outcomes: outcomes["revenue"].astype(float),
    "repeat_purchase_rate": lambda outcomes: (outcomes["orders"] >= 2).astype(float),
    "returned_amount_per_customer": lambda outcomes: outcomes["returned_amount"].astype(float),
}
RATIO_METRICS = {"average_order_value": ("revenue", "orders")}
METRICS = (*MEAN_METRICS, *RATIO_METRICS)
OUTCOME_COLUMNS = ("campaign_id", "customer_id", "arm", "orders", "revenue", "returned_amount")


@dataclass(frozen=True)
class Estimate:
    """A group's value of a metric, the variance of that value, and its sample size."""

    value: float
    variance: float
    customers: int


@dataclass(frozen=True)
class Lift:
    treated_value: float
    control_value: float
    absolute_lift: float
    absolute_lift_lower: float
    absolute_lift_upper: float
    relative_lift: float
    relative_lift_lower: float
    relative_lift_upper: float
    p_value: float
    degrees_of_freedom: float
    minimum_detectable_lift: float
    minimum_detectable_relative_lift: float


def mean_estimate(values: np.ndarray) -> Estimate:
    """The mean and the variance of the mean (sample variance / n)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n == 0:
        return Estimate(math.nan, math.nan, 0)
    variance = float(values.var(ddof=1)) / n if n > 1 else math.nan
    return Estimate(float(values.mean()), variance, n)


def ratio_estimate(numerator: np.ndarray, denominator: np.ndarray) -> Estimate:
    """sum(numerator) / sum(denominator) with its delta-method variance."""
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    n = len(numerator)
    if n == 0 or denominator.sum() == 0:
        return Estimate(math.nan, math.nan, n)
    ratio = numerator.sum() / denominator.sum()
    linearised = (numerator - ratio * denominator) / denominator.mean()
    variance = float(linearised.var(ddof=1)) / n if n > 1 else math.nan
    return Estimate(float(ratio), variance, n)


def welch_degrees_of_freedom(treated: Estimate, control: Estimate) -> float:
    """Welch-Satterthwaite, from the variances of the two estimates."""
    pieces = [(e.variance, e.customers) for e in (treated, control)]
    denominator = sum(v**2 / (n - 1) for v, n in pieces if n > 1)
    if denominator == 0:
        return math.inf
    return (treated.variance + control.variance) ** 2 / denominator


def compare(
    treated: Estimate, control: Estimate, confidence: float = 0.95, power: float = 0.8
) -> Lift:
    """Welch interval and test of treated - control, the relative lift and the MDE."""
    difference = treated.value - control.value
    variance = treated.variance + control.variance
    if not (np.isfinite(difference) and np.isfinite(variance)):
        nan = math.nan
        return Lift(treated.value, control.value, difference, *([nan] * 9))
    se = math.sqrt(variance)
    df = welch_degrees_of_freedom(treated, control)
    t_interval = stats.t.ppf(0.5 + confidence / 2, df)
    t_power = stats.t.ppf(power, df)
    if se > 0:
        p_value = float(2 * stats.t.sf(abs(difference) / se, df))
    else:
        p_value = 1.0 if difference == 0 else 0.0
    mde = float((t_interval + t_power) * se)
    if control.value != 0:
        relative = treated.value / control.value - 1
        # Delta method for a ratio of two independent means.
        relative_se = math.sqrt(
            treated.variance / control.value**2
            + treated.value**2 * control.variance / control.value**4
        )
        relative_bounds = (relative - t_interval * relative_se, relative + t_interval * relative_se)
        relative_mde = mde / abs(control.value)
    else:
        relative, relative_bounds, relative_mde = math.nan, (math.nan, math.nan), math.nan
    return Lift(
        treated_value=treated.value,
        control_value=control.value,
        absolute_lift=difference,
        absolute_lift_lower=difference - t_interval * se,
        absolute_lift_upper=difference + t_interval * se,
        relative_lift=relative,
        relative_lift_lower=relative_bounds[0],
        relative_lift_upper=relative_bounds[1],
        p_value=p_value,
        degrees_of_freedom=float(df),
        minimum_detectable_lift=mde,
        minimum_detectable_relative_lift=relative_mde,
    )


def metric_estimates(outcomes: pd.DataFrame, metric: str) -> Estimate:
    """One arm's estimate of one metric, from one row per customer of that arm."""
    if metric in RATIO_METRICS:
        numerator, denominator = RATIO_METRICS[metric]
        return ratio_estimate(outcomes[numerator].to_numpy(), outcomes[denominator].to_numpy())
    return mean_estimate(MEAN_METRICS[metric](outcomes).to_numpy())


def conclusion(
    lift: Lift, significance: float, relevant_lift: float, fewest_buyers: int, min_buyers: int
) -> str:
    """What a marketer may conclude: a significant lift or drop, nothing, or too small to tell.

    `fewest_buyers` is the smaller arm's count of customers who bought: with only a handful
    the metrics are a few large values among zeros, their variance estimate is unreliable and
    Welch's interval far too narrow (a 21-customer control group with 2 buyers "proves" any
    lift), so below `min_buyers` the test is underpowered whatever its p-value.
    """
    if not np.isfinite(lift.p_value):
        return "not measurable"
    if fewest_buyers < min_buyers:
        return "underpowered"
    if lift.p_value < significance:
        return "significant lift" if lift.absolute_lift > 0 else "significant drop"
    if not np.isfinite(lift.minimum_detectable_relative_lift) or (
        lift.minimum_detectable_relative_lift > relevant_lift
    ):
        return "underpowered"
    return "no detectable effect"


def campaign_results(
    outcomes: pd.DataFrame,
    confidence: float = 0.95,
    power: float = 0.8,
    relevant_lift: float = 0.1,
    min_buyers: int = 10,
) -> pd.DataFrame:
    """One row per campaign and metric, from one row per campaign, customer and arm.

    `outcomes` columns: campaign_id, customer_id, arm ('treated' or 'control'), orders,
    revenue, returned_amount. Incremental revenue is the revenue-per-customer lift (and its
    interval) times the treated customers.
    """
    missing = sorted(set(OUTCOME_COLUMNS) - set(outcomes.columns))
    if missing:
        raise ValueError(f"campaign outcomes lack the columns {missing}")
    rows = []
    for campaign_id, campaign in outcomes.groupby("campaign_id", sort=True):
        arms = {arm: campaign[campaign["arm"] == arm] for arm in ("treated", "control")}
        treated_customers = len(arms["treated"])
        fewest_buyers = min(int((arm["orders"] > 0).sum()) for arm in arms.values())
        for metric in METRICS:
            lift = compare(
                metric_estimates(arms["treated"], metric),
                metric_estimates(arms["control"], metric),
                confidence,
                power,
            )
            row = {
                "campaign_id": campaign_id,
                "metric": metric,
                "treated_customers": treated_customers,
                "control_customers": len(arms["control"]),
                **asdict(lift),
                "conclusion": conclusion(
                    lift, 1 - confidence, relevant_lift, fewest_buyers, min_buyers
                ),
            }
            if metric == "revenue_per_customer":
                row["incremental_revenue"] = lift.absolute_lift * treated_customers
                row["incremental_revenue_lower"] = lift.absolute_lift_lower * treated_customers
                row["incremental_revenue_upper"] = lift.absolute_lift_upper * treated_customers
            rows.append(row)
    columns = [
        "campaign_id",
        "metric",
        "treated_customers",
        "control_customers",
        *Lift.__dataclass_fields__,
        "conclusion",
        "incremental_revenue",
        "incremental_revenue_lower",
        "incremental_revenue_upper",
    ]
    results = pd.DataFrame(rows, columns=columns)
    results["treated_customers"] = results["treated_customers"].astype("int64")
    results["control_customers"] = results["control_customers"].astype("int64")
    return results
