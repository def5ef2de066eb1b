"""How well the k-nearest-neighbours classifier reproduces the clusters: stratified k-fold
cross-validated accuracy and macro-F1 on the customers the algorithm labelled (one row).
The maths is `customer_segmentation.clustering.assignment.assignment_quality`."""

from customer_segmentation.clustering.assignment import assignment_quality
from customer_segmentation.clustering.features import CLUSTERING_INPUTS, settings_from_config
from customer_segmentation.engine import to_pandas


def model(dbt, session):
    # scikit-learn is imported before the limit is set (see int_kmeans_k_selection).
    import sklearn.model_selection  # noqa: F401
    import sklearn.neighbors  # noqa: F401
    from threadpoolctl import threadpool_limits

    dbt.config(materialized="table")
    settings = settings_from_config(dbt.config.get("kmeans"))
    customers = to_pandas(dbt.ref("int_customer_rfm"), CLUSTERING_INPUTS, "customer_id")
    clusters = to_pandas(dbt.ref("int_customer_clusters"))
    with threadpool_limits(limits=settings["threads"]):
        quality = assignment_quality(customers, clusters, settings)
    return quality
