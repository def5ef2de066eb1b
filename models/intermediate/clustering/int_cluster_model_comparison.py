"""K-Means, Gaussian mixture, Ward hierarchical clustering and HDBSCAN compared on the same
features and sample: one row per algorithm with its clusters, metrics, stability, noise
share and a one-line verdict. The maths is `customer_segmentation.clustering.comparison`."""

from customer_segmentation.clustering.comparison import compare_algorithms
from customer_segmentation.clustering.features import fit_sample_input, settings_from_config
from customer_segmentation.engine import to_pandas


def model(dbt, session):
    # scikit-learn is imported before the limit is set (see int_kmeans_k_selection).
    import sklearn.cluster  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import sklearn.mixture  # noqa: F401
    from threadpoolctl import threadpool_limits

    dbt.config(materialized="table")
    settings = settings_from_config(dbt.config.get("kmeans"))
    customers, _ = fit_sample_input(dbt.ref("int_customer_rfm"), settings)
    selection = to_pandas(dbt.ref("int_kmeans_k_selection"))
    chosen = selection.loc[selection["is_chosen"], "k"]
    kmeans_k = int(chosen.iloc[0]) if len(chosen) else None
    with threadpool_limits(limits=settings["threads"]):
        comparison = compare_algorithms(customers, settings, kmeans_k)
    return comparison
