"""Benchmark of the clustering models at a customer count no generated file reaches.

The generator makes about 11 customers per 1,000 lines, so a million customers would take
about 90 million lines to build. This script skips the lines. From dbt's manifest it takes
the Python models of models/intermediate/clustering in dependency order, the tables they
read that they do not make themselves (their `depends_on`), each input's documented columns
and each model's rendered `config`; it writes synthetic inputs under those names into a
DuckDB file (a table per customer, skewed like real RFM data, with every documented column;
a monthly history of it for an input with a `snapshot_date`; seeds from their CSV), then runs
the models' own `model(dbt, session)` functions in that order against it, each output
written the way dbt-duckdb writes a Python model's DataFrame. Per model it measures the time
in `.df()` conversion, in the model's own work (fitting, scoring, assigning) and in writing
the result; the assignment of customers outside the fit sample (the k-nearest-neighbours
predict, linear in the customers by nature) is timed apart. The page labels each model by
the mart it feeds (pages outside dbt name marts only).

    python -m scripts.benchmark.bench_clustering --customers 1000000   (runs `dbt parse` first)
    python -m scripts.benchmark.bench_clustering --manifest target/manifest.json
    python -m scripts.benchmark.bench --clustering-customers 1000000 ...   (the same, into the page)

Everything a model may cost beyond the sample sizes shows up as seconds that grow with
`--customers`; run two sizes to see the growth.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from scripts import marts

ROOT = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).with_name("dbt")
# The models measured: the Python models of this folder under models/.
CLUSTERING_FOLDER = ("intermediate", "clustering")
PHASES = ("df", "compute", "knn_predict", "write")
# An input with this column is a history: one row per customer and snapshot.
SNAPSHOT_COLUMN = "snapshot_date"


def project_manifest(target_dir: Path) -> dict:
    """`dbt parse` of the project into target_dir (partial parsing reuses what is there)."""
    target_dir.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("DBT_")}
    env.update(
        {
            "DBT_PROFILES_DIR": str(ROOT),
            "DO_NOT_TRACK": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "SEGMENTATION_DUCKDB_PATH": str(target_dir / "parse.duckdb"),
        }
    )
    command = [str(DBT), "parse", "--quiet", "--target-path", str(target_dir)]
    command += ["--log-path", str(target_dir / "logs")]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise marts.ManifestError(f"`dbt parse` failed:\n{result.stdout[-3000:]}{result.stderr}")
    return marts.load_manifest(target_dir / "manifest.json")


def clustering_models(manifest: dict) -> list[dict]:
    """The Python models of models/intermediate/clustering, each after the models of the set
    it reads (dbt's order; ties by name, so runs agree)."""
    nodes = {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
        and node.get("language") == "python"
        and tuple(node["fqn"][1:-1]) == CLUSTERING_FOLDER
    }
    if not nodes:
        raise marts.ManifestError(
            f"the manifest has no Python model in models/{'/'.join(CLUSTERING_FOLDER)}"
        )
    ordered: list[str] = []
    while len(ordered) < len(nodes):
        ready = sorted(
            unique_id
            for unique_id, node in nodes.items()
            if unique_id not in ordered
            and all(d in ordered or d not in nodes for d in node["depends_on"]["nodes"])
        )
        if not ready:
            raise marts.ManifestError("the clustering models depend on each other in a cycle")
        ordered.append(ready[0])
    return [nodes[unique_id] for unique_id in ordered]


def model_inputs(manifest: dict, models: list[dict]) -> list[dict]:
    """The nodes the models read that none of them makes."""
    made = {node["unique_id"] for node in models}
    wanted = {d for node in models for d in node["depends_on"]["nodes"]} - made
    return [manifest["nodes"][unique_id] for unique_id in sorted(wanted)]


def marts_fed(manifest: dict, unique_id: str) -> list[str]:
    """The marts a model feeds: its children that are marts, else the nearest ones
    downstream (breadth first). The page names a model by them."""
    mart_ids = {node["unique_id"]: name for name, node in marts.mart_nodes(manifest).items()}
    level, seen = [unique_id], {unique_id}
    while level:
        children = [
            child
            for parent in level
            for child in manifest["child_map"].get(parent, [])
            if child not in seen and child.startswith("model.")
        ]
        found = sorted({mart_ids[child] for child in children if child in mart_ids})
        if found:
            return found
        seen.update(children)
        level = children
    return []


def label(results: list[dict], manifest: dict) -> list[dict]:
    """Each measured model's step (its place in dbt's order), the marts it feeds and its
    `meta.cost`, from the manifest, by the model's name (older runs' results carry the name
    only)."""
    ids = {node["name"]: unique_id for unique_id, node in manifest["nodes"].items()}
    notes = marts.model_notes(manifest)
    for result in results:
        for step, row in enumerate(result["models"], start=1):
            row["step"] = step
            row["feeds"] = marts_fed(manifest, ids[row["model"]]) if row["model"] in ids else []
            if row["model"] in notes:
                row["cost"] = notes[row["model"]]
    return results


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


# How each documented column of a customer-grain input is made, from the synthetic
# customers (the frame of synthetic_customers). An input column missing here stops the run:
# the models would read a column the benchmark does not make.
CUSTOMER_COLUMNS = {
    "customer_id": "customer_id",
    "country": "'United Kingdom'",
    "as_of_date": "date '2011-12-10'",
    "first_purchase_date": "date '2011-12-10' - 365",
    "last_purchase_date": "date '2011-12-10' - recency_days::integer",
    "recency_days": "recency_days::bigint",
    "frequency": "frequency::bigint",
    "monetary": "monetary::decimal(18, 2)",
    "net_monetary": "(monetary - returned)::decimal(18, 2)",
    "average_order_value": "(monetary / frequency)::decimal(18, 2)",
    "tenure_days": "365::bigint",
    "distinct_products": "(frequency * 3)::bigint",
    "purchase_lines": "(frequency * 4)::bigint",
    "return_lines": "(returned > 0)::bigint",
    "matched_return_lines": "(returned > 0)::bigint",
    "returned_amount": "returned::decimal(18, 2)",
    "matched_return_amount": "returned::decimal(18, 2)",
    "return_rate": "return_rate",
    "return_line_rate": "return_rate",
    "is_high_returner": "return_rate >= 0.2",
}
# A history input's columns, from the customers above (r) and the snapshot (months): a
# customer appears from a month spread over the year, with fewer purchases and more
# recency the earlier the snapshot. {n} is the number of snapshots.
SNAPSHOT_COLUMNS = {
    "snapshot_date": "months.snapshot_date",
    "customer_id": "r.customer_id",
    "first_purchase_date": "r.first_purchase_date",
    "last_purchase_date": "r.last_purchase_date",
    "recency_days": "(r.recency_days + 30 * ({n} - m))::bigint",
    "frequency": "greatest(1, r.frequency * m // {n})::bigint",
    "monetary": "(r.monetary * m / {n})::decimal(18, 2)",
    "matched_return_amount": "(r.matched_return_amount * m / {n})::decimal(18, 2)",
    "return_rate": "r.return_rate",
    "r_score": "3",
    "f_score": "3",
    "m_score": "3",
    "fm_score": "3",
    "rfm_cell": "'33'",
    "rfm_segment": "'Need Attention'",
    "computed_in_invocation_id": "'bench'",
}


def grain(node: dict) -> str:
    if node["resource_type"] == "seed":
        return "seed"
    return "snapshot" if SNAPSHOT_COLUMN in node["columns"] else "customer"


def input_sql(node: dict, snapshots: int) -> str:
    """The select that makes one synthetic input: its documented columns, in order."""
    kind = grain(node)
    rules, rules_name = (
        (SNAPSHOT_COLUMNS, "SNAPSHOT_COLUMNS")
        if kind == "snapshot"
        else (CUSTOMER_COLUMNS, "CUSTOMER_COLUMNS")
    )
    columns = list(node["columns"])
    missing = [column for column in columns if column not in rules]
    if node["resource_type"] != "model" or not columns or missing:
        raise ValueError(
            f"the clustering models read {node['resource_type']} {node['name']} "
            f"({node['original_file_path']}), whose documented columns "
            f"{missing or columns} the benchmark cannot make: add them to {rules_name} in "
            "scripts/benchmark/bench_clustering.py"
        )
    if kind == "customer":
        # __bench_customers holds every customer column already (write_inputs).
        return f"select {', '.join(columns)} from __bench_customers"
    select = ",\n    ".join(
        f"{rules[column].format(n=snapshots)} as {column}" for column in columns
    )
    return (
        f"with months as (\n    select m, date '2011-12-10' - (30 * ({snapshots} - m))::integer"
        f" as snapshot_date\n    from range(1, {snapshots} + 1) as t(m)\n)\n"
        f"select\n    {select}\nfrom __bench_customers as r\n"
        f"inner join months on hash(r.customer_id) % {snapshots} < m"
    )


def write_inputs(
    database: str, inputs: list[dict], customers: int, snapshots: int, seed: int
) -> dict[str, dict]:
    """Every input under the name the models ref(); returns each one's grain and rows."""
    import duckdb
    import pandas as pd

    frame = pd.DataFrame(synthetic_customers(customers, seed))
    counts = {}
    with duckdb.connect(database) as con:
        con.register("synthetic", frame)
        every_column = ", ".join(f"{sql} as {name}" for name, sql in CUSTOMER_COLUMNS.items())
        con.execute(f"create temp table __bench_customers as select {every_column} from synthetic")
        for node in inputs:
            name = node["name"]
            if grain(node) == "seed":
                con.execute(
                    f'create or replace table "{name}" as select * from read_csv(?, header=true)',
                    [str(ROOT / node["original_file_path"])],
                )
            else:
                con.execute(f'create or replace table "{name}" as {input_sql(node, snapshots)}')
            rows = con.sql(f'select count(*) from "{name}"').fetchone()[0]
            counts[name] = {"grain": grain(node), "rows": rows}
    return counts


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
        # What customer_segmentation.engine asks to tell the engine of a wrapped relation.
        self.__wrapped__ = relation

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


def load_model(node: dict):
    path = ROOT / node["original_file_path"]
    spec = importlib.util.spec_from_file_location(node["name"], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def timed_knn_predict(timer: Timer):
    """Times every nearest-neighbour prediction (the assignment outside the fit sample)."""
    from customer_segmentation.clustering.assignment import NearestNeighbourClassifier

    original = NearestNeighbourClassifier.predict

    def predict(self, X):
        with timer.phase("knn_predict"):
            return original(self, X)

    NearestNeighbourClassifier.predict = predict
    try:
        yield
    finally:
        NearestNeighbourClassifier.predict = original


def run_models(database: str, models: list[dict]) -> list[dict]:
    """Each model's phases in seconds, in dbt's order; compute excludes the KNN predict.
    A model's `dbt.config.get` sees its config as dbt renders it (the manifest's)."""
    import duckdb

    rows = []
    with duckdb.connect(database) as con:
        for node in models:
            name = node["name"]
            module = load_model(node)
            timer = Timer()
            start, cpu_start = time.perf_counter(), time.process_time()
            with timed_knn_predict(timer):
                frame = module.model(FakeDbt(con, node["config"], timer), con)
            total, cpu_total = time.perf_counter() - start, time.process_time() - cpu_start
            with timer.phase("write"):
                # What dbt-duckdb's py_write_table does with the returned DataFrame.
                con.register("__bench_df", frame)
                con.execute(f'create or replace table "{name}" as select * from __bench_df')
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


def measure(customers: int, manifest: dict, snapshots: int = 13, seed: int = 42) -> dict:
    """One run: the inputs written, then the models; the load average is recorded."""
    # The project's K-Means runs with one OpenMP/BLAS thread (var kmeans_threads).
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    models = clustering_models(manifest)
    with tempfile.TemporaryDirectory(prefix="bench_clustering_") as work:
        database = os.path.join(work, "clustering.duckdb")
        start = time.perf_counter()
        counts = write_inputs(database, model_inputs(manifest, models), customers, snapshots, seed)
        inputs_seconds = time.perf_counter() - start
        load = os.getloadavg()[0]
        rows = run_models(database, models)
    [result] = label(
        [
            {
                "customers": customers,
                "history_rows": sum(c["rows"] for c in counts.values() if c["grain"] == "snapshot"),
                "snapshots": snapshots,
                "inputs": counts,
                "inputs_seconds": round(inputs_seconds, 2),
                "load_average": round(load, 2),
                "models": rows,
            }
        ],
        manifest,
    )
    return result


def feeds_text(row: dict) -> str:
    """The marts a model feeds; an older run's row without them (rendered without
    --manifest) shows a dash."""
    if "feeds" not in row:
        return "–"
    return ", ".join(f"`{name}`" for name in row["feeds"]) or "no mart"


def render(results: list[dict]) -> list[str]:
    """Markdown lines for docs/benchmarks.md: one table per customer count. A model is shown
    by its step in dbt's order and the marts it feeds (label), never by its name."""
    if not results:
        return []
    count = len(results[0]["models"])
    lines = [
        "## Clustering at scale",
        "",
        f"`scripts/benchmark/bench_clustering.py` runs the {count} Python models of "
        "`models/intermediate/clustering` (found in dbt's manifest, in dbt's order; each shown "
        "by its step and the marts it feeds) with their own `model()` functions, on synthetic "
        "inputs made from dbt's manifest: a table of customers' RFM with every documented "
        "column of the one the models read, a monthly history of it, and the seeds, with the "
        "project's settings (each model's config as dbt renders it). Each output is written as "
        "dbt-duckdb writes a Python model's DataFrame. Seconds per phase: `.df()` conversion of "
        "the inputs, the model's own work (sampling, fitting, scoring; the k-nearest-neighbours "
        "predict apart) and the write. The fit and the scores run on the fit, silhouette and "
        "comparison samples whatever the customer count; what grows with the customers is the "
        "conversion, the predict and the write.",
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
            "| step | feeds the mart | rows written | .df() s | fit and score s | KNN predict s "
            "| write s | total s | total CPU s |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        totals = dict.fromkeys(PHASES, 0.0)
        cpu_total = 0.0
        for step, row in enumerate(result["models"], start=1):
            total = sum(row[p] for p in PHASES)
            cpu = sum(row["cpu"].values())
            cpu_total += cpu
            for p in PHASES:
                totals[p] += row[p]
            lines.append(
                f"| {step} | {feeds_text(row)} | {row['rows']:,} | {row['df']:.2f} "
                f"| {row['compute']:.2f} | {row['knn_predict']:.2f} | {row['write']:.2f} "
                f"| {total:.2f} | {cpu:.2f} |"
            )
        lines += [
            f"| all | | | {totals['df']:.2f} | {totals['compute']:.2f} | "
            f"{totals['knn_predict']:.2f} | {totals['write']:.2f} | {sum(totals.values()):.2f} "
            f"| {cpu_total:.2f} |",
            "",
        ]
    notes = [row for row in results[-1]["models"] if row.get("cost")]
    if notes:
        lines += ["Why each step costs what it does (the model's `meta.cost`):", ""]
        lines += [f"- step {row['step']} ({feeds_text(row)}): {row['cost']}." for row in notes]
        lines.append("")
    return lines


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--snapshots", type=int, default=13)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--manifest",
        help="dbt's manifest.json to read the models from (default: `dbt parse` into a "
        "temporary directory)",
    )
    parser.add_argument("--json-out", help="write the measurements here as JSON")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    command = shlex.join(
        [".venv/bin/python", "-m", "scripts.benchmark.bench_clustering", *sys.argv[1:]]
    )
    with tempfile.TemporaryDirectory(prefix="bench_clustering_parse_") as parse_dir:
        manifest = (
            marts.load_manifest(Path(args.manifest))
            if args.manifest
            else project_manifest(Path(parse_dir))
        )
    results = [
        {**measure(n, manifest, args.snapshots, args.seed), "command": command}
        for n in args.customers
    ]
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=1))
    print("\n".join(render(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
