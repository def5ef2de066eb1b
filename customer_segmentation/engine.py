"""Which engine a dbt Python model was handed, and its tables as pandas frames.

On DuckDB `dbt.ref()` returns a DuckDB relation; on Spark (dbt-spark, Databricks) a
pyspark DataFrame. The models call these functions instead of `.df()`, so one model file
runs on both. pyspark is imported only when the frame is one of its DataFrames: the
DuckDB environment does not have it.

On DuckDB the frames are exactly what `.project(...).order(...).df()` gives. On Spark they
are converted to the same pandas types (Spark's decimals become float64 as DuckDB's do,
dates datetime64), so the pure functions of this package see the same input on both.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

DUCKDB = "duckdb"
SPARK = "spark"


def engine_of(frame) -> str:
    """`spark` for a pyspark DataFrame (classic or Spark Connect), `duckdb` for a DuckDB
    relation, or a wrapper of either that names it in `__wrapped__` (the benchmark times
    `.df()` that way); anything else is an error naming its type."""
    wrapped = getattr(frame, "__wrapped__", None)
    if wrapped is not None:
        return engine_of(wrapped)
    module = type(frame).__module__
    if module.startswith("pyspark."):
        return SPARK
    if module.startswith("duckdb") or module.startswith("_duckdb"):
        return DUCKDB
    raise TypeError(f"expected a DuckDB relation or a pyspark DataFrame, got {type(frame)!r}")


def is_spark(frame) -> bool:
    return engine_of(frame) == SPARK


def column_list(columns: str | Sequence[str]) -> list[str]:
    """`"a, b"` or `["a", "b"]` as a list of names."""
    if isinstance(columns, str):
        return [name.strip() for name in columns.split(",") if name.strip()]
    return list(columns)


def to_pandas(frame, columns: str | Sequence[str] | None = None, order_by: str | None = None):
    """The table (optionally only `columns`, sorted by `order_by`) as a pandas frame.

    The projection and the sort run in the engine, so only those columns travel. On Spark
    this collects the whole result to the driver: for tables of one row per customer or
    less (see the README, *How the work splits*)."""
    if not is_spark(frame):
        if columns is not None:
            frame = frame.project(", ".join(column_list(columns)))
        if order_by is not None:
            frame = frame.order(order_by)
        return frame.df()
    if columns is not None:
        frame = frame.select(*column_list(columns))
    if order_by is not None:
        frame = frame.orderBy(*column_list(order_by))
    return spark_to_pandas(frame)


def spark_to_pandas(frame) -> pd.DataFrame:
    """A Spark DataFrame as pandas, with DuckDB's `.df()` types: decimals as float64, dates
    and timestamps as datetime64[us], integers as int32/int64 (pandas' nullable Int32/Int64
    when the column holds a null, where Spark gives float64)."""
    from pyspark.sql import types as T

    integers = {T.ByteType: "8", T.ShortType: "16", T.IntegerType: "32", T.LongType: "64"}
    result = frame.toPandas()
    for field in frame.schema.fields:
        name = field.name
        bits = integers.get(type(field.dataType))
        if bits is not None:
            nullable = result[name].isna().any()
            result[name] = result[name].astype(f"Int{bits}" if nullable else f"int{bits}")
        elif isinstance(field.dataType, T.DecimalType):
            result[name] = result[name].astype("float64")
        elif isinstance(field.dataType, (T.DateType, T.TimestampType, T.TimestampNTZType)):
            result[name] = pd.to_datetime(result[name]).astype("datetime64[us]")
    return result


def row_count(frame) -> int:
    if is_spark(frame):
        return int(frame.count())
    return int(frame.aggregate("count(*)").fetchone()[0])


def distinct_count(frame, column: str) -> int:
    """How many distinct non-null values `column` holds, counted in the engine."""
    if is_spark(frame):
        from pyspark.sql import functions as F

        return int(frame.select(F.countDistinct(column)).first()[0])
    return int(frame.aggregate(f"count(distinct {column})").fetchone()[0])


def rows_at(frame, positions: np.ndarray, columns, order_by: str) -> pd.DataFrame:
    """The rows at `positions` (0-based, in `order_by` order) as pandas, in that order.

    DuckDB converts the whole projection and takes the rows in pandas, as the models always
    did. Spark numbers the rows in the engine and collects only the chosen ones: the driver
    receives len(positions) rows, however many the table holds."""
    if not is_spark(frame):
        return to_pandas(frame, columns, order_by).iloc[positions].reset_index(drop=True)
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    spark = frame.sparkSession
    wanted = spark.createDataFrame([(int(p),) for p in positions], "_position long")
    numbered = frame.select(*column_list(columns)).withColumn(
        "_position", F.row_number().over(Window.orderBy(*column_list(order_by))) - 1
    )
    chosen = numbered.join(F.broadcast(wanted), "_position").orderBy("_position")
    return spark_to_pandas(chosen.drop("_position"))
