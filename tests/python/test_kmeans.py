"""The clustering maths of customer_segmentation.clustering, tested directly (no dbt)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from dbt_project_runner import ROOT
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from customer_segmentation.clustering import (
    algorithms,
    assignment,
    comparison,
    naming,
    selection,
    stability,
)
from customer_segmentation.clustering.features import make_scaler, settings_from_config
from customer_segmentation.project import project_vars


def project_settings(**overrides) -> dict:
    """The settings the dbt models get (every var from dbt_project.yml), then `overrides`."""
    settings = settings_from_config({k: str(v) for k, v in overrides.items()})
    settings["high_returner_threshold"] = float(project_vars()["high_returner_threshold"])
    return settings


def seed_names() -> dict:
    return naming.seed_names(pd.read_csv(ROOT / "seeds" / "cluster_names.csv"))


SETTINGS = project_settings()
NAMES = seed_names()


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
        chosen = metrics.loc[metrics["is_chosen"], "k"]
        k = int(chosen.iloc[0]) if len(chosen) else None
        return metrics, assignment.assign_clusters(customers, k, settings, NAMES)


# ---- k selection ---------------------------------------------------------------------


def test_well_separated_groups_give_the_true_k_and_assignment():
    customers, truth = separated_groups([400, 300, 250, 150])
    metrics, assigned = run(customers)
    chosen = metrics.loc[metrics["is_chosen"]].iloc[0]
    assert chosen["k"] == 4
    assert chosen["is_stable"] and chosen["stability_ari_mean"] >= 0.95
    assert adjusted_rand_score(truth, assigned["cluster_id"]) >= 0.95


def test_one_row_per_k_with_every_metric():
    customers, _ = separated_groups([200, 200, 200])
    metrics, _ = run(customers, k_max=8)
    assert list(metrics["k"]) == list(range(2, 9))
    scores = [
        "inertia",
        "silhouette",
        "silhouette_min_cluster",
        "calinski_harabasz",
        "davies_bouldin",
        "stability_ari_mean",
        "stability_jaccard_min",
    ]
    assert metrics[scores].notna().all().all()
    assert (metrics["silhouette_min_cluster"] <= metrics["silhouette"]).all()
    assert (metrics["stability_ari_min"] <= metrics["stability_ari_mean"]).all()
    assert (metrics["stability_resamples"] == SETTINGS["stability_resamples"]).all()
    assert metrics["inertia"].is_monotonic_decreasing
    assert metrics["is_chosen"].sum() == 1
    assert metrics["is_elbow"].sum() == 1
    assert metrics["selection_reason"].str.len().gt(0).all()
    assert (metrics["fit_sample_size"] == 600).all()


def test_splitting_a_true_group_is_unstable():
    """Three tight groups: k = 3 is stable; at k = 5 K-Means must cut groups in two, and
    refits cut them differently, so some cluster's Jaccard falls."""
    customers, _ = separated_groups([300, 300, 300])
    metrics, _ = run(customers, k_max=5)
    by_k = metrics.set_index("k")
    assert by_k.loc[3, "is_stable"] and by_k.loc[3, "is_chosen"]
    assert by_k.loc[5, "stability_jaccard_min"] < by_k.loc[3, "stability_jaccard_min"]
    assert "chosen" in by_k.loc[3, "selection_reason"]


def metrics_frame(rows: list[tuple[int, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["k", "smallest_cluster_share", "ari", "jaccard"]).rename(
        columns={"ari": "stability_ari_mean", "jaccard": "stability_jaccard_min"}
    )


def test_the_rule_takes_the_largest_stable_k_that_is_large_enough():
    metrics = metrics_frame(
        [
            (2, 0.40, 0.99, 0.99),
            (3, 0.20, 0.80, 0.90),  # unstable (ARI)
            (4, 0.12, 0.90, 0.90),  # stable, large enough: chosen
            (5, 0.03, 0.95, 0.90),  # stable, but a cluster of 3%
            (6, 0.10, 0.90, 0.60),  # a cluster dissolves (Jaccard)
        ]
    )
    k, rule = selection.choose_k(metrics, SETTINGS)
    assert k == 4
    assert rule.startswith("largest k that is stable")
    reasons = selection.row_reasons(metrics, k, SETTINGS)
    assert reasons[2].startswith("chosen")
    assert "unstable: mean ARI 0.800" in reasons[1]
    assert "smallest cluster 3.0%" in reasons[3]
    assert "worst cluster Jaccard 0.600" in reasons[4]
    assert reasons[0] == "stable and large enough, but a larger k is too"


def test_the_rule_falls_back_to_the_most_stable_k_and_says_so():
    unstable = metrics_frame([(2, 0.4, 0.80, 0.9), (3, 0.2, 0.84, 0.9), (4, 0.1, 0.70, 0.9)])
    k, rule = selection.choose_k(unstable, SETTINGS)
    assert k == 3 and rule.startswith("no k is stable")
    tiny = metrics_frame([(2, 0.01, 0.9, 0.9), (3, 0.01, 0.95, 0.9)])
    k, rule = selection.choose_k(tiny, SETTINGS)
    assert k == 3 and rule.startswith("no k keeps every cluster")


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
    assert list(naming.business_order(centroids)) == [3, 1, 4, 2]


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
    assert assigned.empty and list(assigned.columns) == list(assignment.OUTPUT_COLUMNS)


def test_a_constant_feature_is_reported_and_ignored():
    customers, truth = separated_groups([200, 200, 200])
    customers["frequency"] = 1
    metrics, assigned = run(customers)
    assert "constant feature(s)" in metrics["note"].iloc[0]
    assert "frequency" in metrics["note"].iloc[0]
    assert assigned["cluster_id"].notna().all()


def test_fit_on_a_sample_labels_everyone_else_by_knn():
    customers, truth = separated_groups([1500, 1000, 500])
    metrics, assigned = run(customers, fit_sample_size=600, silhouette_sample_size=300)
    assert (metrics["fit_sample_size"] == 600).all()
    assert (metrics["silhouette_sample_size"] == 300).all()
    assert len(assigned) == 3000
    assert assigned["is_in_fit_sample"].sum() == 600
    assert (assigned.loc[~assigned["is_in_fit_sample"], "assigned_by"] == "knn").all()
    assert (assigned.loc[assigned["is_in_fit_sample"], "assigned_by"] == "kmeans").all()
    assert adjusted_rand_score(truth, assigned["cluster_id"]) >= 0.95


def test_knee_of_a_clear_elbow():
    assert selection.knee_k([2, 3, 4, 5, 6, 7], [100, 40, 12, 10, 9, 8]) == 4


@pytest.mark.parametrize("scaler", ["rank", "standard", "minmax"])
def test_every_scaler_works(scaler):
    # The scaler, not the rule: with minmax, halving the 300-customer group is itself
    # reproducible (worst Jaccard 0.86), so the rule may take k = 4 (README, limits).
    customers, truth = separated_groups([300, 200, 100])
    _, assigned = run(customers, scaler=scaler, forced_k=3)
    assert adjusted_rand_score(truth, assigned["cluster_id"]) >= 0.95


def test_the_rank_scaler_gives_percentiles_with_ties_together():
    values = np.array([[1.0], [1.0], [1.0], [2.0], [3.0], [10.0]])
    ranks = make_scaler("rank", len(values)).fit(values).transform(values).ravel()
    assert ranks[0] == ranks[1] == ranks[2]
    assert list(np.argsort(ranks[2:])) == [0, 1, 2, 3]
    assert ranks.min() >= 0 and ranks.max() == 1


def test_an_unknown_scaler_or_algorithm_is_refused():
    with pytest.raises(ValueError, match="kmeans_scaler"):
        make_scaler("robust")
    with pytest.raises(ValueError, match="clustering_algorithm"):
        settings_from_config({"algorithm": "dbscan"})


# ---- stability ------------------------------------------------------------------------


def test_cluster_jaccard_of_known_labelings():
    reference = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    same_renamed = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    assert stability.cluster_jaccard(reference, same_renamed).tolist() == [1.0, 1.0]
    # Each cluster keeps 3 of its 4 members and gains 1 of the other's: 3 / 5.
    moved = np.array([0, 0, 0, 1, 1, 1, 1, 0])
    jaccard = stability.cluster_jaccard(reference, moved)
    assert jaccard[0] == pytest.approx(3 / 5) and jaccard[1] == pytest.approx(3 / 5)
    # Noise in the refit matches no cluster; noise in the reference is no cluster.
    noisy = np.array([-1, -1, 0, 0, 1, 1, 1, 1])
    assert stability.cluster_jaccard(reference, noisy).tolist() == [0.5, 1.0]
    assert list(stability.cluster_jaccard(noisy, reference).index) == [0, 1]


def test_adjusted_rand_is_scikit_learns_to_the_last_bit():
    rng = np.random.default_rng(3)
    cases = [
        (np.array([0, 0, 1, 1]), np.array([1, 1, 0, 0])),
        (np.array([0, 0, 0, 0]), np.array([0, 0, 0, 0])),
        (np.array([0, 0, 0, 0]), np.array([0, 1, 2, 3])),
        (np.array([5]), np.array([-1])),
        (np.array([-1, -1, 0, 2, 2, 7]), np.array([3, 3, 3, 0, 1, 1])),
    ]
    for n, k in ((50, 3), (2_000, 6), (7_000, 2)):
        truth = rng.integers(0, k, n)
        noisy = np.where(rng.random(n) < 0.2, rng.integers(-1, k + 1, n), truth)
        cases += [(truth, noisy), (truth, rng.integers(0, k, n))]
    for truth, predicted in cases:
        assert stability.adjusted_rand(truth, predicted) == adjusted_rand_score(truth, predicted)


def test_resampled_stability_of_clear_groups_and_of_noise():
    rng = np.random.default_rng(0)
    groups = np.vstack([rng.normal(c, 0.05, (150, 2)) for c in ((0, 0), (3, 0), (0, 3))])
    uniform = rng.uniform(0, 1, (450, 2))
    results = {}
    for name, points in (("groups", groups), ("uniform", uniform)):
        reference = algorithms.kmeans_labels(points, [3, 6], 42, 10)
        results[name] = stability.resample_stability(
            points,
            reference,
            lambda sub, seed: algorithms.kmeans_labels(sub, [3, 6], seed, 1),
            n_resamples=10,
            fraction=0.7,
            random_state=42,
        ).set_index("k")
    assert results["groups"].loc[3, "stability_ari_mean"] > 0.99
    assert results["groups"].loc[3, "stability_jaccard_min"] > 0.99
    # Six clusters of uniform noise have no reason to come back the same.
    assert results["uniform"].loc[6, "stability_ari_mean"] < 0.85
    assert (results["groups"]["stability_resamples"] == 10).all()


# ---- names from the seed ------------------------------------------------------------------


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
    names = naming.name_clusters(profile, NAMES, high_returner_threshold=0.2)
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
    names = naming.name_clusters(profile, NAMES, high_returner_threshold=0.2)
    assert names == {1: "VIP", 2: "High Returners", 3: "Dormant"}


def test_names_come_from_the_seed_only():
    seed = pd.read_csv(ROOT / "seeds" / "cluster_names.csv")
    seed.loc[seed["cluster_name"] == "VIP", "cluster_name"] = "Best Friends"
    profile = pd.DataFrame(
        {"recency_days": [5, 300], "frequency": [10, 1], "monetary": [5000, 50]},
        index=[1, 2],
    ).assign(return_rate=0.0)
    names = naming.name_clusters(profile, naming.seed_names(seed), 0.2)
    assert names == {1: "Best Friends", 2: "Dormant"}


def test_the_seed_names_every_k_the_rule_can_choose():
    project_vars = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
    assert len(NAMES["archetypes"]) >= project_vars["kmeans_k_max"]
    for k in range(2, project_vars["kmeans_k_max"] + 1):
        customers, _ = separated_groups([120] * 5)
        _, assigned = run(customers, forced_k=k)
        assert assigned.groupby("cluster_id")["cluster_name"].nunique().eq(1).all()
        assert assigned["cluster_name"].nunique() == assigned["cluster_id"].nunique() == k
        assert set(assigned["cluster_name"]) <= set(NAMES["archetypes"]) | {NAMES["high_returners"]}


def test_too_few_archetypes_fail_with_a_message():
    seed = pd.read_csv(ROOT / "seeds" / "cluster_names.csv")
    few = naming.seed_names(
        seed[seed["cluster_name"].isin(["VIP", "Dormant"]) | seed["name_role"].ne("archetype")]
    )
    profile = pd.DataFrame(
        {"recency_days": [5, 50, 300], "frequency": [10, 3, 1], "monetary": [5000, 500, 50]},
        index=[1, 2, 3],
    ).assign(return_rate=0.0)
    with pytest.raises(naming.NamingError, match="only 2 archetype rows"):
        naming.name_clusters(profile, few, 0.2)


def test_a_seed_without_a_high_returners_row_is_refused():
    seed = pd.read_csv(ROOT / "seeds" / "cluster_names.csv")
    with pytest.raises(naming.NamingError, match="high_returners"):
        naming.seed_names(seed[seed["name_role"] != "high_returners"])


# ---- KNN assignment -----------------------------------------------------------------------


def test_knn_cross_validation_of_clear_groups_and_of_random_labels():
    rng = np.random.default_rng(1)
    points = np.vstack([rng.normal(c, 0.1, (100, 2)) for c in ((0, 0), (2, 0), (0, 2))])
    labels = np.repeat([1, 2, 3], 100)
    clear = assignment.cross_validate_knn(points, labels, 15, 5, 42)
    assert clear["cv_folds"] == 5 and clear["cv_accuracy"] > 0.99 and clear["cv_macro_f1"] > 0.99
    shuffled = assignment.cross_validate_knn(points, rng.permutation(labels), 15, 5, 42)
    assert shuffled["cv_accuracy"] < 0.5


def test_knn_folds_are_capped_by_the_smallest_cluster():
    points = np.arange(12, dtype=float).reshape(-1, 1)
    labels = np.array([1] * 9 + [2] * 3)
    assert assignment.cross_validate_knn(points, labels, 3, 5, 0)["cv_folds"] == 3
    single = assignment.cross_validate_knn(points, np.ones(12, dtype=int), 3, 5, 0)
    assert single["cv_folds"] == 0 and np.isnan(single["cv_accuracy"])


def test_assignment_quality_reports_the_knn_on_the_labelled_customers():
    customers, _ = separated_groups([600, 400, 200])
    _, assigned = run(customers, fit_sample_size=500)
    quality = assignment.assignment_quality(
        customers, assigned, SETTINGS | {"fit_sample_size": 500}
    )
    row = quality.iloc[0]
    assert row["labelled_customers"] == 500 and row["knn_assigned_customers"] == 700
    assert row["cv_accuracy"] >= 0.95 and row["cv_macro_f1"] >= 0.95
    assert row["cluster_count"] == 3


# ---- algorithms compared ----------------------------------------------------------------


@pytest.fixture(scope="module")
def blobs():
    customers, truth = separated_groups([300, 250, 200, 150])
    return customers, truth


@pytest.mark.parametrize("algorithm", ["kmeans", "gmm", "ward", "hdbscan"])
def test_every_algorithm_recovers_well_separated_groups(blobs, algorithm):
    customers, truth = blobs
    settings = {**SETTINGS, "algorithm": algorithm}
    with threadpool_limits(limits=1):
        kmeans_k = int(selection.select_k(customers, settings).query("is_chosen")["k"].iloc[0])
        compared = comparison.compare_algorithms(customers, settings, kmeans_k)
        row = compared.set_index("clustering_algorithm").loc[algorithm]
        assigned = assignment.assign_clusters(customers, int(row["cluster_count"]), settings, NAMES)
    assert row["cluster_count"] == 4
    assert row["is_used_for_labels"] and compared["is_used_for_labels"].sum() == 1
    assert adjusted_rand_score(truth, assigned["cluster_id"]) >= 0.95
    assert (assigned["clustering_algorithm"] == algorithm).all()
    assert row["verdict"].startswith(comparison.ALGORITHM_NAMES[algorithm])


def test_the_comparison_has_one_row_per_algorithm_with_its_metrics(blobs):
    customers, _ = blobs
    with threadpool_limits(limits=1):
        compared = comparison.compare_algorithms(customers, SETTINGS, 4)
    assert list(compared["clustering_algorithm"]) == ["kmeans", "gmm", "ward", "hdbscan"]
    assert compared[["silhouette", "calinski_harabasz", "davies_bouldin"]].notna().all().all()
    # HDBSCAN's noise differs from refit to refit, which costs it a little ARI.
    assert compared["stability_ari_mean"].ge(0.9).all()
    assert compared["cluster_sizes"].str.count(",").eq(3).all()
    assert (compared["sample_size"] == len(customers)).all()


def test_hdbscan_reports_its_noise():
    customers, _ = separated_groups([300, 250, 200])
    rng = np.random.default_rng(3)
    scattered = pd.DataFrame(
        {
            "customer_id": [f"n{i:04d}" for i in range(60)],
            "recency_days": rng.integers(1, 370, 60),
            "frequency": rng.integers(1, 60, 60),
            "monetary": np.exp(rng.uniform(2, 10, 60)),
            "return_rate": 0.0,
            "matched_return_amount": 0.0,
        }
    )
    customers = pd.concat([customers, scattered], ignore_index=True)
    settings = {**SETTINGS, "algorithm": "hdbscan", "scaler": "standard"}
    with threadpool_limits(limits=1):
        row = comparison.compare_algorithms(customers, settings, 3).set_index(
            "clustering_algorithm"
        )
        hdbscan = row.loc["hdbscan"]
        assigned = assignment.assign_clusters(customers, None, settings, NAMES)
    assert hdbscan["noise_share"] > 0
    assert "noise" in hdbscan["verdict"]
    assert (row.drop(index="hdbscan")["noise_share"] == 0).all()
    # Noise customers still get a cluster: the classifier labels them.
    assert assigned["cluster_id"].ge(1).all()
    assert (assigned["assigned_by"] == "knn").sum() == round(
        hdbscan["noise_share"] * len(customers)
    )


def test_the_neighbour_classifier_labels_as_scikit_learns_distance_weighted_one():
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(3)
    train, labels = rng.random((3000, 3)), rng.integers(1, 5, 3000)
    # Queries between the customers and on them (distance 0: their own label wins).
    queries = np.vstack([rng.random((20000, 3)), train[:200]])
    for neighbours, threads in [(15, 1), (15, 2), (1, 1)]:
        expected = KNeighborsClassifier(
            n_neighbors=min(neighbours, len(train)), weights="distance"
        ).fit(train, labels)
        ours = assignment.make_knn(neighbours, len(train), threads).fit(train, labels)
        np.testing.assert_array_equal(ours.predict(queries), expected.predict(queries))
    assert len(ours.predict(np.empty((0, 3)))) == 0
    # More neighbours than labelled customers: every one of them votes.
    few = assignment.make_knn(50, 40).fit(train[:40], labels[:40])
    everyone = KNeighborsClassifier(n_neighbors=40, weights="distance").fit(train[:40], labels[:40])
    np.testing.assert_array_equal(few.predict(queries), everyone.predict(queries))


def test_the_neighbour_classifier_gives_a_tie_to_the_smallest_cluster_id():
    train = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 0.0]])
    knn = assignment.make_knn(2, 2).fit(train[:2], np.array([3, 1]))
    # Halfway between a customer of cluster 3 and one of cluster 1.
    assert knn.predict(np.array([[1.0, 0.0]])).tolist() == [1]
    # Sitting on two customers of different clusters: only they vote, equally.
    on_both = assignment.make_knn(3, 3).fit(train, np.array([4, 1, 2]))
    assert on_both.predict(np.array([[0.0, 0.0]])).tolist() == [2]
