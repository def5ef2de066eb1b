"""Stability of a clustering under resampling (Hennig 2007, "Cluster-wise assessment of
cluster stability").

The reference clustering is fitted on all the points. Each resample draws a seeded
subsample without replacement (a share `fraction` of the points), refits the algorithm
with a different seed, and is compared with the reference on the points they share:

- the adjusted Rand index (ARI) of the two labelings;
- for each reference cluster, the Jaccard similarity |C ∩ D| / |C ∪ D| with the most
  similar resample cluster D (Hennig's cluster-wise stability).

Averaged over the resamples: a cluster with mean Jaccard >= 0.75 is stable, >= 0.85
highly stable; the worst cluster's mean Jaccard is what a rule should look at, since a
k can have a high ARI while one small cluster dissolves.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from customer_segmentation.clustering.algorithms import NOISE

STABILITY_COLUMNS = [
    "k",
    "stability_ari_mean",
    "stability_ari_min",
    "stability_jaccard_mean",
    "stability_jaccard_min",
    "stability_resamples",
]


def cluster_jaccard(reference: np.ndarray, other: np.ndarray) -> pd.Series:
    """For each reference cluster (noise excluded), the largest Jaccard similarity with a
    cluster of `other` on the same points (noise in `other` matches nothing)."""
    reference = np.asarray(reference)
    other = np.asarray(other)
    result = {}
    other_clusters = [c for c in np.unique(other) if c != NOISE]
    for cluster in np.unique(reference):
        if cluster == NOISE:
            continue
        members = reference == cluster
        best = 0.0
        for candidate in other_clusters:
            in_candidate = other == candidate
            union = np.count_nonzero(members | in_candidate)
            best = max(best, np.count_nonzero(members & in_candidate) / union)
        result[int(cluster)] = best
    return pd.Series(result, dtype="float64")


def adjusted_rand(labels_true: np.ndarray, labels_pred: np.ndarray) -> float:
    """The adjusted Rand index, computed as scikit-learn's adjusted_rand_score computes it
    (the pair confusion matrix in exact integers, the same closing formula), so the value
    is the same to the last bit; without its input validation, which cost more than the
    index itself on the hundreds of small refits the stability loop compares."""
    _, true_codes = np.unique(np.asarray(labels_true), return_inverse=True)
    _, pred_codes = np.unique(np.asarray(labels_pred), return_inverse=True)
    true_codes, pred_codes = true_codes.reshape(-1), pred_codes.reshape(-1)
    n_pred = int(pred_codes.max()) + 1 if len(pred_codes) else 0
    n_true = int(true_codes.max()) + 1 if len(true_codes) else 0
    contingency = np.bincount(true_codes * n_pred + pred_codes, minlength=n_true * n_pred)
    contingency = contingency.reshape(n_true, n_pred).astype(np.int64)
    n = len(true_codes)
    sum_squares = int((contingency**2).sum())
    n_c, n_k = contingency.sum(axis=1), contingency.sum(axis=0)
    tp = sum_squares - n
    fp = int((contingency @ n_k).sum()) - sum_squares
    fn = int((contingency.T @ n_c).sum()) - sum_squares
    tn = n * n - fp - fn - sum_squares
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


def resample_rows(n_points: int, fraction: float, n_resamples: int, random_state: int):
    """Seeded subsamples of the rows (each without replacement, in row order)."""
    rng = np.random.default_rng(random_state)
    size = max(2, int(round(fraction * n_points)))
    for _ in range(n_resamples):
        yield np.sort(rng.choice(n_points, size=size, replace=False))


def resample_stability(
    points: np.ndarray,
    reference: dict[int, np.ndarray],
    labeller: Callable[[np.ndarray, int], dict[int, np.ndarray]],
    n_resamples: int,
    fraction: float,
    random_state: int,
) -> pd.DataFrame:
    """One row per k of `reference` ({k: labels on all points}): ARI mean and min over the
    resamples, and the cluster-wise Jaccard (each reference cluster's mean over resamples)
    averaged over clusters and at its worst cluster.

    `labeller(subsample_points, seed)` refits every k on a subsample and returns {k: labels}.
    """
    k_values = list(reference)
    aris = {k: [] for k in k_values}
    jaccards = {k: [] for k in k_values}
    if n_resamples > 0 and len(points) > max(k_values, default=0):
        for b, rows in enumerate(resample_rows(len(points), fraction, n_resamples, random_state)):
            refits = labeller(points[rows], random_state + 1 + b)
            for k in k_values:
                aris[k].append(adjusted_rand(reference[k][rows], refits[k]))
                jaccards[k].append(cluster_jaccard(reference[k][rows], refits[k]))
    records = []
    for k in k_values:
        if not aris[k]:
            records.append({"k": k, "stability_resamples": 0})
            continue
        per_cluster = pd.concat(jaccards[k], axis=1).mean(axis=1)
        records.append(
            {
                "k": k,
                "stability_ari_mean": float(np.mean(aris[k])),
                "stability_ari_min": float(np.min(aris[k])),
                "stability_jaccard_mean": float(per_cluster.mean()),
                "stability_jaccard_min": float(per_cluster.min()),
                "stability_resamples": len(aris[k]),
            }
        )
    return pd.DataFrame.from_records(records, columns=STABILITY_COLUMNS)
