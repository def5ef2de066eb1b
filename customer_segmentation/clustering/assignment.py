"""Labels for every customer: the algorithm labels the fit sample, a k-nearest-neighbours
classifier trained on those labelled customers labels everyone else.

Customers outside the fit sample (and HDBSCAN's noise) are classified by their nearest
labelled neighbours in the same scaled feature space, without a refit, so a customer's
label does not depend on which other customers happened to be sampled. The classifier's
quality is measured by stratified k-fold cross-validation on the labelled customers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from customer_segmentation.clustering import algorithms
from customer_segmentation.clustering.features import fit_sample_points
from customer_segmentation.clustering.naming import (
    business_order,
    centroids_in_original_units,
    cluster_profile,
    name_clusters,
)

OUTPUT_COLUMNS = {
    "customer_id": "object",
    "cluster_id": "int64",
    "cluster_name": "object",
    "cluster_count": "int64",
    "is_in_fit_sample": "bool",
    "assigned_by": "object",
    "clustering_algorithm": "object",
}
QUALITY_COLUMNS = {
    "clustering_algorithm": "object",
    "cluster_count": "int64",
    "knn_neighbors": "int64",
    "cv_folds": "int64",
    "cv_accuracy": "float64",
    "cv_macro_f1": "float64",
    "labelled_customers": "int64",
    "knn_assigned_customers": "int64",
    "customers": "int64",
}


class NearestNeighbourClassifier:
    """scikit-learn's KNeighborsClassifier(weights="distance") on SciPy's k-d tree, whose
    lookups split over `threads`: the lookup of every customer of every history snapshot
    is the costliest step of the clustering at scale (docs/benchmarks.md, "Clustering at
    scale"), and SciPy's tree answers it faster than scikit-learn's. The same votes
    (tests/python/test_kmeans.py compares the labels): each of the k nearest neighbours
    weighs 1 / distance, a customer at distance 0 of labelled customers takes their votes
    alone, and a tie goes to the smallest cluster id; where labelled customers tie for the
    k-th place, either tree may take either."""

    def __init__(self, n_neighbors: int, threads: int = 1):
        self.n_neighbors = n_neighbors
        self.threads = threads

    def fit(self, points: np.ndarray, labels: np.ndarray) -> NearestNeighbourClassifier:
        from scipy.spatial import cKDTree

        self.classes_, self._label_index = np.unique(labels, return_inverse=True)
        self._tree = cKDTree(np.asarray(points, dtype=float))
        self._k = max(1, min(self.n_neighbors, len(points)))
        return self

    def predict(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=float)
        if len(points) == 0:
            return self.classes_[:0]
        distances, neighbours = self._tree.query(points, k=self._k, workers=self.threads)
        if self._k == 1:
            distances, neighbours = distances[:, None], neighbours[:, None]
        with np.errstate(divide="ignore"):
            weights = 1.0 / distances
        at_zero = np.isinf(weights)
        on_a_neighbour = at_zero.any(axis=1)
        weights[on_a_neighbour] = at_zero[on_a_neighbour]
        classes = len(self.classes_)
        cells = np.arange(len(points))[:, None] * classes + self._label_index[neighbours]
        votes = np.bincount(cells.ravel(), weights.ravel(), minlength=len(points) * classes)
        return self.classes_[votes.reshape(len(points), classes).argmax(axis=1)]


def make_knn(n_neighbors: int, n_train: int, threads: int = 1) -> NearestNeighbourClassifier:
    # Distance weights: a customer sitting on labelled customers takes their label.
    return NearestNeighbourClassifier(max(1, min(n_neighbors, n_train)), threads)


def cross_validate_knn(
    points: np.ndarray, labels: np.ndarray, n_neighbors: int, folds: int, random_state: int
) -> dict:
    """Stratified k-fold accuracy and macro-F1 of the classifier on labelled points.

    Folds are capped by the smallest class (each fold needs every class); nan when fewer
    than two folds are possible or there is only one class."""
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold

    counts = np.unique(labels, return_counts=True)[1]
    folds = int(min(folds, counts.min())) if len(counts) else 0
    if len(counts) < 2 or folds < 2:
        return {"cv_folds": 0, "cv_accuracy": np.nan, "cv_macro_f1": np.nan}
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    predicted = np.empty_like(labels)
    for train, test in splitter.split(points, labels):
        model = make_knn(n_neighbors, len(train)).fit(points[train], labels[train])
        predicted[test] = model.predict(points[test])
    return {
        "cv_folds": folds,
        "cv_accuracy": float(accuracy_score(labels, predicted)),
        "cv_macro_f1": float(f1_score(labels, predicted, average="macro")),
    }


def fit_labels(points: np.ndarray, k: int, settings: dict) -> np.ndarray:
    """Labels 0..k-1 (or -1 for HDBSCAN's noise) on the fit-sample points."""
    algorithm = settings["algorithm"]
    if algorithm == "hdbscan":
        size = algorithms.hdbscan_min_cluster_size(len(points), settings["min_cluster_share"])
        return algorithms.hdbscan_labels(points, size)
    labeller = algorithms.LABELLERS[algorithm]
    return labeller(points, [k], settings["random_state"], settings["n_init"])[k]


def sample_cluster_ids(
    features_fit: np.ndarray, scaled_fit: np.ndarray, k: int | None, settings: dict
) -> np.ndarray | None:
    """The cluster ids (business order from 1; 0 for HDBSCAN's noise) the algorithm gives
    the fit-sample rows, or None when everyone is one cluster (fewer than two distinct
    points, or k None or 1 for an algorithm that needs k)."""
    algorithm = settings["algorithm"]
    needs_k = algorithm != "hdbscan"
    if len(np.unique(scaled_fit, axis=0)) < 2 or (needs_k and (not k or k == 1)):
        return None
    fit_labels_ = fit_labels(scaled_fit, k, settings)
    labelled = fit_labels_ >= 0
    if not labelled.any():
        raise ValueError(f"{algorithm} found no cluster in the fit sample")
    new_ids = business_order(centroids_in_original_units(features_fit, fit_labels_))
    return np.where(labelled, new_ids[np.maximum(fit_labels_, 0)], 0)


def train_knn(scaled_fit: np.ndarray, ids_fit: np.ndarray, settings: dict):
    """The classifier that labels everyone else, trained on the labelled fit-sample rows."""
    labelled = ids_fit != 0
    knn = make_knn(settings["knn_neighbors"], int(labelled.sum()), settings["knn_threads"])
    return knn.fit(scaled_fit[labelled], ids_fit[labelled])


def assign_clusters(
    customers: pd.DataFrame, k: int | None, settings: dict, names: dict
) -> pd.DataFrame:
    """Cluster id, name and how it was assigned, for every customer.

    `k` is the number of clusters (ignored by HDBSCAN, None or 1 puts everyone in one
    cluster); `names` comes from naming.seed_names."""
    empty = pd.DataFrame({c: pd.Series(dtype=t) for c, t in OUTPUT_COLUMNS.items()})
    if customers.empty:
        return empty
    features, fit_rows, _, scaled = fit_sample_points(customers, settings)
    in_fit = np.zeros(len(customers), dtype=bool)
    in_fit[fit_rows] = True
    algorithm = settings["algorithm"]
    ids_fit = sample_cluster_ids(features[fit_rows], scaled[fit_rows], k, settings)
    if ids_fit is None:
        cluster_ids = np.ones(len(customers), dtype=int)
        assigned_by = np.where(in_fit, algorithm, "single_cluster")
    else:
        cluster_ids = np.zeros(len(customers), dtype=int)
        cluster_ids[fit_rows] = ids_fit
        assigned_by = np.full(len(customers), algorithm, dtype=object)
        unlabelled = cluster_ids == 0
        if unlabelled.any():
            knn = train_knn(scaled[fit_rows], ids_fit, settings)
            cluster_ids[unlabelled] = knn.predict(scaled[unlabelled])
            assigned_by[unlabelled] = "knn"
    profile = cluster_profile(customers, cluster_ids)
    cluster_names = name_clusters(profile, names, settings["high_returner_threshold"])
    result = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "cluster_id": cluster_ids,
            "cluster_name": [cluster_names[i] for i in cluster_ids],
            "cluster_count": len(profile),
            "is_in_fit_sample": in_fit,
            "assigned_by": assigned_by,
            "clustering_algorithm": algorithm,
        }
    )
    return result.astype(OUTPUT_COLUMNS)


def assignment_quality(
    customers: pd.DataFrame, clusters: pd.DataFrame, settings: dict, totals: dict | None = None
):
    """One row: the KNN classifier's cross-validated accuracy and macro-F1 on the customers
    the algorithm labelled, and how many customers it labelled.

    `customers` and `clusters` may be the fit sample's customers alone (Spark) when
    `totals` gives the counts over everyone: cluster_count, knn_assigned_customers and
    customers."""
    if customers.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in QUALITY_COLUMNS.items()})
    merged = customers[["customer_id"]].merge(clusters, on="customer_id", how="inner")
    # Only the labelled customers (at most the fit sample) are scaled.
    features, _, scaler, _ = fit_sample_points(customers, settings, only_fit_rows=True)
    position = pd.Series(np.arange(len(customers)), index=customers["customer_id"])
    labelled = merged[merged["assigned_by"] == settings["algorithm"]]
    rows = position.loc[labelled["customer_id"]].to_numpy()
    scores = cross_validate_knn(
        scaler.transform(features[rows]),
        labelled["cluster_id"].to_numpy(),
        settings["knn_neighbors"],
        settings["knn_cv_folds"],
        settings["random_state"],
    )
    row = {
        "clustering_algorithm": settings["algorithm"],
        "cluster_count": int(merged["cluster_id"].nunique()),
        "knn_neighbors": settings["knn_neighbors"],
        **scores,
        "labelled_customers": len(labelled),
        "knn_assigned_customers": int((merged["assigned_by"] == "knn").sum()),
        "customers": len(customers),
    } | (totals or {})
    return pd.DataFrame([row]).astype(QUALITY_COLUMNS)
