"""Stable cluster ids and business names from the seed `cluster_names`.

Ids follow business order (1 = highest mean monetary value, then frequency, then most
recent), so the same clustering gets the same ids whatever order an algorithm found the
clusters in. Names come from the seed alone: rows with role `archetype` carry a position
between the worst (0) and best (1) cluster on recency, frequency and monetary; each
cluster is placed the same way from its medians and the names are matched one to one by
the smallest total squared distance (the Hungarian algorithm, deterministic). A cluster
whose return rate reaches the high-returner threshold gets the `high_returners` row's
name first; a single cluster gets the `single_cluster` row's name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ARCHETYPE = "archetype"
HIGH_RETURNERS = "high_returners"
SINGLE_CLUSTER = "single_cluster"
ROLES = (ARCHETYPE, HIGH_RETURNERS, SINGLE_CLUSTER)
POSITION_COLUMNS = ["recency_position", "frequency_position", "monetary_position"]


class NamingError(ValueError):
    """The seed cannot name the clusters (too few archetypes, missing role)."""


def business_order(centroids: np.ndarray) -> np.ndarray:
    """New cluster id (1-based) for each label 0..n-1, from centroids in original units
    with columns (recency_days, frequency, monetary, ...): highest monetary first, then
    highest frequency, then lowest recency."""
    recency, frequency, monetary = centroids[:, 0], centroids[:, 1], centroids[:, 2]
    order = np.lexsort((recency, -frequency, -monetary))
    new_ids = np.empty(len(centroids), dtype=int)
    new_ids[order] = np.arange(1, len(centroids) + 1)
    return new_ids


def centroids_in_original_units(log_features: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per label 0..n-1 (noise, -1, left out): the mean of the log1p features, back in
    original units (a geometric-style mean, as the features are clustered on the log scale)."""
    clusters = np.unique(labels[labels >= 0])
    return np.expm1(np.vstack([log_features[labels == c].mean(axis=0) for c in clusters]))


def cluster_profile(customers: pd.DataFrame, cluster_ids: np.ndarray) -> pd.DataFrame:
    """Median recency, frequency and monetary and the value-weighted return rate per cluster."""
    frame = customers.assign(cluster_id=cluster_ids)
    grouped = frame.groupby("cluster_id")
    sums = grouped[["recency_days", "frequency", "monetary"]].median()
    sums["matched_return_amount"] = grouped["matched_return_amount"].sum()
    sums["monetary_sum"] = grouped["monetary"].sum()
    return profile_from_sums(sums)


def profile_from_sums(sums: pd.DataFrame) -> pd.DataFrame:
    """The profile from per-cluster medians (recency_days, frequency, monetary) and sums
    (matched_return_amount, monetary_sum), however they were aggregated (pandas, Spark)."""
    profile = sums[["recency_days", "frequency", "monetary"]].copy()
    profile["return_rate"] = (
        sums["matched_return_amount"] / sums["monetary_sum"].replace(0, np.nan)
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


def seed_names(seed: pd.DataFrame) -> dict:
    """The seed's rows by role: archetype names with their positions, the high-returner
    and single-cluster names. Raises NamingError when a role is missing."""
    roles = seed["name_role"].str.strip().str.lower()
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise NamingError(f"seed cluster_names: unknown name_role {unknown}; use {list(ROLES)}")
    archetypes = seed[roles == ARCHETYPE].sort_values("cluster_name")
    result = {
        "archetypes": {
            row.cluster_name: tuple(float(getattr(row, c)) for c in POSITION_COLUMNS)
            for row in archetypes.itertuples()
        }
    }
    for role in (HIGH_RETURNERS, SINGLE_CLUSTER):
        names = seed.loc[roles == role, "cluster_name"]
        if len(names) != 1:
            raise NamingError(f"seed cluster_names needs exactly one row with name_role {role}")
        result[role] = names.iloc[0]
    return result


def name_clusters(
    profile: pd.DataFrame, names: dict, high_returner_threshold: float
) -> dict[int, str]:
    """One distinct name per cluster of `profile` (index = cluster id), from `seed_names`.

    Raises NamingError when the seed has fewer archetypes than clusters to name."""
    from scipy.optimize import linear_sum_assignment

    if len(profile) == 1:
        return {int(profile.index[0]): names[SINGLE_CLUSTER]}
    result: dict[int, str] = {}
    remaining = profile
    returners = profile[profile["return_rate"] >= high_returner_threshold]
    if not returners.empty:
        worst = int(returners["return_rate"].idxmax())
        result[worst] = names[HIGH_RETURNERS]
        remaining = profile.drop(index=worst)
    if remaining.empty:
        return result
    archetypes = names["archetypes"]
    if len(remaining) > len(archetypes):
        raise NamingError(
            f"{len(remaining)} clusters to name but seed cluster_names has only "
            f"{len(archetypes)} archetype rows: add archetypes or lower kmeans_k_max / kmeans_k"
        )
    positions = np.column_stack(
        [
            _positions(remaining["recency_days"], higher_is_better=False),
            _positions(remaining["frequency"], higher_is_better=True),
            _positions(remaining["monetary"], higher_is_better=True),
        ]
    )
    targets = np.array(list(archetypes.values()))
    cost = ((positions[:, None, :] - targets[None, :, :]) ** 2).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    archetype_names = list(archetypes)
    for row, col in zip(rows, cols):
        result[int(remaining.index[row])] = archetype_names[col]
    return result
