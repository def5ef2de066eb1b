"""Clustering algorithms behind one interface: labels for every candidate k at once.

Each `*_labels(points, k_values, seed, n_init)` returns {k: labels} with labels 0..k-1, so
the stability loop and the model comparison treat every algorithm alike. Ward cuts one
tree at every k (the tree does not depend on k), HDBSCAN finds its own number of clusters
and marks noise with -1.
"""

from __future__ import annotations

import math

import numpy as np

NOISE = -1


def kmeans(points: np.ndarray, k: int, random_state: int, n_init: int):
    from sklearn.cluster import KMeans

    # lloyd, a fixed seed and n_init make the fit reproducible across runs and versions.
    return KMeans(n_clusters=k, random_state=random_state, n_init=n_init, algorithm="lloyd").fit(
        points
    )


def kmeans_labels(
    points: np.ndarray, k_values: list[int], seed: int, n_init: int
) -> dict[int, np.ndarray]:
    return {k: kmeans(points, k, seed, n_init).labels_ for k in k_values}


def gmm_labels(
    points: np.ndarray, k_values: list[int], seed: int, n_init: int
) -> dict[int, np.ndarray]:
    """Gaussian mixture with full covariances; a customer goes to its most likely component."""
    from sklearn.mixture import GaussianMixture

    labels = {}
    for k in k_values:
        mixture = GaussianMixture(
            n_components=k, covariance_type="full", random_state=seed, n_init=n_init
        )
        labels[k] = _dense(mixture.fit_predict(points))
    return labels


def ward_labels(
    points: np.ndarray, k_values: list[int], seed: int, n_init: int
) -> dict[int, np.ndarray]:
    """Ward's agglomerative clustering (the algorithm of scikit-learn's
    AgglomerativeClustering(linkage="ward")), built once and cut at every k.
    Deterministic: `seed` and `n_init` are accepted for the common interface only."""
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(points, method="ward")
    return {k: _dense(fcluster(tree, t=k, criterion="maxclust")) for k in k_values}


def hdbscan_min_cluster_size(n_points: int, min_cluster_share: float) -> int:
    """A cluster must be big enough to act on: the same share asked of every algorithm."""
    return max(5, math.ceil(min_cluster_share * n_points))


def hdbscan_labels(points: np.ndarray, min_cluster_size: int) -> np.ndarray:
    """HDBSCAN's clusters, 0..n-1, and -1 for noise."""
    from sklearn.cluster import HDBSCAN

    labels = HDBSCAN(min_cluster_size=min_cluster_size, copy=True).fit_predict(points)
    dense = np.full(len(labels), NOISE)
    clustered = labels != NOISE
    if clustered.any():
        dense[clustered] = _dense(labels[clustered])
    return dense


def _dense(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0..n-1 in the order of their values."""
    return np.unique(labels, return_inverse=True)[1].reshape(-1)


LABELLERS = {"kmeans": kmeans_labels, "gmm": gmm_labels, "ward": ward_labels}
