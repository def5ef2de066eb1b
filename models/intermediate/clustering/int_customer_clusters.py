"""The cluster of every customer, with stable ids and business names from the seed.

The algorithm of var `clustering_algorithm` labels the fit sample (K-Means with the k of
int_kmeans_k_selection; the other algorithms with the k int_cluster_model_comparison chose
for them); a k-nearest-neighbours classifier labels every other customer. Ids follow
business order, names come from seed `cluster_names` (see
`customer_segmentation.clustering.naming`).
"""

from customer_segmentation.clustering.assignment import assign_clusters
from customer_segmentation.clustering.features import CLUSTERING_INPUTS, settings_from_config
from customer_segmentation.clustering.naming import seed_names
from customer_segmentation.clustering.spark_scoring import assign_clusters_spark
from customer_segmentation.engine import is_spark, to_pandas


def chosen_k(selection, comparison, algorithm: str) -> int | None:
    """K-Means: the chosen k of the selection; another algorithm: its comparison row."""
    if algorithm == "kmeans":
        chosen = selection.loc[selection["is_chosen"], "k"]
    else:
        chosen = comparison.loc[comparison["clustering_algorithm"] == algorithm, "cluster_count"]
    return int(chosen.iloc[0]) if len(chosen) else None


def model(dbt, session):
    # scikit-learn is imported before the limit is set (see int_kmeans_k_selection).
    import sklearn.cluster  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import sklearn.neighbors  # noqa: F401
    from threadpoolctl import threadpool_limits

    dbt.config(materialized="table")
    settings = settings_from_config(dbt.config.get("kmeans"))
    settings["high_returner_threshold"] = float(dbt.config.get("high_returner_threshold"))
    customers = dbt.ref("int_customer_rfm")
    selection = to_pandas(dbt.ref("int_kmeans_k_selection"))
    comparison = to_pandas(dbt.ref("int_cluster_model_comparison"))
    names = seed_names(to_pandas(dbt.ref("cluster_names")))
    k = chosen_k(selection, comparison, settings["algorithm"])
    with threadpool_limits(limits=settings["threads"]):
        if is_spark(customers):
            # The same fit on the driver, everyone else classified in Spark's workers.
            return assign_clusters_spark(customers, k, settings, names)
        customers = to_pandas(customers, CLUSTERING_INPUTS, "customer_id")
        clusters = assign_clusters(customers, k, settings, names)
    return clusters
