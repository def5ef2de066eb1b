"""The clustering of every customer (and of every history snapshot) on Spark, where the
customers do not fit on one machine.

The fit is the one DuckDB runs: the same seeded fit sample (at most var
`kmeans_fit_sample_size` customers, numbered by customer_id in Spark and the chosen rows
alone collected), the same scaler, algorithm and business order, the same k-nearest-
neighbours classifier, all on the driver. Only the per-row work is distributed: every
customer outside the sample, and every history row, is scaled and classified in Spark's
Python workers (`mapInPandas`, the fitted scaler and classifier shipped with the task),
and the cluster profiles the names come from are aggregated by Spark (exact medians,
`percentile`). So a customer's cluster is the one DuckDB gives it.

pyspark is imported inside the functions: the DuckDB environment does not have it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from customer_segmentation.clustering.assignment import (
    OUTPUT_COLUMNS,
    sample_cluster_ids,
    train_knn,
)
from customer_segmentation.clustering.features import (
    CLUSTERING_INPUTS,
    build_features,
    feature_columns,
    make_scaler,
    sample_indices,
)
from customer_segmentation.clustering.history import HISTORY_COLUMNS, ModelMismatchError
from customer_segmentation.clustering.naming import name_clusters, profile_from_sums
from customer_segmentation.engine import column_list, spark_to_pandas

POSITION = "_position"
SPARK_TYPES = {"object": "string", "int64": "bigint", "bool": "boolean"}


def numbered(customers, columns=CLUSTERING_INPUTS):
    """The customers with their 0-based position in customer_id order (the order DuckDB's
    sample is drawn in). One window over all customers: a shuffle of six columns to one
    partition, the price of drawing the very sample DuckDB draws."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    window = Window.orderBy("customer_id")
    return customers.select(*column_list(columns)).withColumn(
        POSITION, F.row_number().over(window) - 1
    )


def fit_sample(customers, settings: dict):
    """(numbered customers, the fit sample as pandas in position order, customer count)."""
    from pyspark.sql import functions as F

    rows = numbered(customers)
    n_customers = int(customers.count())
    positions = sample_indices(n_customers, settings["fit_sample_size"], settings["random_state"])
    spark = customers.sparkSession
    wanted = spark.createDataFrame([(int(p),) for p in positions], f"{POSITION} long")
    sample = spark_to_pandas(rows.join(F.broadcast(wanted), POSITION).orderBy(POSITION))
    return rows, sample.drop(columns=POSITION), n_customers


def fitted_model(sample: pd.DataFrame, k: int | None, settings: dict):
    """The scaler fitted on the sample, the sample's cluster ids (None: one cluster) and
    the classifier for everyone else (None when nobody needs it)."""
    columns = feature_columns(settings["use_return_rate"])
    features_fit = build_features(sample, columns)
    scaler = make_scaler(settings["scaler"], len(sample)).fit(features_fit)
    scaled_fit = scaler.transform(features_fit)
    ids_fit = sample_cluster_ids(features_fit, scaled_fit, k, settings)
    knn = None if ids_fit is None else train_knn(scaled_fit, ids_fit, settings)
    return scaler, ids_fit, knn


def in_workers(score_batch, threads: int):
    """`score_batch` (a pandas frame in, one out) as mapInPandas' function. The workers are
    other processes than the model's: they limit their own thread pools, as the k
    selection does in the model's process."""

    def score(batches):
        from threadpoolctl import threadpool_limits

        for batch in batches:
            with threadpool_limits(limits=threads):
                yield score_batch(batch)

    return score


def spark_schema(columns: dict) -> str:
    return ", ".join(f"{name} {SPARK_TYPES[kind]}" for name, kind in columns.items())


def assign_clusters_spark(customers, k: int | None, settings: dict, names: dict):
    """assignment.assign_clusters on a Spark DataFrame of the customers: a Spark DataFrame
    with the same columns and the same clusters."""
    from pyspark.sql import functions as F

    spark = customers.sparkSession
    rows, sample, n_customers = fit_sample(customers, settings)
    algorithm = settings["algorithm"]
    if n_customers == 0:
        return spark.createDataFrame([], spark_schema(OUTPUT_COLUMNS))
    scaler, ids_fit, knn = fitted_model(sample, k, settings)
    single = ids_fit is None
    fit_ids = pd.DataFrame(
        {
            "customer_id": sample["customer_id"].astype(str),
            "_fit_id": np.ones(len(sample), dtype="int64") if single else ids_fit.astype("int64"),
        }
    )
    joined = rows.join(F.broadcast(spark.createDataFrame(fit_ids)), "customer_id", "left")
    columns = feature_columns(settings["use_return_rate"])
    profile_columns = ["recency_days", "frequency", "monetary", "matched_return_amount"]

    def score_batch(batch):
        in_fit = batch["_fit_id"].notna().to_numpy()
        ids = batch["_fit_id"].fillna(0).to_numpy(dtype="int64")
        if single:
            ids[:] = 1
            assigned_by = np.where(in_fit, algorithm, "single_cluster")
        else:
            assigned_by = np.full(len(batch), algorithm, dtype=object)
            unlabelled = ids == 0
            if unlabelled.any():
                points = scaler.transform(build_features(batch[unlabelled], columns))
                ids[unlabelled] = knn.predict(points)
                assigned_by[unlabelled] = "knn"
        return pd.DataFrame(
            {
                "customer_id": batch["customer_id"].astype(str).to_numpy(),
                "cluster_id": ids,
                "is_in_fit_sample": in_fit,
                "assigned_by": assigned_by.astype(str),
                **{c: batch[c].astype("float64").to_numpy() for c in profile_columns},
            }
        )

    scored_schema = (
        "customer_id string, cluster_id bigint, is_in_fit_sample boolean, assigned_by string, "
        + ", ".join(f"{c} double" for c in profile_columns)
    )
    scored = joined.mapInPandas(in_workers(score_batch, settings["threads"]), scored_schema).cache()
    sums = spark_to_pandas(
        scored.groupBy("cluster_id").agg(
            F.percentile("recency_days", 0.5).alias("recency_days"),
            F.percentile("frequency", 0.5).alias("frequency"),
            F.percentile("monetary", 0.5).alias("monetary"),
            F.sum("matched_return_amount").alias("matched_return_amount"),
            F.sum("monetary").alias("monetary_sum"),
        )
    )
    profile = profile_from_sums(sums.set_index("cluster_id"))
    cluster_names = name_clusters(profile, names, settings["high_returner_threshold"])
    name_map = F.create_map(
        *[item for i, name in cluster_names.items() for item in (F.lit(int(i)), F.lit(name))]
    )
    return scored.select(
        "customer_id",
        "cluster_id",
        name_map[F.col("cluster_id")].alias("cluster_name"),
        F.lit(len(profile)).cast("bigint").alias("cluster_count"),
        "is_in_fit_sample",
        "assigned_by",
        F.lit(algorithm).alias("clustering_algorithm"),
    )


def assign_history_spark(history, customers, clusters, settings: dict):
    """history.assign_history on Spark DataFrames: every snapshot row classified by today's
    model in Spark's workers."""
    from pyspark.sql import functions as F

    spark = history.sparkSession
    _, sample, n_customers = fit_sample(customers, settings)
    sample_labels = spark_to_pandas(
        clusters.join(
            F.broadcast(spark.createDataFrame(sample[["customer_id"]].astype(str))), "customer_id"
        ).select("customer_id", "cluster_id", "cluster_name", "is_in_fit_sample", "assigned_by")
    )
    counts = clusters.agg(
        F.count("*").alias("labelled"),
        F.sum(F.col("is_in_fit_sample").cast("int")).alias("in_fit"),
    ).first()
    if int(counts["labelled"]) != n_customers:
        raise ModelMismatchError(
            "today's cluster assignment does not label every customer of today: rebuild the "
            "clusters first (dbt build --select +customers)"
        )
    sample = sample.merge(sample_labels, on="customer_id", how="left")
    if int(counts["in_fit"] or 0) != len(sample) or not sample["is_in_fit_sample"].all():
        raise ModelMismatchError(
            "today's fit sample differs from the one today's clusters were fitted on: rebuild "
            "the clusters first (dbt build --select +customers)"
        )
    names = dict(
        (int(i), n) for i, n in clusters.select("cluster_id", "cluster_name").distinct().collect()
    )
    columns = feature_columns(settings["use_return_rate"])
    features_fit = build_features(sample, columns)
    scaler = make_scaler(settings["scaler"], len(sample)).fit(features_fit)
    ids = sample["cluster_id"].to_numpy(dtype="int64")
    single = len(names) == 1
    train = sample["assigned_by"].to_numpy() == settings["algorithm"]
    knn = None
    if not single:
        ids_fit = np.where(train, ids, 0)
        knn = train_knn(scaler.transform(features_fit), ids_fit, settings)
    only = next(iter(names)) if single else None

    def score_batch(batch):
        if single:
            cluster_ids = np.full(len(batch), only, dtype="int64")
        else:
            points = scaler.transform(build_features(batch, columns))
            cluster_ids = knn.predict(points).astype("int64")
        return pd.DataFrame(
            {
                "snapshot_date": pd.to_datetime(batch["snapshot_date"]),
                "customer_id": batch["customer_id"].astype(str),
                "cluster_id": cluster_ids,
            }
        )

    inputs = ["snapshot_date", "customer_id", *columns]
    name_map = F.create_map(*[x for i, n in names.items() for x in (F.lit(i), F.lit(n))])
    scored = history.select(*inputs).mapInPandas(
        in_workers(score_batch, settings["threads"]),
        "snapshot_date timestamp, customer_id string, cluster_id bigint",
    )
    return scored.withColumn("cluster_name", name_map[F.col("cluster_id")]).select(*HISTORY_COLUMNS)


def quality_inputs(customers, clusters, settings: dict):
    """What assignment.assignment_quality needs on Spark: the fit sample's customers, their
    clusters, and the counts over every customer (aggregated by Spark)."""
    from pyspark.sql import functions as F

    spark = customers.sparkSession
    _, sample, n_customers = fit_sample(customers, settings)
    keys = F.broadcast(spark.createDataFrame(sample[["customer_id"]].astype(str)))
    sample_clusters = spark_to_pandas(clusters.join(keys, "customer_id"))
    known = clusters.join(customers.select("customer_id"), "customer_id")
    counts = known.agg(
        F.countDistinct("cluster_id").alias("cluster_count"),
        F.sum((F.col("assigned_by") == "knn").cast("int")).alias("knn_assigned_customers"),
    ).first()
    totals = {
        "cluster_count": int(counts["cluster_count"]),
        "knn_assigned_customers": int(counts["knn_assigned_customers"] or 0),
        "customers": n_customers,
    }
    return sample, sample_clusters, totals
