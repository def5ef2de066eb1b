"""Issue 15's acceptance on the demo and on a generated export shaped like the real Online
Retail data (~4,300 customers, most buying once): chosen k between 3 and 6, every cluster
at least 5% of customers, labels that agree across K-Means seeds (ARI >= 0.9) and across
refits on 50% samples (ARI >= 0.85) with the same names, and the KNN classifier's
cross-validated accuracy (>= 0.95 on the demo, read from the built mart).

The RFM features come from dbt builds, read from the `customers` mart (the columns the
clustering models read, `CLUSTERING_INPUTS`); the reruns call the package's pure functions
with the settings the models get (tests/python/test_kmeans.py: project_settings).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dbt_project_runner import build
from sklearn.metrics import adjusted_rand_score
from test_kmeans import NAMES, project_settings
from threadpoolctl import threadpool_limits

from customer_segmentation.clustering.assignment import assign_clusters, assignment_quality
from customer_segmentation.clustering.features import CLUSTERING_INPUTS
from customer_segmentation.clustering.selection import select_k
from scripts.demo_data import generate_transactions

SEEDS = (1, 2, 3)
HALF_SAMPLE_SEEDS = (1, 2, 3)
# About 4,300 customers, as in the real export (the generator's ~90 lines per customer).
REAL_SHAPED_LINES = 390_000


def rfm(warehouse) -> pd.DataFrame:
    frame = warehouse.frame(f"select {CLUSTERING_INPUTS} from customers order by customer_id")
    return frame.reset_index(drop=True)


@pytest.fixture(scope="module")
def demo_customers(demo_warehouse) -> pd.DataFrame:
    return rfm(demo_warehouse)


@pytest.fixture(scope="module")
def real_shaped_customers(tmp_path_factory) -> pd.DataFrame:
    directory = tmp_path_factory.mktemp("real_shaped")
    path = directory / "lines.parquet"
    generate_transactions.main(
        [
            "--lines",
            str(REAL_SHAPED_LINES),
            "--seed",
            "2011",
            "--out",
            str(path),
            "--format",
            "parquet",
        ]
    )
    warehouse = build(directory, {"raw_transactions_path": str(path)}, select="+customers")
    return rfm(warehouse)


def clustering(customers: pd.DataFrame, **overrides):
    settings = project_settings(**overrides)
    with threadpool_limits(limits=1):
        metrics = select_k(customers, settings)
        k = int(metrics.loc[metrics["is_chosen"], "k"].iloc[0])
        labels = assign_clusters(customers, k, settings, NAMES)
    return metrics, k, labels, settings


def matched_names(reference: pd.DataFrame, other: pd.DataFrame) -> dict[str, str]:
    """Each reference cluster's name and the name of the rerun cluster most of its
    customers are in (ids may be numbered differently; names must not differ)."""
    crosstab = pd.crosstab(reference["cluster_name"], other["cluster_name"])
    return {name: crosstab.loc[name].idxmax() for name in crosstab.index}


def check_acceptance(customers: pd.DataFrame) -> dict:
    metrics, k, reference, _ = clustering(customers)
    shares = reference["cluster_id"].value_counts(normalize=True)
    assert 3 <= k <= 6, metrics[["k", "stability_ari_mean", "stability_jaccard_min"]]
    assert shares.min() >= 0.05
    found = {"k": k, "seed_ari": [], "half_ari": []}
    for seed in SEEDS:
        _, k_seed, labels, _ = clustering(customers, random_state=seed)
        assert k_seed == k
        found["seed_ari"].append(adjusted_rand_score(reference["cluster_id"], labels["cluster_id"]))
        assert matched_names(reference, labels) == {n: n for n in reference["cluster_name"]}
    for seed in HALF_SAMPLE_SEEDS:
        # The chosen model refitted on half the customers; the other half labelled by KNN.
        _, _, labels, _ = clustering(
            customers, random_state=seed, fit_sample_size=len(customers) // 2, forced_k=k
        )
        assert (labels["assigned_by"] == "knn").sum() == len(customers) - len(customers) // 2
        found["half_ari"].append(adjusted_rand_score(reference["cluster_id"], labels["cluster_id"]))
        assert matched_names(reference, labels) == {n: n for n in reference["cluster_name"]}
    assert min(found["seed_ari"]) >= 0.9, found
    assert min(found["half_ari"]) >= 0.85, found
    return found


def test_demo_segments_are_actionable_and_reproducible(demo_customers):
    check_acceptance(demo_customers)


def test_real_shaped_export_segments_are_actionable_and_reproducible(real_shaped_customers):
    assert 3_800 <= len(real_shaped_customers) <= 4_800
    assert (real_shaped_customers["frequency"] == 1).mean() > 0.35
    check_acceptance(real_shaped_customers)


def test_demo_build_writes_the_chosen_k_and_a_knn_accuracy_of_at_least_095(demo_warehouse):
    chosen = demo_warehouse.frame("select * from cluster_k_selection where is_chosen")
    assert len(chosen) == 1 and 3 <= chosen["k"].iloc[0] <= 6
    assert chosen["is_stable"].iloc[0] and chosen["selection_reason"].iloc[0].startswith("chosen")
    quality = demo_warehouse.frame("select * from cluster_assignment_quality")
    assert quality["cv_accuracy"].iloc[0] >= 0.95
    assert quality["cv_macro_f1"].iloc[0] >= 0.9
    shares = demo_warehouse.frame("select customer_share from cluster_profiles")["customer_share"]
    assert shares.min() >= 0.05 and np.isclose(shares.sum(), 1)


def test_demo_knn_accuracy_recomputed_from_the_pure_functions(demo_customers):
    _, _, labels, settings = clustering(demo_customers)
    quality = assignment_quality(demo_customers, labels, settings).iloc[0]
    assert quality["cv_folds"] == settings["knn_cv_folds"]
    assert quality["cv_accuracy"] >= 0.95


def test_every_customer_has_one_segment_and_one_action(demo_warehouse):
    """High returners get the seed's high-returner action, everyone else the RFM action."""
    customers = demo_warehouse.frame(
        "select customers.*, rfm_segments.recommended_action as segment_action"
        " from customers join rfm_segments using (rfm_segment)"
    )
    returners = demo_warehouse.frame(
        "select cluster_name, recommended_action from cluster_names"
        " where name_role = 'high_returners'"
    ).iloc[0]
    high = customers["is_high_returner"]
    assert high.any() and (~high).any()
    assert (customers.loc[high, "primary_segment"] == returners["cluster_name"]).all()
    assert (customers.loc[high, "recommended_action"] == returners["recommended_action"]).all()
    others = customers.loc[~high]
    assert (others["primary_segment"] == others["rfm_segment"]).all()
    assert (others["recommended_action"] == others["segment_action"]).all()
    audience = demo_warehouse.frame(
        "select customer_id, primary_segment, recommended_action from campaign_audience"
    )
    merged = audience.merge(customers, on="customer_id", suffixes=("", "_customer"))
    assert len(merged) == len(customers)
    assert (merged["recommended_action"] == merged["recommended_action_customer"]).all()
    crosstab = demo_warehouse.frame("select * from segment_cluster_crosstab")
    assert crosstab["customers"].sum() == len(customers)
    assert crosstab.groupby("rfm_segment")["share_of_rfm_segment"].sum().round(9).eq(1).all()
