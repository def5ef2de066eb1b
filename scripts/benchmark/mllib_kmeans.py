"""How far Spark MLlib's K-Means is from the project's (scikit-learn) K-Means on the same
points: the measurement behind the README's choice ("The Python models on Spark").

Takes the customers mart of a build (Parquet: `make spark-build` writes
$SEGMENTATION_SPARK_DIR/marts), draws the fit sample and scales it exactly as the clustering
models do, fits both at the chosen k of the build, and prints the adjusted Rand index between
the two labelings and each one's silhouette (MLlib's ClusteringEvaluator, squared Euclidean):

    .venv-spark/bin/python -m scripts.benchmark.mllib_kmeans --marts target/spark/marts [--k 4]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    from pyspark.ml.clustering import KMeans
    from pyspark.ml.evaluation import ClusteringEvaluator
    from pyspark.ml.linalg import Vectors
    from pyspark.sql import SparkSession

    from customer_segmentation.clustering import algorithms
    from customer_segmentation.clustering.features import (
        CLUSTERING_INPUTS,
        fit_sample_points,
        settings_from_config,
    )
    from customer_segmentation.clustering.stability import adjusted_rand
    from customer_segmentation.engine import column_list, spark_to_pandas

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--marts", type=Path, required=True)
    parser.add_argument("--k", type=int, help="default: the build's chosen k")
    args = parser.parse_args(argv)
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    settings = settings_from_config({})
    customers = spark_to_pandas(
        spark.read.parquet(str(args.marts / "customers"))
        .select(*column_list(CLUSTERING_INPUTS))
        .orderBy("customer_id")
    )
    selection = spark.read.parquet(str(args.marts / "cluster_k_selection")).toPandas()
    k = args.k or int(selection.loc[selection["is_chosen"], "k"].iloc[0])
    _, _, _, points = fit_sample_points(customers, settings, only_fit_rows=True)

    started = time.perf_counter()
    sklearn_labels = algorithms.kmeans(
        points, k, settings["random_state"], settings["n_init"]
    ).labels_
    sklearn_seconds = time.perf_counter() - started
    frame = spark.createDataFrame(
        [
            (i, Vectors.dense(row), int(label))
            for i, (row, label) in enumerate(zip(points, sklearn_labels))
        ],
        ["id", "features", "sklearn"],
    ).cache()
    started = time.perf_counter()
    model = KMeans(k=k, seed=settings["random_state"], maxIter=300, tol=1e-4).fit(frame)
    predicted = model.transform(frame).orderBy("id").cache()
    mllib_labels = np.array([row["prediction"] for row in predicted.select("prediction").collect()])
    mllib_seconds = time.perf_counter() - started
    evaluator = ClusteringEvaluator()
    result = {
        "customers": len(customers),
        "fit_sample": len(points),
        "k": k,
        "ari_mllib_vs_sklearn": round(adjusted_rand(sklearn_labels, mllib_labels), 4),
        "silhouette_sklearn": round(evaluator.setPredictionCol("sklearn").evaluate(predicted), 4),
        "silhouette_mllib": round(evaluator.setPredictionCol("prediction").evaluate(predicted), 4),
        "seconds_sklearn": round(sklearn_seconds, 2),
        "seconds_mllib": round(mllib_seconds, 2),
    }
    print(json.dumps(result, indent=2))
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
