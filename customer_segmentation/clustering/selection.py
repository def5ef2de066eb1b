"""The per-k metrics and the rule that chooses k.

**The rule**: the largest k (the most structure) that is

1. *stable*: refits on subsamples agree with the reference fit, mean ARI >= `min_stability_ari`
   (0.85, "highly stable" in Hennig's terms) and every cluster's mean Jaccard >=
   `min_cluster_jaccard` (0.75, "stable"), and
2. *large enough to act on*: the smallest cluster holds >= `min_cluster_share` of the sample.

If no k passes both, the most stable k among those large enough (highest mean ARI, ties to
the smaller k) is taken and the reason says so; if no k is large enough either, the most
stable k overall. `forced_k` overrides the rule. Inertia (with the elbow), silhouette
(overall and its worst cluster), Calinski-Harabasz and Davies-Bouldin are reported next
to the stability: they describe each k, they do not choose it (the overall silhouette
favours k = 2 on skewed data, where one big cluster dominates the mean).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from customer_segmentation.clustering.algorithms import LABELLERS
from customer_segmentation.clustering.features import (
    feasible_k_values,
    feature_columns,
    fit_sample_points,
)
from customer_segmentation.clustering.stability import STABILITY_COLUMNS, resample_stability

METRIC_COLUMNS = {
    "k": "int64",
    "inertia": "float64",
    "silhouette": "float64",
    "silhouette_min_cluster": "float64",
    "calinski_harabasz": "float64",
    "davies_bouldin": "float64",
    "smallest_cluster_share": "float64",
    "stability_ari_mean": "float64",
    "stability_ari_min": "float64",
    "stability_jaccard_mean": "float64",
    "stability_jaccard_min": "float64",
    "stability_resamples": "int64",
    "is_eligible": "bool",
    "is_stable": "bool",
    "is_elbow": "bool",
    "is_chosen": "bool",
    "selection_reason": "object",
    "selection_rule": "object",
    "customers": "int64",
    "fit_sample_size": "int64",
    "silhouette_sample_size": "int64",
    "note": "object",
}
SCORE_COLUMNS = [
    "silhouette",
    "silhouette_min_cluster",
    "calinski_harabasz",
    "davies_bouldin",
    "smallest_cluster_share",
]


def cluster_scores(
    points: np.ndarray, labels: np.ndarray, random_state: int, silhouette_sample_size: int
) -> dict:
    """Silhouette overall and of its worst cluster (on a seeded sample), Calinski-Harabasz,
    Davies-Bouldin (nan when the labels cannot be scored) and the smallest cluster's share.
    Noise (-1) is left out of the scores and counts in no cluster."""
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_samples

    clustered = labels >= 0
    points, labels_in = points[clustered], labels[clustered]
    n_clusters = len(np.unique(labels_in))
    sizes = np.unique(labels_in, return_counts=True)[1]
    result = {
        "silhouette": np.nan,
        "silhouette_min_cluster": np.nan,
        "calinski_harabasz": np.nan,
        "davies_bouldin": np.nan,
        "smallest_cluster_share": float(sizes.min() / len(labels)) if len(sizes) else np.nan,
    }
    if not 1 < n_clusters < len(points):
        return result
    rows = np.arange(len(points))
    if 0 < silhouette_sample_size < len(points):
        rows = np.sort(
            np.random.default_rng(random_state).choice(
                len(points), size=silhouette_sample_size, replace=False
            )
        )
    sample_labels = labels_in[rows]
    if 1 < len(np.unique(sample_labels)) < len(rows):
        per_point = silhouette_samples(points[rows], sample_labels)
        result["silhouette"] = float(per_point.mean())
        result["silhouette_min_cluster"] = float(
            pd.Series(per_point).groupby(sample_labels).mean().min()
        )
    result["calinski_harabasz"] = float(calinski_harabasz_score(points, labels_in))
    result["davies_bouldin"] = float(davies_bouldin_score(points, labels_in))
    return result


def knee_k(k_values: list[int], inertias: list[float]) -> int | None:
    """The elbow: the k whose inertia lies farthest below the straight line joining the
    first and last points of the (normalised) inertia curve (the Kneedle idea)."""
    if len(k_values) < 3:
        return None
    x = np.asarray(k_values, dtype=float)
    y = np.asarray(inertias, dtype=float)
    x_norm = (x - x[0]) / (x[-1] - x[0])
    span = y[0] - y[-1]
    if span <= 0:
        return None
    y_norm = (y - y[-1]) / span
    # On the line from (0, 1) to (1, 0) y = 1 - x; the knee is where the curve sags most below it.
    distance = (1 - x_norm) - y_norm
    return int(x[int(np.argmax(distance))])


def evaluate_k(
    points: np.ndarray, k_values: list[int], settings: dict, algorithm: str = "kmeans"
) -> tuple[pd.DataFrame, dict[int, np.ndarray]]:
    """Reference fit, scores and resampled stability for every k.

    Returns the metrics (one row per k) and the reference labels {k: labels}."""
    labeller = LABELLERS[algorithm]
    seed = settings["random_state"]
    reference = labeller(points, k_values, seed, settings["n_init"])
    rows = []
    for k in k_values:
        labels = reference[k]
        centroids = np.vstack([points[labels == c].mean(axis=0) for c in np.unique(labels)])
        inertia = float(((points - centroids[labels]) ** 2).sum())
        rows.append(
            {
                "k": k,
                "inertia": inertia,
                **cluster_scores(points, labels, seed, settings["silhouette_sample_size"]),
            }
        )
    metrics = pd.DataFrame(rows, columns=["k", "inertia", *SCORE_COLUMNS])
    refit = partial(
        _refit, labeller=labeller, k_values=k_values, n_init=settings["stability_n_init"]
    )
    stability = resample_stability(
        points,
        reference,
        refit,
        settings["stability_resamples"],
        settings["stability_fraction"],
        seed,
    )
    return metrics.merge(stability, on="k", how="left"), reference


def _refit(subsample, seed, labeller, k_values, n_init):
    return labeller(subsample, k_values, seed, n_init)


def stability_flags(metrics: pd.DataFrame, settings: dict) -> tuple[pd.Series, pd.Series]:
    """(is_eligible, is_stable) for each row of the metrics."""
    eligible = metrics["smallest_cluster_share"] >= settings["min_cluster_share"]
    stable = (metrics["stability_ari_mean"] >= settings["min_stability_ari"]) & (
        metrics["stability_jaccard_min"] >= settings["min_cluster_jaccard"]
    )
    return eligible.fillna(False).astype(bool), stable.fillna(False).astype(bool)


def choose_k(metrics: pd.DataFrame, settings: dict) -> tuple[int, str]:
    """Applies the rule (module docstring) to the per-k metrics; returns k and the reason."""
    forced_k = settings["forced_k"]
    if forced_k is not None:
        if forced_k not in set(metrics["k"]):
            k = int(metrics["k"].max())
            return k, f"forced by var kmeans_k={forced_k}, capped to {k}"
        return forced_k, f"forced by var kmeans_k={forced_k}"
    eligible, stable = stability_flags(metrics, settings)
    share = f"{settings['min_cluster_share']:.0%}"
    thresholds = (
        f"mean ARI >= {settings['min_stability_ari']:.2f} and every cluster's Jaccard >= "
        f"{settings['min_cluster_jaccard']:.2f} over {settings['stability_resamples']} refits on "
        f"{settings['stability_fraction']:.0%} subsamples"
    )
    candidates = metrics[eligible & stable]
    if not candidates.empty:
        k = int(candidates["k"].max())
        return k, (
            f"largest k that is stable ({thresholds}) and whose smallest cluster holds >= {share}"
        )
    pool = metrics[eligible]
    if pool.empty:
        pool = metrics
        why = f"no k keeps every cluster at >= {share}: the most stable k (highest mean ARI)"
    else:
        why = (
            f"no k is stable ({thresholds}): the most stable k (highest mean ARI) among those "
            f"whose smallest cluster holds >= {share}"
        )
    ranked = pool.assign(ari=pool["stability_ari_mean"].fillna(-1.0))
    best = ranked.sort_values(["ari", "k"], ascending=[False, True]).iloc[0]
    return int(best["k"]), why


def row_reasons(metrics: pd.DataFrame, chosen: int, settings: dict) -> list[str]:
    """Why each k was or was not chosen, in a few words."""
    eligible, stable = stability_flags(metrics, settings)
    reasons = []
    for i, row in metrics.reset_index(drop=True).iterrows():
        faults = []
        if not stable.iloc[i]:
            if pd.isna(row["stability_ari_mean"]):
                faults.append("stability not measured")
            else:
                if row["stability_ari_mean"] < settings["min_stability_ari"]:
                    faults.append(
                        f"unstable: mean ARI {row['stability_ari_mean']:.3f} < "
                        f"{settings['min_stability_ari']:.2f}"
                    )
                if row["stability_jaccard_min"] < settings["min_cluster_jaccard"]:
                    faults.append(
                        "a cluster dissolves: worst cluster Jaccard "
                        f"{row['stability_jaccard_min']:.3f} < "
                        f"{settings['min_cluster_jaccard']:.2f}"
                    )
        if not eligible.iloc[i]:
            faults.append(
                f"smallest cluster {row['smallest_cluster_share']:.1%} < "
                f"{settings['min_cluster_share']:.0%}"
            )
        status = "; ".join(faults) if faults else "stable and large enough"
        if row["k"] == chosen:
            status = f"chosen ({status})"
        elif not faults:
            status += ", but a larger k is too" if row["k"] < chosen else ""
        reasons.append(status)
    return reasons


def select_k(
    customers: pd.DataFrame, settings: dict, n_customers: int | None = None
) -> pd.DataFrame:
    """The whole selection on a customer table: one row per k (empty when there are
    no customers; a single k=1 row when there are too few to cluster).

    `customers` may be the fit sample alone (features.fit_sample_input), with
    `n_customers` the number of customers it was drawn from."""
    n_customers = len(customers) if n_customers is None else n_customers
    if n_customers == 0:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in METRIC_COLUMNS.items()})

    features, fit_rows, _, points = fit_sample_points(customers, settings, only_fit_rows=True)
    n_distinct = len(np.unique(points, axis=0))
    k_values, note = feasible_k_values(
        n_distinct, settings["k_min"], settings["k_max"], settings["forced_k"]
    )
    columns = feature_columns(settings["use_return_rate"])
    constant = [c for c, spread in zip(columns, np.ptp(features, axis=0)) if spread == 0]
    if constant:
        note = "; ".join(filter(None, [note, f"constant feature(s) carry no weight: {constant}"]))

    if not k_values:
        metrics = pd.DataFrame([{"k": 1, "inertia": 0.0, "smallest_cluster_share": 1.0}]).reindex(
            columns=["k", "inertia", *SCORE_COLUMNS, *STABILITY_COLUMNS[1:]]
        )
        metrics["stability_resamples"] = 0
        chosen, rule = 1, "single cluster: too few distinct customers"
        reasons = ["chosen (single cluster)"]
    else:
        metrics, _ = evaluate_k(points, k_values, settings)
        chosen, rule = choose_k(metrics, settings)
        reasons = row_reasons(metrics, chosen, settings)

    elbow = knee_k(list(metrics["k"]), list(metrics["inertia"]))
    metrics["is_eligible"], metrics["is_stable"] = stability_flags(metrics, settings)
    metrics["is_elbow"] = metrics["k"] == elbow
    metrics["is_chosen"] = metrics["k"] == chosen
    metrics["selection_reason"] = reasons
    metrics["selection_rule"] = rule
    metrics["customers"] = n_customers
    metrics["fit_sample_size"] = len(fit_rows)
    metrics["silhouette_sample_size"] = min(
        settings["silhouette_sample_size"] or len(fit_rows), len(fit_rows)
    )
    metrics["note"] = note
    metrics["stability_resamples"] = metrics["stability_resamples"].fillna(0)
    return metrics[list(METRIC_COLUMNS)].astype(METRIC_COLUMNS)
