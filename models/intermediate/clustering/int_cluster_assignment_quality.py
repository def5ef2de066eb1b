"""How well the k-nearest-neighbours classifier reproduces the clusters: stratified k-fold
cross-validated accuracy and macro-F1 on the customers the algorithm labelled (one row).
The maths is `customer_segmentation.clustering.assignment.assignment_quality`."""

from customer_segmentation.clustering.assignment import assignment_quality
from customer_segmentation.clustering.features import CLUSTERING_INPUTS, settings_from_config
from customer_segmentation.clustering.spark_scoring import quality_inputs
from customer_segmentation.engine import is_spark, to_pandas


def model(dbt, session):
    # scikit-learn is imported before the limit is set (see int_kmeans_k_selection).
    import sklearn.model_selection  # noqa: F401
    import sklearn.neighbors  # noqa: F401
    from threadpoolctl import threadpool_limits

    dbt.config(materialized="table")
    settings = settings_from_config(dbt.config.get("kmeans"))
    customers = dbt.ref("int_customer_rfm")
    clusters = dbt.ref("int_customer_clusters")
    totals = None
    if is_spark(customers):
        # Only the fit sample's customers travel to the driver; the counts come from Spark.
        customers, clusters, totals = quality_inputs(customers, clusters, settings)
    else:
        customers = to_pandas(customers, CLUSTERING_INPUTS, "customer_id")
        clusters = to_pandas(clusters)
    with threadpool_limits(limits=settings["threads"]):
        quality = assignment_quality(customers, clusters, settings, totals)
    return quality
