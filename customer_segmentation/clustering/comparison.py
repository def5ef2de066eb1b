"""K-Means, a Gaussian mixture, Ward's hierarchical clustering and HDBSCAN compared on the
same features and the same seeded sample (at most `comparison_sample_size` of the fit
sample: Ward's tree needs memory quadratic in the points), with `comparison_resamples`
refits each for the stability.

K-Means uses the k of the k selection (the labels' k); the Gaussian mixture and Ward choose
their own k with the same rule (`selection.choose_k`: the largest stable k whose smallest
cluster is large enough); HDBSCAN finds its clusters itself, with a minimum cluster size of
`min_cluster_share` of the sample, and leaves noise, which is reported. Stability is the
same resampling for all (`stability.resample_stability`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from customer_segmentation.clustering import algorithms
from customer_segmentation.clustering.features import (
    feasible_k_values,
    fit_sample_points,
    sample_indices,
)
from customer_segmentation.clustering.selection import (
    choose_k,
    cluster_scores,
    evaluate_k,
    stability_flags,
)
from customer_segmentation.clustering.stability import resample_stability

COMPARISON_COLUMNS = {
    "clustering_algorithm": "object",
    "cluster_count": "int64",
    "k_chosen_by": "object",
    "silhouette": "float64",
    "silhouette_min_cluster": "float64",
    "calinski_harabasz": "float64",
    "davies_bouldin": "float64",
    "stability_ari_mean": "float64",
    "stability_jaccard_min": "float64",
    "smallest_cluster_share": "float64",
    "noise_share": "float64",
    "cluster_sizes": "object",
    "is_stable": "bool",
    "is_used_for_labels": "bool",
    "verdict": "object",
    "sample_size": "int64",
}
ALGORITHM_NAMES = {
    "kmeans": "K-Means",
    "gmm": "Gaussian mixture",
    "ward": "Ward hierarchical",
    "hdbscan": "HDBSCAN",
}


def comparison_points(customers: pd.DataFrame, settings: dict) -> np.ndarray:
    """The scaled features of a seeded sample of the fit sample."""
    _, fit_rows, _, scaled = fit_sample_points(customers, settings, only_fit_rows=True)
    keep = sample_indices(
        len(fit_rows), settings["comparison_sample_size"], settings["random_state"]
    )
    return scaled[keep]


def sizes_text(labels: np.ndarray) -> str:
    """Cluster sizes, largest first, e.g. "215, 170, 102"; noise is not a cluster."""
    sizes = np.sort(np.unique(labels[labels >= 0], return_counts=True)[1])[::-1]
    return ", ".join(str(int(s)) for s in sizes)


def hdbscan_row(points: np.ndarray, settings: dict) -> dict:
    size = algorithms.hdbscan_min_cluster_size(len(points), settings["min_cluster_share"])
    labels = algorithms.hdbscan_labels(points, size)
    found = int(len(np.unique(labels[labels >= 0])))
    row = {
        "cluster_count": found,
        "k_chosen_by": f"found by HDBSCAN (min_cluster_size {size})",
        **cluster_scores(
            points, labels, settings["random_state"], settings["silhouette_sample_size"]
        ),
        "noise_share": float(np.mean(labels < 0)),
        "cluster_sizes": sizes_text(labels),
    }
    if found >= 1:
        stability = resample_stability(
            points,
            {found: labels},
            lambda sub, seed: {found: algorithms.hdbscan_labels(sub, size)},
            settings["stability_resamples"],
            settings["stability_fraction"],
            settings["random_state"],
        ).iloc[0]
        row["stability_ari_mean"] = stability["stability_ari_mean"]
        row["stability_jaccard_min"] = stability["stability_jaccard_min"]
    return row


def k_based_row(points: np.ndarray, algorithm: str, settings: dict, kmeans_k: int | None) -> dict:
    n_distinct = len(np.unique(points, axis=0))
    forced = kmeans_k if algorithm == "kmeans" else settings["forced_k"]
    k_values, _ = feasible_k_values(n_distinct, settings["k_min"], settings["k_max"], forced)
    if not k_values:
        return {"cluster_count": 1, "k_chosen_by": "too few distinct customers", "noise_share": 0.0}
    if algorithm == "gmm":
        # Each mixture is initialised by K-Means already; one initialisation keeps the
        # stability loop affordable (a mixture fit costs about ten K-Means fits).
        settings = {**settings, "n_init": 1, "stability_n_init": 1}
    metrics, reference = evaluate_k(points, k_values, settings, algorithm)
    if algorithm == "kmeans":
        k, why = k_values[0], "the k of cluster_k_selection"
    else:
        k, why = choose_k(metrics, {**settings, "forced_k": forced})
        why = "var kmeans_k" if forced is not None else "the k-selection rule (stability)"
    row = metrics.loc[metrics["k"] == k].iloc[0]
    return {
        "cluster_count": k,
        "k_chosen_by": why,
        **{c: row[c] for c in metrics.columns if c in COMPARISON_COLUMNS},
        "noise_share": 0.0,
        "cluster_sizes": sizes_text(reference[k]),
    }


def verdict(row: dict, settings: dict) -> str:
    """One line a reader can act on."""
    name = ALGORITHM_NAMES[row["clustering_algorithm"]]
    parts = [f"{name}: {row['cluster_count']} clusters"]
    if row.get("noise_share", 0) > 0:
        parts.append(f"{row['noise_share']:.0%} of customers left as noise")
    if pd.isna(row.get("stability_ari_mean")):
        parts.append("stability not measured")
    elif row["is_stable"]:
        parts.append(f"stable (mean ARI {row['stability_ari_mean']:.2f})")
    else:
        parts.append(f"unstable (mean ARI {row['stability_ari_mean']:.2f})")
    smallest = row.get("smallest_cluster_share")
    if smallest is not None and not pd.isna(smallest) and smallest < settings["min_cluster_share"]:
        parts.append(f"smallest cluster {smallest:.1%}, too small to act on")
    if not pd.isna(row.get("silhouette", np.nan)):
        parts.append(f"silhouette {row['silhouette']:.2f}")
    if row["cluster_count"] < 2:
        parts.append("no segmentation")
    if row["is_used_for_labels"]:
        parts.append("used for the labels (var clustering_algorithm)")
    return "; ".join(parts) + "."


def compare_algorithms(
    customers: pd.DataFrame, settings: dict, kmeans_k: int | None
) -> pd.DataFrame:
    """One row per algorithm (see the module docstring)."""
    if customers.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in COMPARISON_COLUMNS.items()})
    points = comparison_points(customers, settings)
    settings = {**settings, "stability_resamples": settings["comparison_resamples"]}
    rows = []
    for algorithm in ALGORITHM_NAMES:
        if algorithm == "hdbscan":
            row = hdbscan_row(points, settings) if len(points) > 5 else {"cluster_count": 0}
        else:
            row = k_based_row(points, algorithm, settings, kmeans_k)
        row = {c: row.get(c, np.nan) for c in COMPARISON_COLUMNS} | {
            "clustering_algorithm": algorithm,
            "cluster_count": int(row.get("cluster_count", 0)),
            "k_chosen_by": row.get("k_chosen_by", ""),
            "noise_share": float(row.get("noise_share", 0.0)),
            "cluster_sizes": row.get("cluster_sizes", ""),
            "sample_size": len(points),
            "is_used_for_labels": algorithm == settings["algorithm"],
        }
        frame = pd.DataFrame([row])
        row["is_stable"] = bool(
            stability_flags(frame, settings)[1].iloc[0] if "stability_ari_mean" in row else False
        )
        row["verdict"] = verdict(row, settings)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS)).astype(COMPARISON_COLUMNS)
