"""Writes tables of a Spark build (`make spark-build`, target spark_python) to Parquet, one
directory per table, so readers without Spark (DuckDB, pandas, the engine comparison test)
read them; views (the line marts) are written as the rows they select.

Run with the Spark environment after the build has finished (Derby, the metastore, admits
one process at a time):

    .venv-spark/bin/python -m scripts.devtools.spark_export --out DIR [--spark-dir DIR] [TABLE ...]

Without TABLE, every model of models/marts in the build's manifest.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def mart_names(manifest: Path) -> list[str]:
    nodes = json.loads(manifest.read_text())["nodes"].values()
    return sorted(
        node["alias"]
        for node in nodes
        if node["resource_type"] == "model"
        and node["original_file_path"].startswith("models/marts/")
    )


def session(spark_dir: Path):
    """A local session on the build's catalog, configured as profiles.yml configures dbt's."""
    from pyspark.sql import SparkSession

    spark_dir = spark_dir.resolve()
    return (
        SparkSession.builder.master("local[2]")
        .appName("spark_export")
        .config("spark.sql.warehouse.dir", str(spark_dir / "warehouse"))
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={spark_dir}/metastore_db;create=false",
        )
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={spark_dir}")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .enableHiveSupport()
        .getOrCreate()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tables", nargs="*")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--spark-dir",
        type=Path,
        default=Path(os.environ.get("SEGMENTATION_SPARK_DIR", "target/spark")),
    )
    parser.add_argument("--manifest", type=Path, default=Path("target/manifest.json"))
    parser.add_argument("--schema", default="main")
    args = parser.parse_args(argv)
    tables = args.tables or mart_names(args.manifest)
    spark = session(args.spark_dir)
    try:
        for table in tables:
            # One file per table: the readers compare whole tables.
            spark.table(f"{args.schema}.{table}").coalesce(1).write.mode("overwrite").parquet(
                str(args.out / table)
            )
    finally:
        spark.stop()
    print(f"wrote {len(tables)} tables to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
