"""K-Means model selection: one row per candidate k with the metrics that choose it.

Customers are described by log1p(recency, frequency, monetary) (and optionally the
return rate), scaled, and K-Means is fitted for every k in the configured range on
a seeded sample of customers, so the cost stays bounded however many there are.
The chosen k is the best silhouette among the k whose smallest cluster holds at
least `min_cluster_share` of the sample (ties go to the smaller k); the elbow (the
knee of the inertia curve) is reported next to it. `forced_k` overrides the rule.

The pure functions here are shared with int_customer_clusters, which imports this
file by path; `model(dbt, session)` only wires inputs and outputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FEATURES = ["recency_days", "frequency", "monetary"]
RETURN_RATE_FEATURE = "return_rate"

METRIC_COLUMNS = {
    "k": "int64",
    "inertia": "float64",
    "silhouette": "float64",
    "calinski_harabasz": "float64",
    "davies_bouldin": "float64",
    "smallest_cluster_share": "float64",
    "is_eligible": "bool",
    "is_elbow": "bool",
    "is_chosen": "bool",
    "selection_rule": "object",
    "customers": "int64",
    "fit_sample_size": "int64",
    "silhouette_sample_size": "int64",
    "note": "object",
}


def settings_from_config(config: dict) -> dict:
    """Types the model's `kmeans` config (dbt passes the vars there as text)."""

    def get(name, default=None):
        value = config.get(name, default)
        return default if value in (None, "", "None", "none", "null") else value

    forced = get("forced_k")
    return {
        "k_min": int(get("k_min", 2)),
        "k_max": int(get("k_max", 8)),
        "forced_k": int(forced) if forced is not None else None,
        "min_cluster_share": float(get("min_cluster_share", 0.05)),
        "use_return_rate": str(get("use_return_rate", False)).lower() == "true",
        "scaler": str(get("scaler", "standard")),
        "fit_sample_size": int(get("fit_sample_size", 100_000)),
        "silhouette_sample_size": int(get("silhouette_sample_size", 10_000)),
        "random_state": int(get("random_state", 42)),
        "n_init": int(get("n_init", 10)),
        "threads": int(get("threads", 1)),
    }


def feature_columns(use_return_rate: bool) -> list[str]:
    return FEATURES + [RETURN_RATE_FEATURE] if use_return_rate else list(FEATURES)


def build_features(customers: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """log1p tames the long right tails of frequency and monetary (and recency)."""
    values = customers[columns].astype("float64").to_numpy()
    return np.log1p(np.clip(values, 0, None))


def make_scaler(name: str):
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    scalers = {"standard": StandardScaler, "minmax": MinMaxScaler}
    if name not in scalers:
        raise ValueError(f"kmeans_scaler must be one of {sorted(scalers)}, got {name!r}")
    return scalers[name]()


def sample_indices(n_rows: int, size: int, random_state: int) -> np.ndarray:
    """A seeded sample without replacement, in row order (all rows when size >= n_rows)."""
    if size <= 0 or size >= n_rows:
        return np.arange(n_rows)
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n_rows, size=size, replace=False))


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


def fit_kmeans(points: np.ndarray, k: int, random_state: int, n_init: int):
    from sklearn.cluster import KMeans

    # lloyd, a fixed seed and n_init make the fit reproducible across runs and versions.
    return KMeans(n_clusters=k, random_state=random_state, n_init=n_init, algorithm="lloyd").fit(
        points
    )


def cluster_scores(
    points: np.ndarray, labels: np.ndarray, k: int, random_state: int, silhouette_sample_size: int
) -> dict:
    """Silhouette (on a seeded sample), Calinski-Harabasz, Davies-Bouldin (nan when the
    labels cannot be scored) and the smallest cluster's share."""
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

    scorable = 1 < len(np.unique(labels)) < len(points)
    sample = silhouette_sample_size if 0 < silhouette_sample_size < len(points) else None
    return {
        "silhouette": float(
            silhouette_score(points, labels, sample_size=sample, random_state=random_state)
        )
        if scorable
        else np.nan,
        "calinski_harabasz": float(calinski_harabasz_score(points, labels)) if scorable else np.nan,
        "davies_bouldin": float(davies_bouldin_score(points, labels)) if scorable else np.nan,
        "smallest_cluster_share": float(np.bincount(labels, minlength=k).min() / len(labels)),
    }


def evaluate_k(
    points: np.ndarray,
    k_values: list[int],
    random_state: int,
    n_init: int,
    silhouette_sample_size: int,
) -> pd.DataFrame:
    """Inertia and the cluster scores for each k."""
    rows = []
    for k in k_values:
        fitted = fit_kmeans(points, k, random_state, n_init)
        rows.append(
            {
                "k": k,
                "inertia": float(fitted.inertia_),
                **cluster_scores(points, fitted.labels_, k, random_state, silhouette_sample_size),
            }
        )
    return pd.DataFrame(rows, columns=list(METRIC_COLUMNS)[:6])


def knee_k(k_values: list[int], inertias: list[float]) -> int | None:
    """The elbow: the k whose inertia lies farthest below the straight line joining the
    first and last points of the (normalised) inertia curve (the Kneedle idea)."""
    if len(k_values) < 3:
        return None
    x = np.asarray(k_values, dtype=float)
    y = np.asarray(inertias, dtype=float)
    x_norm = (x - x[0]) / (x[-1] - x[0])
    span = y[0] - y[-1]
    if span <= 0:
        return None
    y_norm = (y - y[-1]) / span
    # On the line from (0, 1) to (1, 0) y = 1 - x; the knee is where the curve sags most below it.
    distance = (1 - x_norm) - y_norm
    return int(x[int(np.argmax(distance))])


def choose_k(
    metrics: pd.DataFrame, min_cluster_share: float, forced_k: int | None
) -> tuple[int, str]:
    """Applies the selection rule to the per-k metrics; returns k and the rule applied."""
    if forced_k is not None:
        if forced_k not in set(metrics["k"]):
            k = int(metrics["k"].max())
            return k, f"forced by var kmeans_k={forced_k}, capped to {k}"
        return forced_k, f"forced by var kmeans_k={forced_k}"
    scored = metrics.dropna(subset=["silhouette"])
    eligible = scored[scored["smallest_cluster_share"] >= min_cluster_share]
    if eligible.empty:
        pool, rule = (
            scored,
            (f"best silhouette; no k keeps every cluster at {min_cluster_share:.0%} or more"),
        )
    else:
        pool, rule = (
            eligible,
            (f"best silhouette among k whose smallest cluster holds >= {min_cluster_share:.0%}"),
        )
    best = pool.sort_values(["silhouette", "k"], ascending=[False, True]).iloc[0]
    return int(best["k"]), rule


def select_k(customers: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """The whole selection on a customer table: one row per k (empty when there are
    no customers; a single k=1 row when there are too few to cluster)."""
    n_customers = len(customers)
    if n_customers == 0:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in METRIC_COLUMNS.items()})

    columns = feature_columns(settings["use_return_rate"])
    features = build_features(customers, columns)
    fit_rows = sample_indices(n_customers, settings["fit_sample_size"], settings["random_state"])
    scaler = make_scaler(settings["scaler"]).fit(features[fit_rows])
    points = scaler.transform(features[fit_rows])
    n_distinct = len(np.unique(points, axis=0))

    k_values, note = feasible_k_values(
        n_distinct, settings["k_min"], settings["k_max"], settings["forced_k"]
    )
    constant = [c for c, spread in zip(columns, np.ptp(features, axis=0)) if spread == 0]
    if constant:
        note = "; ".join(filter(None, [note, f"constant feature(s) carry no weight: {constant}"]))

    if not k_values:
        metrics = pd.DataFrame(
            [{"k": 1, "inertia": 0.0, "smallest_cluster_share": 1.0}],
        ).reindex(columns=list(METRIC_COLUMNS)[:6])
        chosen, rule = 1, "single cluster: too few distinct customers"
    else:
        metrics = evaluate_k(
            points,
            k_values,
            settings["random_state"],
            settings["n_init"],
            settings["silhouette_sample_size"],
        )
        chosen, rule = choose_k(metrics, settings["min_cluster_share"], settings["forced_k"])

    elbow = knee_k(list(metrics["k"]), list(metrics["inertia"]))
    metrics["is_eligible"] = metrics["smallest_cluster_share"] >= settings["min_cluster_share"]
    metrics["is_elbow"] = metrics["k"] == elbow
    metrics["is_chosen"] = metrics["k"] == chosen
    metrics["selection_rule"] = rule
    metrics["customers"] = n_customers
    metrics["fit_sample_size"] = len(fit_rows)
    metrics["silhouette_sample_size"] = min(
        settings["silhouette_sample_size"] or len(fit_rows), len(fit_rows)
    )
    metrics["note"] = note
    return metrics.astype(METRIC_COLUMNS)


def model(dbt, session):
    # scikit-learn is imported before the limit is set: threadpool_limits only limits the
    # thread pools (OpenMP, BLAS) already loaded, and an unlimited OpenMP pool busy-waits,
    # which on shared cores made K-Means tens of times slower.
    import sklearn.cluster  # noqa: F401
    import sklearn.metrics  # noqa: F401
    from threadpoolctl import threadpool_limits

    dbt.config(materialized="table")
    settings = settings_from_config(dbt.config.get("kmeans"))
    customers = dbt.ref("int_customer_rfm").df().sort_values("customer_id", kind="stable")
    with threadpool_limits(limits=settings["threads"]):
        selection = select_k(customers.reset_index(drop=True), settings)
    return selection
