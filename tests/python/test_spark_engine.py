"""One truth, two engines (issue #22): the dirty fixture and the demo built on local Apache
Spark (target spark_python, the Spark environment of `make spark-venv`) give the marts the
DuckDB builds give (the suite's shared builds, conftest.py): the same cleaning, RFM, scores,
segments, lifetime values and campaign results, the same k, and clusters that agree.

The Spark builds run every seed and model and the data tests of the Python models' outputs
(every test passes on Spark too, README "Apache Spark", *Measured*; running all of them here
would double the test's time). The marts are then read from the Parquet files
scripts/devtools/spark_export.py writes.
"""

from __future__ import annotations

import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import DIRTY_VARS
from dbt_project_runner import ROOT, run_dbt
from sklearn.metrics import adjusted_rand_score

pytestmark = pytest.mark.spark

SPARK_PYTHON = (
    Path(os.environ.get("SEGMENTATION_SPARK_VENV", ROOT / ".venv-spark")) / "bin" / "python"
)
# What the Spark build runs besides every seed and model: the data tests of the Python
# models' tables and of the models that read them (42 tests). The marts further down are
# compared with DuckDB's row for row, which says more than their tests.
SPARK_TESTS = "resource_type:test,path:models/intermediate/**/*.py+1"

# The one difference the engines are allowed, and why (README "Apache Spark", *What is
# left*): average_order_value = cast(gross_monetary / frequency as decimal(18, 2)); Spark
# divides the decimals exactly and rounds half up (2186.575 -> 2186.58), DuckDB divides
# them as doubles (2186.57499... -> 2186.57). One cent, on the customers whose exact
# quotient ends in a half cent.
AVERAGE_ORDER_VALUE = ("customers", "average_order_value")
# The same rounding in the measures of spend per group (macro customer_group_measures):
# the median of an even count is halfway between two amounts, the average order value a
# quotient of decimals; when that ends in half a cent, Spark rounds it up and DuckDB down.
# Each (mart, column) with the key of the mart's groups.
GROUP_CENTS = {
    ("cluster_profiles", "median_monetary"): ["cluster_id"],
    ("cluster_profiles", "average_order_value"): ["cluster_id"],
    ("segment_summary", "median_monetary"): ["segment_type", "segment_name"],
    ("segment_summary", "average_order_value"): ["segment_type", "segment_name"],
}
KNOWN_CENTS = {AVERAGE_ORDER_VALUE[0]: {AVERAGE_ORDER_VALUE[1]}}
for mart, column in GROUP_CENTS:
    KNOWN_CENTS.setdefault(mart, set()).add(column)
# Floats agree to a relative 1e-6: SciPy's optimiser (the lifetime-value fits) stops within
# its tolerance, and the order of the rows it is handed is fixed on neither engine; on the
# demo every float agrees to 1e-9, on the dirty fixture's 9 customers the Gamma-Gamma
# parameters differ by about 1e-7.
RELATIVE_TOLERANCE = 1e-6
# Columns that name the build, not the data.
BUILD_COLUMNS = {"computed_in_invocation_id", "built_at", "invocation_id"}


def spark_build(directory: Path, vars: dict | None = None) -> tuple[Path, float]:
    """Every seed and model on Spark (and SPARK_TESTS), then the marts as Parquet in
    directory/marts. Returns that directory and the build's seconds."""
    if not SPARK_PYTHON.exists():
        raise AssertionError(
            f"no Spark environment at {SPARK_PYTHON.parent.parent}: run `make spark-venv java` "
            "(or set SEGMENTATION_SPARK_VENV)"
        )
    env = {
        "DBT_TARGET": "spark_python",
        "SEGMENTATION_SPARK_DIR": str(directory / "spark"),
        "SPARK_LOCAL_IP": "127.0.0.1",
        # Hundreds of customers: a small heap, as two builds run at once.
        "SEGMENTATION_SPARK_DRIVER_MEMORY": "1g",
        "PATH": f"{SPARK_PYTHON.parent}{os.pathsep}{os.environ['PATH']}",
    }
    started = time.monotonic()
    # One dbt command, so one Spark session: starting one costs more than most models.
    run_dbt(
        directory,
        "build",
        "--select",
        "resource_type:seed",
        "resource_type:model",
        SPARK_TESTS,
        "--indirect-selection",
        "empty",
        vars=vars,
        env=env,
        dbt=SPARK_PYTHON.with_name("dbt"),
    )
    seconds = time.monotonic() - started
    marts = directory / "marts"
    subprocess.run(
        [
            str(SPARK_PYTHON),
            "-m",
            "scripts.devtools.spark_export",
            "--out",
            str(marts),
            "--spark-dir",
            str(directory / "spark"),
            "--manifest",
            str(directory / "target" / "manifest.json"),
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    return marts, seconds


@pytest.fixture(scope="module")
def spark_marts(tmp_path_factory, request) -> dict[str, tuple]:
    """Both Spark builds at once, and meanwhile the suite's DuckDB builds they are compared
    with: most of a small Spark build is waiting (the session's start, job scheduling, the
    Python workers), so they overlap well on two cores. {name: (DuckDB warehouse, Spark
    marts directory)}."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        dirty = pool.submit(spark_build, tmp_path_factory.mktemp("spark-dirty"), DIRTY_VARS)
        demo = pool.submit(spark_build, tmp_path_factory.mktemp("spark-demo"))
        # Asked for here, not by the tests: pytest would build session fixtures first.
        duckdb_dirty = request.getfixturevalue("dirty_warehouse")
        duckdb_demo = request.getfixturevalue("demo_warehouse")
        return {
            "dirty": (duckdb_dirty, dirty.result()[0]),
            "demo": (duckdb_demo, demo.result()[0]),
        }


def duckdb_mart(warehouse, name: str) -> pd.DataFrame:
    return warehouse.frame(f"select * from {name}")


def spark_mart(marts: Path, name: str) -> pd.DataFrame:
    with duckdb.connect() as connection:
        return connection.sql(f"select * from read_parquet('{marts / name}/*.parquet')").df()


def normalised(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The columns in one order, one type per kind (floats, datetimes without zone, text),
    the rows sorted by every column (floats rounded for the sort only)."""
    frame = frame[columns].copy()
    for column in columns:
        values = frame[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            frame[column] = values.dt.tz_convert("UTC").dt.tz_localize(None)
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column].astype("datetime64[us]")
        elif pd.api.types.is_bool_dtype(values):
            frame[column] = values.astype(object).where(values.notna(), None)
        elif pd.api.types.is_numeric_dtype(values):
            frame[column] = values.astype("float64")
        else:
            frame[column] = (
                values.astype(object)
                .where(values.notna(), None)
                .map(lambda v: None if v is None else str(v))
            )
    keys = frame.copy()
    for column in columns:
        if pd.api.types.is_float_dtype(keys[column]):
            keys[column] = keys[column].round(6)
    order = keys.sort_values(columns, kind="stable", na_position="last").index
    return frame.loc[order].reset_index(drop=True)


def differences(duck: pd.DataFrame, spark: pd.DataFrame, skip: set[str] = frozenset()) -> list[str]:
    """What differs between the two tables: columns, row counts, then per column the rows
    whose values differ (floats within RELATIVE_TOLERANCE)."""
    if set(duck.columns) != set(spark.columns):
        return [f"columns differ: {sorted(set(duck.columns) ^ set(spark.columns))}"]
    if len(duck) != len(spark):
        return [f"{len(duck)} rows on DuckDB, {len(spark)} on Spark"]
    columns = [c for c in duck.columns if c not in BUILD_COLUMNS | set(skip)]
    duck, spark = normalised(duck, columns), normalised(spark, columns)
    found = []
    for column in columns:
        a, b = duck[column], spark[column]
        if pd.api.types.is_float_dtype(a):
            same = np.isclose(a, b, rtol=RELATIVE_TOLERANCE, atol=1e-9, equal_nan=True)
        else:
            same = (a == b) | (a.isna() & b.isna())
        if not np.all(same):
            bad = np.flatnonzero(~np.asarray(same))
            first = bad[0]
            found.append(
                f"{column}: {len(bad)} rows, e.g. {a.iloc[first]!r} (DuckDB) "
                f"vs {b.iloc[first]!r} (Spark)"
            )
    return found


def mart_names(warehouse) -> list[str]:
    nodes = warehouse.manifest()["nodes"].values()
    return sorted(
        node["alias"]
        for node in nodes
        if node["resource_type"] == "model"
        and node["original_file_path"].startswith("models/marts/")
    )


def compare_every_mart(warehouse, marts: Path) -> dict[str, list[str]]:
    found = {}
    for name in mart_names(warehouse):
        skip = KNOWN_CENTS.get(name, set())
        problems = differences(duckdb_mart(warehouse, name), spark_mart(marts, name), skip)
        if problems:
            found[name] = problems
    return found


def assert_average_order_value_within_the_known_cent(warehouse, marts: Path) -> int:
    """The known difference, and only it: the two values differ by exactly one cent, on
    customers whose exact gross_monetary / frequency ends in half a cent, Spark's being
    that quotient rounded half up. Returns how many customers differ."""
    # monetary is the gross_monetary the average is computed from.
    key = ["customer_id", "average_order_value", "monetary", "frequency"]
    duck = duckdb_mart(warehouse, "customers")[key]
    spark = spark_mart(marts, "customers")[key]
    both = duck.merge(spark, on="customer_id", suffixes=("_duckdb", "_spark"))
    assert len(both) == len(duck) == len(spark)
    gap = (both["average_order_value_spark"] - both["average_order_value_duckdb"]).round(2)
    differ = both[gap != 0]
    assert (gap[gap != 0] == 0.01).all(), differ
    cents = (differ["monetary_spark"] * 100).round() / differ["frequency_spark"]
    assert np.allclose(cents - np.floor(cents), 0.5), differ
    assert np.allclose(differ["average_order_value_spark"], (np.floor(cents) + 1) / 100), differ
    return len(differ)


def assert_group_measures_within_a_cent(warehouse, marts: Path) -> int:
    """GROUP_CENTS differ by nothing or by the half cent Spark rounds up; returns how many
    values differ."""
    differing = 0
    for (mart, column), key in GROUP_CENTS.items():
        duck = duckdb_mart(warehouse, mart)[[*key, column]]
        spark = spark_mart(marts, mart)[[*key, column]]
        both = duck.merge(spark, on=key, suffixes=("_duckdb", "_spark"))
        assert len(both) == len(duck) == len(spark), mart
        gap = (both[f"{column}_spark"] - both[f"{column}_duckdb"]).round(2)
        assert gap.isin([0.0, 0.01]).all(), both[gap != 0]
        differing += int((gap != 0).sum())
    return differing


def assert_clusters_agree(warehouse, marts: Path) -> float:
    duck = duckdb_mart(warehouse, "customers")[["customer_id", "cluster_id"]]
    spark = spark_mart(marts, "customers")[["customer_id", "cluster_id"]]
    both = duck.merge(spark, on="customer_id", suffixes=("_duckdb", "_spark"))
    assert len(both) == len(duck)
    chosen = "select k from cluster_k_selection where is_chosen"
    assert (
        warehouse.value(chosen)
        == spark_mart(marts, "cluster_k_selection").query("is_chosen")["k"].item()
    )
    ari = adjusted_rand_score(both["cluster_id_duckdb"], both["cluster_id_spark"])
    assert ari >= 0.95
    return ari


def test_dirty_fixture_gives_the_same_marts_on_spark(spark_marts):
    warehouse, marts = spark_marts["dirty"]
    assert compare_every_mart(warehouse, marts) == {}
    assert_average_order_value_within_the_known_cent(warehouse, marts)
    assert_group_measures_within_a_cent(warehouse, marts)


def test_demo_gives_the_same_marts_on_spark(spark_marts):
    warehouse, marts = spark_marts["demo"]
    assert compare_every_mart(warehouse, marts) == {}
    assert assert_average_order_value_within_the_known_cent(warehouse, marts) == 7
    assert assert_group_measures_within_a_cent(warehouse, marts) == 6
    assert_clusters_agree(warehouse, marts)
