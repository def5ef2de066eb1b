"""Clusters in the past: each snapshot's customers labelled by today's model.

Today's model is what today's clustering fitted (the clusters of the customers mart): the
scaler fitted on today's fit sample and the labels the algorithm gave it. A customer of any
snapshot is labelled like a customer outside today's fit sample: the k-nearest-neighbours
classifier trained on today's labelled customers, on that snapshot's features in today's
scaled space. So a move between clusters means the customer's recency, frequency or spend
changed, not the model; and on the as-of snapshot, whose features are today's, every
customer gets today's cluster (a labelled customer is its own nearest neighbour at distance
0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from customer_segmentation.clustering.assignment import make_knn
from customer_segmentation.clustering.features import (
    build_features,
    feature_columns,
    fit_sample_points,
)

HISTORY_COLUMNS = {
    "snapshot_date": "datetime64[ns]",
    "customer_id": "object",
    "cluster_id": "int64",
    "cluster_name": "object",
}


class ModelMismatchError(ValueError):
    """Today's clusters were not fitted on today's customers with these settings."""


def assign_history(
    history: pd.DataFrame, customers: pd.DataFrame, clusters: pd.DataFrame, settings: dict
) -> pd.DataFrame:
    """Cluster id and name for every (snapshot_date, customer_id) row of `history`.

    `customers` are today's customers with their RFM features and `clusters` today's cluster
    assignment (the model that labels the customers mart); `history` carries the same
    feature columns per snapshot."""
    empty = pd.DataFrame({c: pd.Series(dtype=t) for c, t in HISTORY_COLUMNS.items()})
    if history.empty or customers.empty:
        return empty
    # The fit sample is drawn by row position: the order today's clustering used.
    customers = customers.sort_values("customer_id", kind="stable").reset_index(drop=True)
    labels = customers[["customer_id"]].merge(clusters, on="customer_id", how="left")
    if labels["cluster_id"].isna().any():
        raise ModelMismatchError(
            "today's cluster assignment does not label every customer of today: rebuild the "
            "clusters first (dbt build --select +customers)"
        )
    names = dict(zip(labels["cluster_id"].astype(int), labels["cluster_name"]))
    result = history[["snapshot_date", "customer_id"]].copy()
    if labels["cluster_id"].nunique() == 1:
        only = int(labels["cluster_id"].iloc[0])
        result["cluster_id"] = only
    else:
        features, fit_rows, scaler, _ = fit_sample_points(customers, settings, only_fit_rows=True)
        in_fit = np.zeros(len(customers), dtype=bool)
        in_fit[fit_rows] = True
        if not np.array_equal(in_fit, labels["is_in_fit_sample"].to_numpy(dtype=bool)):
            raise ModelMismatchError(
                "today's fit sample differs from the one today's clusters were fitted on: rebuild "
                "the clusters first (dbt build --select +customers)"
            )
        # The customers the algorithm labelled, in row order, as the classifier was trained.
        train = np.flatnonzero(labels["assigned_by"].to_numpy() == settings["algorithm"])
        cluster_ids = labels["cluster_id"].to_numpy(dtype=int)
        knn = make_knn(settings["knn_neighbors"], len(train), settings["knn_threads"])
        knn.fit(scaler.transform(features[train]), cluster_ids[train])
        points = scaler.transform(
            build_features(history, feature_columns(settings["use_return_rate"]))
        )
        result["cluster_id"] = knn.predict(points).astype(int)
    result["cluster_name"] = result["cluster_id"].map(names)
    result["snapshot_date"] = pd.to_datetime(result["snapshot_date"])
    return result.astype(HISTORY_COLUMNS).reset_index(drop=True)
