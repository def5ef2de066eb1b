"""The cluster of every customer in every snapshot of the segment history, assigned by
today's model (see `customer_segmentation.clustering.history`).

A table rebuilt on every run, unlike the incremental int_customer_rfm_history it reads:
the model is refitted whenever the data changes, and re-assigning the old snapshots with
the new model (a nearest-neighbour lookup, cheap next to the SQL history) keeps every
snapshot on one model, so a move between clusters is a change of the customer.
"""

from customer_segmentation.clustering.features import CLUSTERING_INPUTS, settings_from_config
from customer_segmentation.clustering.history import assign_history
from customer_segmentation.clustering.spark_scoring import assign_history_spark
from customer_segmentation.engine import is_spark, to_pandas

HISTORY_INPUTS = "snapshot_date, customer_id, recency_days, frequency, monetary, return_rate"


def model(dbt, session):
    # scikit-learn is imported before the limit is set (see int_kmeans_k_selection).
    import sklearn.neighbors  # noqa: F401
    from threadpoolctl import threadpool_limits

    dbt.config(materialized="table")
    settings = settings_from_config(dbt.config.get("kmeans"))
    # Only the keys and the features: the history is the widest input by far.
    history = dbt.ref("int_customer_rfm_history")
    customers = dbt.ref("int_customer_rfm")
    clusters = dbt.ref("int_customer_clusters")
    if is_spark(history):
        # Today's model refitted on the driver, every snapshot row classified in Spark.
        return assign_history_spark(history, customers, clusters, settings)
    history = to_pandas(history, HISTORY_INPUTS)
    customers = to_pandas(customers, CLUSTERING_INPUTS, "customer_id")
    clusters = to_pandas(clusters)
    with threadpool_limits(limits=settings["threads"]):
        assigned = assign_history(history, customers, clusters, settings)
    return assigned
