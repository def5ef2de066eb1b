"""K-Means model selection: one row per candidate k with the metrics that choose it.

The maths lives in the `customer_segmentation.clustering` package (features, stability, the rule in
`customer_segmentation.clustering.selection`); this model only wires the inputs and the output.
"""

from customer_segmentation.clustering.features import fit_sample_input, settings_from_config
from customer_segmentation.clustering.selection import select_k


def model(dbt, session):
    # scikit-learn is imported before the limit is set: threadpool_limits only limits the
    # thread pools (OpenMP, BLAS) already loaded, and an unlimited OpenMP pool busy-waits,
    # which on shared cores made K-Means tens of times slower.
    import sklearn.cluster  # noqa: F401
    import sklearn.metrics  # noqa: F401
    from threadpoolctl import threadpool_limits

    dbt.config(materialized="table")
    settings = settings_from_config(dbt.config.get("kmeans"))
    customers, n_customers = fit_sample_input(dbt.ref("int_customer_rfm"), settings)
    with threadpool_limits(limits=settings["threads"]):
        selection = select_k(customers, settings, n_customers)
    return selection
