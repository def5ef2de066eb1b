"""Benchmark of the clustering models at a customer count no generated file reaches.

The generator makes about 11 customers per 1,000 lines, so a million customers would take
about 90 million lines to build. This script skips the lines: it writes a synthetic
`int_customer_rfm` (every column of the real one, skewed like real RFM data), a monthly
`int_customer_rfm_history` and the `cluster_names` seed into a DuckDB file, then runs the
five clustering Python models' own `model(dbt, session)` functions in dbt's order against
it, each output written the way dbt-duckdb writes a Python model's DataFrame. Per model it
measures the time in `.df()` conversion, in the model's own work (fitting, scoring,
assigning) and in writing the result; the assignment of customers outside the fit sample
(the k-nearest-neighbours predict, linear in the customers by nature) is timed apart.

    python -m scripts.benchmark.bench_clustering --customers 1000000
    python -m scripts.benchmark.bench --clustering-customers 1000000 ...   (the same, into the page)

Everything a model may cost beyond the sample sizes shows up as seconds that grow with
`--customers`; run two sizes to see the growth.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import importlib.util
import json
import os
import re
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
# dbt's order: each model reads the ones before it.
MODELS = [
    "int_kmeans_k_selection",
    "int_cluster_model_comparison",
    "int_customer_clusters",
    "int_cluster_assignment_quality",
    "int_customer_cluster_history",
]
PHASES = ("df", "compute", "knn_predict", "write")


def project_vars() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]


def model_configs() -> dict[str, dict]:
    """Each clustering model's `config:` from its yml, with the vars filled in as dbt
    renders them (as text)."""
    import yaml

    variables = project_vars()

    def render(value):
        if isinstance(value, dict):
            return {key: render(item) for key, item in value.items()}
        if isinstance(value, str):
            match = re.fullmatch(r"\{\{\s*var\('(\w+)'\)\s*\}\}", value)
            if match:
                return str(variables[match.group(1)])
        return value

    configs = {}
    for path in glob.glob(str(ROOT / "models" / "**" / "*.yml"), recursive=True):
        for model in yaml.safe_load(Path(path).read_text()).get("models", []) or []:
            if model.get("name") in MODELS:
                configs[model["name"]] = render(model.get("config", {}))
    return configs


def synthetic_customers(n: int, seed: int) -> dict[str, np.ndarray]:
    """RFM shaped like the Online Retail customers: recency uniform-ish with a long tail,
    frequency and spend log-normal and correlated, a few percent of high returners."""
    rng = np.random.default_rng(seed)
    activity = rng.normal(0, 1, n)
    frequency = np.maximum(1, np.round(np.exp(1.0 + 0.9 * activity + rng.normal(0, 0.4, n))))
    monetary = np.round(frequency * np.exp(5.5 + 0.8 * rng.normal(0, 1, n)), 2)
    recency = np.minimum(373, np.round(rng.exponential(90, n) / np.sqrt(frequency))).astype(int)
    returned = np.round(monetary * np.where(rng.random(n) < 0.05, 0.3, 0.01) * rng.random(n), 2)
    return {
        "customer_id": np.char.zfill(rng.permutation(n).astype(str), 7),
        "recency_days": recency,
        "frequency": frequency.astype(int),
        "monetary": monetary,
        "returned": returned,
        "return_rate": returned / monetary,
    }


def write_inputs(database: str, customers: int, snapshots: int, seed: int) -> dict[str, int]:
    """The three input tables; returns their row counts."""
    import duckdb
    import pandas as pd

    data = synthetic_customers(customers, seed)
    frame = pd.DataFrame(data)
    with duckdb.connect(database) as con:
        con.register("synthetic", frame)
        con.execute(
            """
            create or replace table int_customer_rfm as
            select
                customer_id,
                'United Kingdom' as country,
                date '2011-12-10' as as_of_date,
                date '2011-12-10' - 365 as first_purchase_date,
                date '2011-12-10' - recency_days::integer as last_purchase_date,
                recency_days::bigint as recency_days,
                frequency::bigint as frequency,
                monetary::decimal(18, 2) as monetary,
                (monetary - returned)::decimal(18, 2) as net_monetary,
                (monetary / frequency)::decimal(18, 2) as average_order_value,
                365::bigint as tenure_days,
                (frequency * 3)::bigint as distinct_products,
                (frequency * 4)::bigint as purchase_lines,
                (returned > 0)::bigint as return_lines,
                (returned > 0)::bigint as matched_return_lines,
                returned::decimal(18, 2) as returned_amount,
                returned::decimal(18, 2) as matched_return_amount,
                return_rate,
                return_rate as return_line_rate,
                return_rate >= 0.2 as is_high_returner
            from synthetic
            """
        )
        # Monthly snapshots: a customer appears from a month spread over the year, with
        # fewer purchases and more recency the earlier the snapshot.
        con.execute(
            f"""
            create or replace table int_customer_rfm_history as
            with months as (
                select m, date '2011-12-10' - (30 * ({snapshots} - m))::integer as snapshot_date
                from range(1, {snapshots} + 1) as t(m)
            )
            select
                months.snapshot_date,
                r.customer_id,
                r.first_purchase_date,
                r.last_purchase_date,
                (r.recency_days + 30 * ({snapshots} - m))::bigint as recency_days,
                greatest(1, r.frequency * m // {snapshots})::bigint as frequency,
                (r.monetary * m / {snapshots})::decimal(18, 2) as monetary,
                (r.matched_return_amount * m / {snapshots})::decimal(18, 2)
                    as matched_return_amount,
                r.return_rate,
                3 as r_score, 3 as f_score, 3 as m_score, 3 as fm_score,
                '33' as rfm_cell, 'Need Attention' as rfm_segment,
                'bench' as computed_in_invocation_id
            from int_customer_rfm as r
            inner join months
                on hash(r.customer_id) % {snapshots} < m
            """
        )
        con.execute(
            "create or replace table cluster_names as select * from read_csv(?, header=true)",
            [str(ROOT / "seeds" / "cluster_names.csv")],
        )
        return {
            table: con.sql(f"select count(*) from {table}").fetchone()[0]
            for table in ("int_customer_rfm", "int_customer_rfm_history")
        }


class Timer:
    """Wall and CPU seconds (this process, every thread) per phase: on shared cores the
    CPU seconds are the steadier measure."""

    def __init__(self):
        self.seconds = dict.fromkeys(PHASES, 0.0)
        self.cpu = dict.fromkeys(PHASES, 0.0)

    @contextlib.contextmanager
    def phase(self, name):
        start, cpu_start = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - start
            self.cpu[name] += time.process_time() - cpu_start


class TimedRelation:
    """A DuckDB relation whose `.df()` is timed; everything else passes through."""

    def __init__(self, relation, timer: Timer):
        self._relation, self._timer = relation, timer

    def df(self):
        with self._timer.phase("df"):
            return self._relation.df()

    def __getattr__(self, name):
        attribute = getattr(self._relation, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            result = attribute(*args, **kwargs)
            return TimedRelation(result, self._timer) if hasattr(result, "df") else result

        return call


class FakeConfig:
    def __init__(self, values: dict):
        self._values = values

    def __call__(self, **_):
        return None

    def get(self, name, default=None):
        return self._values.get(name, default)


class FakeDbt:
    """What a dbt-duckdb Python model sees: ref() to a relation, config.get()."""

    def __init__(self, con, config: dict, timer: Timer):
        self._con, self._timer = con, timer
        self.config = FakeConfig(config)

    def ref(self, name):
        return TimedRelation(self._con.table(name), self._timer)


def load_model(name: str):
    [path] = glob.glob(str(ROOT / "models" / "**" / f"{name}.py"), recursive=True)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def timed_knn_predict(timer: Timer):
    """Times every KNeighborsClassifier.predict (the assignment outside the fit sample)."""
    from sklearn.neighbors import KNeighborsClassifier

    original = KNeighborsClassifier.predict

    def predict(self, X):
        with timer.phase("knn_predict"):
            return original(self, X)

    KNeighborsClassifier.predict = predict
    try:
        yield
    finally:
        KNeighborsClassifier.predict = original


def run_models(database: str) -> list[dict]:
    """Each model's phases in seconds, in dbt's order; compute excludes the KNN predict."""
    import duckdb

    configs = model_configs()
    rows = []
    with duckdb.connect(database) as con:
        for name in MODELS:
            module = load_model(name)
            timer = Timer()
            start, cpu_start = time.perf_counter(), time.process_time()
            with timed_knn_predict(timer):
                frame = module.model(FakeDbt(con, configs[name], timer), con)
            total, cpu_total = time.perf_counter() - start, time.process_time() - cpu_start
            with timer.phase("write"):
                # What dbt-duckdb's py_write_table does with the returned DataFrame.
                con.register("__bench_df", frame)
                con.execute(f"create or replace table {name} as select * from __bench_df")
                con.unregister("__bench_df")
            seconds, cpu = timer.seconds, timer.cpu
            seconds["compute"] = total - seconds["df"] - seconds["knn_predict"]
            cpu["compute"] = cpu_total - cpu["df"] - cpu["knn_predict"]
            rows.append(
                {
                    "model": name,
                    "rows": len(frame),
                    **{k: round(v, 3) for k, v in seconds.items()},
                    "cpu": {k: round(v, 3) for k, v in cpu.items()},
                }
            )
            print(f"[bench_clustering] {name}: {rows[-1]}", flush=True)
    return rows


def measure(customers: int, snapshots: int = 13, seed: int = 42) -> dict:
    """One run: the inputs written, then the models; the load average is recorded."""
    # The project's K-Means runs with one OpenMP/BLAS thread (var kmeans_threads).
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    with tempfile.TemporaryDirectory(prefix="bench_clustering_") as work:
        database = os.path.join(work, "clustering.duckdb")
        start = time.perf_counter()
        counts = write_inputs(database, customers, snapshots, seed)
        inputs_seconds = time.perf_counter() - start
        load = os.getloadavg()[0]
        models = run_models(database)
    return {
        "customers": customers,
        "history_rows": counts["int_customer_rfm_history"],
        "snapshots": snapshots,
        "inputs_seconds": round(inputs_seconds, 2),
        "load_average": round(load, 2),
        "models": models,
    }


def render(results: list[dict]) -> list[str]:
    """Markdown lines for docs/benchmarks.md: one table per customer count."""
    if not results:
        return []
    lines = [
        "## Clustering at scale",
        "",
        "`scripts/benchmark/bench_clustering.py` runs the five clustering Python models' own "
        "`model()` functions on a synthetic `int_customer_rfm` (every column of the real "
        "one) and a monthly `int_customer_rfm_history`, with the project's settings, each "
        "output written as dbt-duckdb writes a Python model's DataFrame. Seconds per phase: "
        "`.df()` conversion of the inputs, the model's own work (sampling, fitting, scoring; "
        "the k-nearest-neighbours predict apart) and the write. The fit and the scores run on "
        "the fit, silhouette and comparison samples whatever the customer count; what grows "
        "with the customers is the conversion, the predict and the write.",
        "",
    ]
    for command in sorted({r["command"] for r in results if r.get("command")}):
        lines += ["```sh", command, "```", ""]
    for result in results:
        lines += [
            f"**{result['customers']:,} customers, {result['history_rows']:,} history rows "
            f"({result['snapshots']} snapshots)**, load average {result['load_average']} "
            "when the models started:",
            "",
        ]
        if result["load_average"] > (os.cpu_count() or 1):
            lines += [
                "The load average was above the machine's cores: the wall seconds of the phases "
                "are stretched by the other work, the CPU seconds (last column, this process) "
                "are the steadier measure.",
                "",
            ]
        lines += [
            "| model | rows written | .df() s | fit and score s | KNN predict s | write s "
            "| total s | total CPU s |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        totals = dict.fromkeys(PHASES, 0.0)
        cpu_total = 0.0
        for row in result["models"]:
            total = sum(row[p] for p in PHASES)
            cpu = sum(row["cpu"].values())
            cpu_total += cpu
            for p in PHASES:
                totals[p] += row[p]
            lines.append(
                f"| `{row['model']}` | {row['rows']:,} | {row['df']:.2f} | {row['compute']:.2f} "
                f"| {row['knn_predict']:.2f} | {row['write']:.2f} | {total:.2f} | {cpu:.2f} |"
            )
        lines += [
            f"| all | | {totals['df']:.2f} | {totals['compute']:.2f} | "
            f"{totals['knn_predict']:.2f} | {totals['write']:.2f} | {sum(totals.values()):.2f} "
            f"| {cpu_total:.2f} |",
            "",
        ]
    return lines


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--snapshots", type=int, default=13)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json-out", help="write the measurements here as JSON")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    command = shlex.join(
        [".venv/bin/python", "-m", "scripts.benchmark.bench_clustering", *sys.argv[1:]]
    )
    results = [
        {**measure(n, args.snapshots, args.seed), "command": command} for n in args.customers
    ]
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=1))
    print("\n".join(render(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
