"""Benchmark column for Apache Spark: the same full build on local Spark (issue #22).

At each size it is given, `bench.py --spark-sizes N` runs, right after the DuckDB build of
the same file, `dbt build` on the target spark_python (local mode, every core, the Spark
environment of `make spark-venv`): every seed, model, data test and unit test, as the
DuckDB build runs them. The Spark build reuses one target directory for its partial parse
(an untimed `dbt parse` first, as for DuckDB) and gets a new catalog each time. Its
customers are then counted from the exported `customers` mart (untimed) and must equal
the DuckDB build's.

    python -m scripts.benchmark.bench --sizes 100000 --formats parquet --spark-sizes 100000

Run alone, it compares the JVM options of the local session (profiles.yml,
SEGMENTATION_SPARK_JAVA_OPTIONS) on one input, interleaved: each round builds once with
each set of options, in a new catalog, and prints the wall time and the machine's busy CPU
time (from /proc/stat: the JVM is not a child dbt waits for, so its CPU is not in dbt's
own accounting). `--select` narrows the build as dbt's does; `default` names the
profile's options and `""` the JVM's own defaults:

    .venv/bin/python -m scripts.benchmark.bench_spark \
        --data data/demo/online_retail_demo.csv.gz --rounds 2 --java-options "" default

What the numbers mean: on one machine a local session runs every query as Spark jobs on
the driver, so the column shows the fixed cost Spark adds (the session's start, job
scheduling, the Hive catalog), not what a cluster would do with more lines; README
"Apache Spark" says how the work splits across executors.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from scripts.benchmark import bench

SPARK_VENV = Path(os.environ.get("SEGMENTATION_SPARK_VENV", bench.ROOT / ".venv-spark"))
SPARK_PYTHON = SPARK_VENV / "bin" / "python"


def spark_env(spark_dir: Path, data_path: Path) -> dict[str, str]:
    env = bench.dbt_env(spark_dir, data_path)
    env.update(
        {
            "DBT_TARGET": "spark_python",
            "SEGMENTATION_SPARK_DIR": str(spark_dir),
            "SPARK_LOCAL_IP": env.get("SPARK_LOCAL_IP", "127.0.0.1"),
            "PATH": f"{SPARK_PYTHON.parent}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    return env


def drop_catalog(spark_dir: Path) -> None:
    """Drops a build's tables, metastore and exported marts (gigabytes at scale); its
    logs and run_results.json stay."""
    for name in ("warehouse", "metastore_db", "marts"):
        shutil.rmtree(spark_dir / name, ignore_errors=True)


def exported_customers(spark_dir: Path, target: Path, log_dir: Path) -> int:
    """Rows of the Spark build's `customers` mart, exported to Parquet by
    scripts/devtools/spark_export.py (a Spark session of its own, untimed)."""
    out = spark_dir / "marts"
    command = [str(SPARK_PYTHON), "-m", "scripts.devtools.spark_export", "customers"]
    command += ["--out", str(out), "--spark-dir", str(spark_dir)]
    command += ["--manifest", str(target / "manifest.json")]
    with open(log_dir / "export.txt", "wb") as log:
        subprocess.run(
            command,
            cwd=bench.ROOT,
            env=spark_env(spark_dir, Path(os.devnull)),
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
        )
    with duckdb.connect() as connection:
        return connection.sql(
            f"select count(*) from read_parquet('{out / 'customers'}/*.parquet')"
        ).fetchone()[0]


def measure(data_path: Path, run_dir: Path, build_dir: Path, duckdb_result) -> dict:
    """The Spark build of one file, next to the DuckDB build that just ran on it."""
    if not SPARK_PYTHON.exists():
        raise RuntimeError(
            f"no Spark environment at {SPARK_VENV}: run `make spark-venv java` "
            "(or set SEGMENTATION_SPARK_VENV)"
        )
    spark_dir = run_dir / "spark"
    if spark_dir.exists():
        shutil.rmtree(spark_dir)
    spark_dir.mkdir(parents=True)
    target = build_dir / "spark-target"
    dbt = str(SPARK_PYTHON.with_name("dbt"))
    env = spark_env(spark_dir, data_path)
    if not (target / "partial_parse.msgpack").exists():
        subprocess.run(
            [dbt, "parse", "--target-path", str(target), "--log-path", str(spark_dir / "logs")],
            env=env,
            cwd=bench.ROOT,
            capture_output=True,
            check=True,
        )
    load = round(os.getloadavg()[0], 2)
    command = [dbt, "build", "--target-path", str(target)]
    command += ["--log-path", str(spark_dir / "logs")]
    measurement = bench.measure(command, env=env, cwd=bench.ROOT, log_dir=spark_dir)
    row = {
        "lines": duckdb_result.lines or duckdb_result.lines_requested,
        "fmt": duckdb_result.fmt,
        "load_average": load,
        "status": "ok" if measurement.returncode == 0 else "failed",
        "wall_seconds": round(measurement.wall_seconds, 2),
        "peak_bytes": measurement.peak_rss_bytes,
        "duckdb_wall_seconds": duckdb_result.build_wall_seconds,
        "duckdb_customers": duckdb_result.customers,
        "customers": None,
    }
    results = target / "run_results.json"
    if results.exists():
        run_results = json.loads(results.read_text())
        row["dbt_elapsed_seconds"] = round(run_results.get("elapsed_time", 0.0), 2)
        row["nodes"] = len(run_results.get("results", []))
        shutil.copy(results, spark_dir / "run_results.json")
    if row["status"] == "ok":
        row["customers"] = exported_customers(spark_dir, target, spark_dir)
    else:
        row["stderr_tail"] = measurement.stderr_tail
    drop_catalog(spark_dir)
    return row


def summary(row: dict) -> str:
    ratio = (
        f"{row['wall_seconds'] / row['duckdb_wall_seconds']:.1f}x DuckDB's"
        if row["status"] == "ok" and row.get("duckdb_wall_seconds")
        else row["status"]
    )
    return (
        f"Spark build {row['status']} in {row['wall_seconds']} s ({ratio}), "
        f"{row['customers']} customers (DuckDB {row['duckdb_customers']})"
    )


def render(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    lines = [
        "## Apache Spark (local mode)",
        "",
        "The same full `dbt build` (every seed, model, data test and unit test) on the target "
        "`spark_python`: a local Spark session on this machine's cores "
        "(`scripts/benchmark/bench_spark.py`, run right after the DuckDB build of the same "
        "file). In local mode one JVM runs every Spark job on the driver, so this is Spark's "
        "fixed cost on a small machine (the session's start, a few jobs per model, the Hive "
        'catalog), not what a cluster does with more lines (README "Apache Spark": how the '
        "work splits across executors). The customers come from the Spark build's "
        "`customers` mart and must equal DuckDB's. The peak is the resident memory of the "
        "process tree, as for DuckDB: the JVM (its heap may grow to `spark.driver.memory`, "
        "4g by default in `profiles.yml`) and dbt.",
        "",
        "| lines | format | nodes | DuckDB build wall s | Spark build wall s | Spark/DuckDB "
        "| Spark peak GiB | customers (Spark, DuckDB) | load at start |",
        "|" + " --- |" * 9,
    ]
    for row in sorted(rows, key=lambda r: r["lines"]):
        ratio = (
            bench.fmt_number(row["wall_seconds"] / row["duckdb_wall_seconds"])
            if row["status"] == "ok" and row.get("duckdb_wall_seconds")
            else row["status"]
        )
        customers = ", ".join(
            "–" if value is None else f"{value:,}"
            for value in (row["customers"], row["duckdb_customers"])
        )
        lines.append(
            f"| {row['lines']:,} | {row['fmt']} | {row.get('nodes', '–')} "
            f"| {bench.fmt_number(row['duckdb_wall_seconds'])} "
            f"| {bench.fmt_number(row['wall_seconds'])} | {ratio} "
            f"| {bench.fmt_gib(row['peak_bytes'])} | {customers} | {row['load_average']:.2f} |"
        )
    lines.append("")
    return lines


def busy_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy since boot (user, nice, system, irq)."""
    with open("/proc/stat") as handle:
        fields = [int(value) for value in handle.readline().split()[1:8]]
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def compare_java_options(
    data_path: Path, work: Path, options: list[str], rounds: int, select: list[str]
) -> list[dict]:
    """Interleaved Spark builds of one input, one per set of JVM options in each round."""
    rows = []
    for round_number in range(1, rounds + 1):
        for option in options:
            spark_dir = work / f"round{round_number}-{len(rows)}"
            shutil.rmtree(spark_dir, ignore_errors=True)
            spark_dir.mkdir(parents=True)
            env = spark_env(spark_dir, data_path)
            if option != "default":
                env["SEGMENTATION_SPARK_JAVA_OPTIONS"] = option
            command = [str(SPARK_PYTHON.with_name("dbt")), "build", "--target-path"]
            command += [str(work / "target"), "--log-path", str(spark_dir / "logs")]
            command += ["--select", *select, "--indirect-selection", "empty"] if select else []
            cpu, started = busy_cpu_seconds(), time.perf_counter()
            completed = subprocess.run(command, cwd=bench.ROOT, env=env, capture_output=True)
            rows.append(
                {
                    "round": round_number,
                    "java_options": option,
                    "status": "ok" if completed.returncode == 0 else "failed",
                    "wall_seconds": round(time.perf_counter() - started, 1),
                    "busy_cpu_seconds": round(busy_cpu_seconds() - cpu, 1),
                    "load_average": round(os.getloadavg()[0], 2),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
            drop_catalog(spark_dir)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Spark builds of one input, by JVM options")
    parser.add_argument("--data", required=True, help="the raw export: a file, a directory")
    parser.add_argument("--java-options", nargs="+", default=["", "default"])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--select", nargs="*", default=[], help="as dbt's --select")
    parser.add_argument("--work-dir", default="bench-data/spark-jvm")
    args = parser.parse_args(argv)
    rows = compare_java_options(
        Path(args.data).resolve(),
        Path(args.work_dir).resolve(),
        args.java_options,
        args.rounds,
        args.select,
    )
    return 0 if all(row["status"] == "ok" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
