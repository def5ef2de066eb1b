"""K-Means cluster of every customer, with stable ids and business names.

Fits K-Means with the k chosen in int_kmeans_k_selection on the same seeded sample,
assigns every customer with `predict`, renumbers clusters in business order
(1 = highest centroid monetary value, then frequency, then most recent) so the same
data gives the same labels whatever order K-Means found them in, and names each
cluster from its profile (see `name_clusters`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

OUTPUT_COLUMNS = {
    "customer_id": "object",
    "cluster_id": "int64",
    "cluster_name": "object",
    "cluster_count": "int64",
}

# Where each name's cluster sits among the clusters, as (recency, frequency, monetary)
# positions from 0 (worst) to 1 (best); recency is "best" when most recent.
NAME_ARCHETYPES = {
    "VIP": (1.0, 1.0, 1.0),
    "Loyal": (0.7, 0.8, 0.7),
    "Growth Potential": (0.9, 0.4, 0.5),
    "New": (1.0, 0.0, 0.1),
    "At Risk": (0.2, 0.7, 0.7),
    "Occasional": (0.5, 0.2, 0.3),
    "Fading": (0.3, 0.4, 0.3),
    "Dormant": (0.0, 0.0, 0.0),
}
HIGH_RETURNERS = "High Returners"


def load_selection_module(path: str):
    """int_kmeans_k_selection holds the shared feature, scaling and fitting functions."""
    spec = importlib.util.spec_from_file_location("int_kmeans_k_selection", Path(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def business_order(centroids: np.ndarray) -> np.ndarray:
    """New cluster id (1-based) for each K-Means label, from centroids in original
    units with columns (recency_days, frequency, monetary, ...): highest monetary
    first, then highest frequency, then lowest recency."""
    recency, frequency, monetary = centroids[:, 0], centroids[:, 1], centroids[:, 2]
    order = np.lexsort((recency, -frequency, -monetary))
    new_ids = np.empty(len(centroids), dtype=int)
    new_ids[order] = np.arange(1, len(centroids) + 1)
    return new_ids


def cluster_profile(customers: pd.DataFrame, cluster_ids: np.ndarray) -> pd.DataFrame:
    """Median recency, frequency and monetary and the value-weighted return rate per cluster."""
    frame = customers.assign(cluster_id=cluster_ids)
    grouped = frame.groupby("cluster_id")
    profile = grouped[["recency_days", "frequency", "monetary"]].median()
    profile["return_rate"] = (
        grouped["matched_return_amount"].sum() / grouped["monetary"].sum().replace(0, np.nan)
    ).fillna(0.0)
    return profile.sort_index()


def _positions(values: pd.Series, higher_is_better: bool) -> np.ndarray:
    """Each cluster's place between the worst (0) and the best (1) cluster, on the log scale
    the features are clustered on, so that distances keep their size; 0.5 when all are equal."""
    logged = np.log1p(values.to_numpy(dtype=float))
    spread = logged.max() - logged.min()
    if spread == 0:
        return np.full(len(logged), 0.5)
    position = (logged - logged.min()) / spread
    return position if higher_is_better else 1 - position


def name_clusters(profile: pd.DataFrame, high_returner_threshold: float) -> dict[int, str]:
    """One distinct business name per cluster.

    Each cluster is placed between the worst (0) and best (1) cluster on recency,
    frequency and monetary (cluster medians, log scale). Names are assigned one to one so
    that the total squared distance between clusters and their names' archetypes
    (NAME_ARCHETYPES) is smallest (the Hungarian algorithm). A cluster whose return
    rate reaches the high-returner threshold is named High Returners first (the one
    with the highest rate, if several). Clusters beyond the names available are
    called "Cluster N".
    """
    from scipy.optimize import linear_sum_assignment

    names: dict[int, str] = {}
    remaining = profile
    returners = profile[profile["return_rate"] >= high_returner_threshold]
    if len(profile) > 1 and not returners.empty:
        worst = int(returners["return_rate"].idxmax())
        names[worst] = HIGH_RETURNERS
        remaining = profile.drop(index=worst)
    if remaining.empty:
        return names
    if len(profile) == 1:
        return {int(profile.index[0]): "All Customers"}

    positions = np.column_stack(
        [
            _positions(remaining["recency_days"], higher_is_better=False),
            _positions(remaining["frequency"], higher_is_better=True),
            _positions(remaining["monetary"], higher_is_better=True),
        ]
    )
    archetypes = np.array(list(NAME_ARCHETYPES.values()))
    cost = ((positions[:, None, :] - archetypes[None, :, :]) ** 2).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    archetype_names = list(NAME_ARCHETYPES)
    for row, col in zip(rows, cols):
        names[int(remaining.index[row])] = archetype_names[col]
    for cluster_id in remaining.index:
        names.setdefault(int(cluster_id), f"Cluster {int(cluster_id)}")
    return names


def assign_clusters(
    customers: pd.DataFrame, selection: pd.DataFrame, settings: dict, shared
) -> pd.DataFrame:
    """Cluster id, name and cluster count for every customer."""
    empty = pd.DataFrame({c: pd.Series(dtype=t) for c, t in OUTPUT_COLUMNS.items()})
    if customers.empty or selection.empty:
        return empty

    k = int(selection.loc[selection["is_chosen"], "k"].iloc[0])
    columns = shared.feature_columns(settings["use_return_rate"])
    features = shared.build_features(customers, columns)
    if k == 1:
        cluster_ids = np.ones(len(customers), dtype=int)
    else:
        fit_rows = shared.sample_indices(
            len(customers), settings["fit_sample_size"], settings["random_state"]
        )
        scaler = shared.make_scaler(settings["scaler"]).fit(features[fit_rows])
        fitted = shared.fit_kmeans(
            scaler.transform(features[fit_rows]), k, settings["random_state"], settings["n_init"]
        )
        labels = fitted.predict(scaler.transform(features))
        # Back to original units (log1p inverted) so the business order reads naturally.
        centroids = np.expm1(scaler.inverse_transform(fitted.cluster_centers_))
        cluster_ids = business_order(centroids)[labels]

    names = name_clusters(
        cluster_profile(customers, cluster_ids), settings["high_returner_threshold"]
    )
    result = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "cluster_id": cluster_ids,
            "cluster_name": [names[i] for i in cluster_ids],
            "cluster_count": k,
        }
    )
    return result.astype(OUTPUT_COLUMNS)


def model(dbt, session):
    # scikit-learn is imported before the limit is set: threadpool_limits only limits the
    # thread pools (OpenMP, BLAS) already loaded, and an unlimited OpenMP pool busy-waits,
    # which on shared cores made K-Means tens of times slower.
    import sklearn.cluster  # noqa: F401
    import sklearn.metrics  # noqa: F401
    from threadpoolctl import threadpool_limits

    dbt.config(materialized="table")
    shared = load_selection_module(dbt.config.get("selection_module"))
    settings = shared.settings_from_config(dbt.config.get("kmeans"))
    settings["high_returner_threshold"] = float(dbt.config.get("high_returner_threshold"))
    customers = dbt.ref("int_customer_rfm").df().sort_values("customer_id", kind="stable")
    selection = dbt.ref("int_kmeans_k_selection").df()
    with threadpool_limits(limits=settings["threads"]):
        clusters = assign_clusters(customers.reset_index(drop=True), selection, settings, shared)
    return clusters
