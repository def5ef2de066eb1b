"""Settings, features, scaling and seeded samples shared by every clustering model."""

from __future__ import annotations

import numpy as np
import pandas as pd

FEATURES = ["recency_days", "frequency", "monetary"]
RETURN_RATE_FEATURE = "return_rate"
# What the clustering models read of the customers' RFM, in the order the fit sample is drawn
# from (by row position): the key, the features and what the cluster profiles need. Projected
# and sorted in the warehouse, so `.df()` converts six columns, not twenty, and pandas sorts
# nothing (DuckDB's binary string order is Python's code-point order).
CLUSTERING_INPUTS = (
    "customer_id, recency_days, frequency, monetary, return_rate, matched_return_amount"
)
ALGORITHMS = ("kmeans", "gmm", "ward", "hdbscan")


# The dbt var behind each clustering setting; the models' yml passes each var into their
# `kmeans` config under the setting's name.
VAR_NAMES = {
    "k_min": "kmeans_k_min",
    "k_max": "kmeans_k_max",
    "forced_k": "kmeans_k",
    "min_cluster_share": "kmeans_min_cluster_share",
    "use_return_rate": "kmeans_use_return_rate",
    "scaler": "kmeans_scaler",
    "fit_sample_size": "kmeans_fit_sample_size",
    "silhouette_sample_size": "kmeans_silhouette_sample_size",
    "random_state": "kmeans_random_state",
    "n_init": "kmeans_n_init",
    "threads": "kmeans_threads",
    "stability_resamples": "kmeans_stability_resamples",
    "stability_fraction": "kmeans_stability_fraction",
    "stability_n_init": "kmeans_stability_n_init",
    "min_stability_ari": "kmeans_min_stability_ari",
    "min_cluster_jaccard": "kmeans_min_cluster_jaccard",
    "algorithm": "clustering_algorithm",
    "comparison_sample_size": "clustering_comparison_sample_size",
    "comparison_resamples": "clustering_comparison_resamples",
    "knn_neighbors": "knn_neighbors",
    "knn_cv_folds": "knn_cv_folds",
    "knn_threads": "knn_threads",
}


def _is_unset(value) -> bool:
    return value is None or (isinstance(value, str) and value in ("", "None", "none", "null"))


def var_defaults(project_vars: dict | None = None) -> dict:
    """Each setting's var from dbt_project.yml (or from `project_vars`, a vars mapping)."""
    from customer_segmentation.project import project_vars as read_vars

    values = read_vars() if project_vars is None else project_vars
    return {name: values.get(var) for name, var in VAR_NAMES.items()}


def settings_from_config(config: dict) -> dict:
    """Types the models' `kmeans` config (dbt passes the vars there as text). A setting
    the config leaves out (tests, command lines) takes its var's value in dbt_project.yml:
    the vars are the only defaults."""
    defaults: dict | None = None

    def get(name):
        nonlocal defaults
        value = config.get(name)
        if _is_unset(value):
            if defaults is None:
                defaults = var_defaults()
            value = defaults[name]
        return None if _is_unset(value) else value

    forced = get("forced_k")
    settings = {
        "k_min": int(get("k_min")),
        "k_max": int(get("k_max")),
        "forced_k": int(forced) if forced is not None else None,
        "min_cluster_share": float(get("min_cluster_share")),
        "use_return_rate": str(get("use_return_rate")).lower() == "true",
        "scaler": str(get("scaler")),
        "fit_sample_size": int(get("fit_sample_size")),
        "silhouette_sample_size": int(get("silhouette_sample_size")),
        "random_state": int(get("random_state")),
        "n_init": int(get("n_init")),
        "threads": int(get("threads")),
        "stability_resamples": int(get("stability_resamples")),
        "stability_fraction": float(get("stability_fraction")),
        "stability_n_init": int(get("stability_n_init")),
        "min_stability_ari": float(get("min_stability_ari")),
        "min_cluster_jaccard": float(get("min_cluster_jaccard")),
        "algorithm": str(get("algorithm")).lower(),
        "comparison_sample_size": int(get("comparison_sample_size")),
        "comparison_resamples": int(get("comparison_resamples")),
        "knn_neighbors": int(get("knn_neighbors")),
        "knn_cv_folds": int(get("knn_cv_folds")),
        "knn_threads": int(get("knn_threads")),
    }
    if settings["algorithm"] not in ALGORITHMS:
        raise ValueError(
            f"clustering_algorithm must be one of {list(ALGORITHMS)}, got {settings['algorithm']!r}"
        )
    if not 0 < settings["stability_fraction"] < 1:
        raise ValueError(
            "kmeans_stability_fraction must be between 0 and 1 (exclusive), "
            f"got {settings['stability_fraction']}"
        )
    return settings


def feature_columns(use_return_rate: bool) -> list[str]:
    return FEATURES + [RETURN_RATE_FEATURE] if use_return_rate else list(FEATURES)


def build_features(customers: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """log1p tames the long right tails of frequency and monetary (and recency)."""
    values = customers[columns].astype("float64").to_numpy()
    return np.log1p(np.clip(values, 0, None))


SCALERS = ("rank", "standard", "minmax")
RANK_QUANTILES = 1000


def make_scaler(name: str, n_rows: int | None = None):
    """`rank`: each feature becomes its percentile among the fit sample (0 to 1, ties share
    the middle of their range), the continuous version of the RFM quantile scores;
    `standard`: z-scores; `minmax`: 0 to 1 between the extremes. Fitted on the fit sample."""
    from sklearn.preprocessing import MinMaxScaler, QuantileTransformer, StandardScaler

    if name == "rank":
        quantiles = RANK_QUANTILES if n_rows is None else max(2, min(RANK_QUANTILES, n_rows))
        return QuantileTransformer(
            n_quantiles=quantiles, output_distribution="uniform", subsample=None
        )
    scalers = {"standard": StandardScaler, "minmax": MinMaxScaler}
    if name not in scalers:
        raise ValueError(f"kmeans_scaler must be one of {list(SCALERS)}, got {name!r}")
    return scalers[name]()


def sample_indices(n_rows: int, size: int, random_state: int) -> np.ndarray:
    """A seeded sample without replacement, in row order (all rows when size >= n_rows)."""
    if size <= 0 or size >= n_rows:
        return np.arange(n_rows)
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n_rows, size=size, replace=False))


def fit_sample_input(relation, settings: dict) -> tuple[pd.DataFrame, int]:
    """What a model that needs only the fit sample reads of the customers' RFM relation,
    and how many customers there are.

    DuckDB: every customer (CLUSTERING_INPUTS, by customer_id), the pure functions draw the
    sample as they always did. Spark: only the fit sample's rows, the same rows in the same
    order, numbered and chosen in Spark, so the driver receives at most
    `fit_sample_size` customers; drawn again from those, `sample_indices` keeps them all."""
    from customer_segmentation import engine

    if not engine.is_spark(relation):
        customers = engine.to_pandas(relation, CLUSTERING_INPUTS, "customer_id")
        return customers, len(customers)
    n_customers = engine.row_count(relation)
    rows = sample_indices(n_customers, settings["fit_sample_size"], settings["random_state"])
    return engine.rows_at(relation, rows, CLUSTERING_INPUTS, "customer_id"), n_customers


def fit_sample_points(customers: pd.DataFrame, settings: dict, only_fit_rows: bool = False):
    """The features of every customer, the fit-sample rows, and the scaler fitted on them.

    Returns (features, fit_rows, scaler, scaled points of every customer), or with
    `only_fit_rows` the scaled points of the fit rows alone (in fit_rows' order): the
    scalers work row by row, so those are the same values, and a model that needs no other
    customer does not scale a million of them.
    """
    columns = feature_columns(settings["use_return_rate"])
    features = build_features(customers, columns)
    fit_rows = sample_indices(len(customers), settings["fit_sample_size"], settings["random_state"])
    scaler = make_scaler(settings["scaler"], len(fit_rows)).fit(features[fit_rows])
    scaled = scaler.transform(features[fit_rows] if only_fit_rows else features)
    return features, fit_rows, scaler, scaled


def feasible_k_values(
    n_distinct_points: int, k_min: int, k_max: int, forced_k: int | None
) -> tuple[list[int], str]:
    """The k that can be fitted and scored: silhouette needs 2 <= k <= distinct points - 1.

    Returns the k values and a note saying why the range was narrowed (empty if it was not).
    """
    low, high = (forced_k, forced_k) if forced_k is not None else (k_min, k_max)
    if low > high:
        raise ValueError(f"kmeans_k_min ({k_min}) is greater than kmeans_k_max ({k_max})")
    cap = n_distinct_points - 1
    if cap < 2:
        return [], (
            f"{n_distinct_points} distinct customer profile(s): too few to cluster, "
            "every customer is put in one cluster"
        )
    if high > cap:
        note = f"k capped at {cap}: only {n_distinct_points} distinct customer profiles"
        if low > cap:
            return [cap], note
        return list(range(max(low, 2), cap + 1)), note
    return list(range(max(low, 2), high + 1)), ""
