"""K-Means model files: the pure functions, loaded from the model files by path."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
from dbt_project_runner import ROOT
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

MODELS = ROOT / "models" / "intermediate"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, MODELS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


selection = load("int_kmeans_k_selection")
clusters = load("int_customer_clusters")

SETTINGS = selection.settings_from_config(
    {"k_min": "2", "k_max": "8", "forced_k": "None", "random_state": "42", "n_init": "10"}
)
SETTINGS["high_returner_threshold"] = 0.2


def separated_groups(sizes: list[int], seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    """Customers from well-separated groups in log-RFM space, with their true group."""
    rng = np.random.default_rng(seed)
    centres = [(5, 30, 8000), (40, 8, 1500), (150, 2, 300), (330, 1, 40), (90, 4, 700)]
    frames, truth = [], []
    for group, size in enumerate(sizes):
        recency, frequency, monetary = centres[group]
        frames.append(
            pd.DataFrame(
                {
                    "recency_days": np.round(recency * rng.lognormal(0, 0.08, size)) + 1,
                    "frequency": np.maximum(1, np.round(frequency * rng.lognormal(0, 0.08, size))),
                    "monetary": monetary * rng.lognormal(0, 0.08, size),
                    "return_rate": 0.0,
                    "matched_return_amount": 0.0,
                }
            )
        )
        truth += [group] * size
    customers = pd.concat(frames, ignore_index=True)
    customers.insert(0, "customer_id", [f"c{i:05d}" for i in range(len(customers))])
    return customers, np.array(truth)


def run(customers: pd.DataFrame, **overrides) -> tuple[pd.DataFrame, pd.DataFrame]:
    settings = {**SETTINGS, **overrides}
    # As the models do (var kmeans_threads): on two shared cores one thread is far faster.
    with threadpool_limits(limits=1):
        metrics = selection.select_k(customers, settings)
        return metrics, clusters.assign_clusters(customers, metrics, settings, selection)


def test_well_separated_groups_give_the_true_k_and_assignment():
    customers, truth = separated_groups([400, 300, 250, 150])
    metrics, assigned = run(customers)
    chosen = int(metrics.loc[metrics["is_chosen"], "k"].iloc[0])
    assert chosen == 4
    assert adjusted_rand_score(truth, assigned["cluster_id"]) >= 0.95


def test_one_row_per_k_with_every_metric():
    customers, _ = separated_groups([200, 200, 200])
    metrics, _ = run(customers)
    assert list(metrics["k"]) == list(range(2, 9))
    scores = ["inertia", "silhouette", "calinski_harabasz", "davies_bouldin"]
    assert metrics[scores].notna().all().all()
    assert metrics["inertia"].is_monotonic_decreasing
    assert metrics["is_chosen"].sum() == 1
    assert metrics["is_elbow"].sum() == 1
    assert (metrics["fit_sample_size"] == 600).all()


def test_same_data_same_labels_whatever_the_row_order():
    customers, _ = separated_groups([300, 200, 100])
    _, first = run(customers)
    shuffled = customers.sample(frac=1, random_state=3).sort_values("customer_id")
    _, second = run(shuffled.reset_index(drop=True))
    pd.testing.assert_frame_equal(first, second)


def test_cluster_ids_follow_business_order():
    customers, _ = separated_groups([300, 200, 100])
    _, assigned = run(customers)
    medians = (
        customers.assign(cluster_id=assigned["cluster_id"])
        .groupby("cluster_id")["monetary"]
        .median()
    )
    assert medians.is_monotonic_decreasing


def test_business_order_ranks_by_monetary_then_frequency_then_recency():
    centroids = np.array([[30, 2, 100], [5, 9, 900], [300, 1, 100], [10, 2, 100]])
    assert list(clusters.business_order(centroids)) == [3, 1, 4, 2]


def test_names_are_unique_and_follow_the_profile():
    profile = pd.DataFrame(
        {
            "recency_days": [5, 20, 200, 30, 350],
            "frequency": [20, 6, 5, 1, 1],
            "monetary": [9000, 2000, 1800, 150, 60],
            "return_rate": [0.01, 0.02, 0.0, 0.0, 0.0],
        },
        index=[1, 2, 3, 4, 5],
    )
    names = clusters.name_clusters(profile, high_returner_threshold=0.2)
    assert len(set(names.values())) == 5
    assert names[1] == "VIP"
    assert names[3] == "At Risk"
    assert names[5] == "Dormant"


def test_a_cluster_returning_a_lot_is_named_high_returners():
    profile = pd.DataFrame(
        {
            "recency_days": [5, 60, 300],
            "frequency": [10, 3, 1],
            "monetary": [5000, 800, 50],
            "return_rate": [0.02, 0.45, 0.0],
        },
        index=[1, 2, 3],
    )
    names = clusters.name_clusters(profile, high_returner_threshold=0.2)
    assert names == {1: "VIP", 2: "High Returners", 3: "Dormant"}


def test_forcing_k():
    customers, _ = separated_groups([300, 200, 100])
    metrics, assigned = run(customers, forced_k=5)
    assert list(metrics["k"]) == [5]
    assert metrics["selection_rule"].iloc[0].startswith("forced")
    assert assigned["cluster_id"].nunique() == 5


def test_fewer_customers_than_k_caps_k_and_says_why():
    customers, _ = separated_groups([3, 2])
    metrics, assigned = run(customers)
    assert metrics["k"].max() == 4
    assert "capped at 4" in metrics["note"].iloc[0]
    assert assigned["cluster_id"].between(1, 4).all()


def test_a_single_customer_is_one_cluster():
    customers, _ = separated_groups([1])
    metrics, assigned = run(customers)
    assert list(metrics["k"]) == [1] and bool(metrics["is_chosen"].iloc[0])
    assert assigned[["cluster_id", "cluster_name"]].values.tolist() == [[1, "All Customers"]]


def test_no_customers_give_empty_tables_with_their_columns():
    customers, _ = separated_groups([1])
    metrics, assigned = run(customers.iloc[0:0])
    assert metrics.empty and list(metrics.columns) == list(selection.METRIC_COLUMNS)
    assert assigned.empty and list(assigned.columns) == list(clusters.OUTPUT_COLUMNS)


def test_a_constant_feature_is_reported_and_ignored():
    customers, truth = separated_groups([200, 200, 200])
    customers["frequency"] = 1
    metrics, assigned = run(customers)
    assert "constant feature(s)" in metrics["note"].iloc[0]
    assert "frequency" in metrics["note"].iloc[0]
    assert assigned["cluster_id"].notna().all()


def test_fit_on_a_sample_still_assigns_everyone():
    customers, truth = separated_groups([1500, 1000, 500])
    metrics, assigned = run(customers, fit_sample_size=600, silhouette_sample_size=300)
    assert (metrics["fit_sample_size"] == 600).all()
    assert (metrics["silhouette_sample_size"] == 300).all()
    assert len(assigned) == 3000
    assert adjusted_rand_score(truth, assigned["cluster_id"]) >= 0.95


def test_knee_of_a_clear_elbow():
    assert selection.knee_k([2, 3, 4, 5, 6, 7], [100, 40, 12, 10, 9, 8]) == 4


@pytest.mark.parametrize("scaler", ["standard", "minmax"])
def test_both_scalers_work(scaler):
    customers, truth = separated_groups([300, 200, 100])
    _, assigned = run(customers, scaler=scaler)
    assert adjusted_rand_score(truth, assigned["cluster_id"]) >= 0.95


def test_an_unknown_scaler_is_refused():
    with pytest.raises(ValueError, match="kmeans_scaler"):
        selection.make_scaler("robust")
