"""Smoke test of the benchmark script at its smallest size (the real run is `make bench`).

One run of `python -m scripts.benchmark.bench` on 50,000 Parquet lines, dbt build and notebook
baseline included, into a temporary directory; the page and results.json it writes are
checked for rows, positive numbers and agreement between the two pipelines, and the page for
its grouping: every model folder of models/ reported, every mart named, no intermediate model
named (nothing outside models/ names one). The clustering part's models are found in dbt's
manifest; the checks here count them from the files of models/intermediate/clustering.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from dbt_project_runner import ROOT

from scripts import marts

LINES = 50_000
# The clustering benchmark's smoke size: the real one is a million customers.
CLUSTERING_CUSTOMERS = 1_000
# The baseline cleans the way notebooks do: it drops lines without a customer,
# duplicates, cancellations and non-positive quantities or prices, but keeps the lines
# the project quarantines besides (postage and fee codes, outliers, bad-debt invoices,
# a missing date). A customer whose only purchases are such lines counts for the
# baseline and not for the project, so the baseline may count a few more customers
# (never fewer: the project's clean lines are a subset of the baseline's); 2% bounds
# that difference (about 0.02% at 1M lines).
CUSTOMER_TOLERANCE = 0.02


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("bench")
    out = directory / "bench.md"
    command = [sys.executable, "-m", "scripts.benchmark.bench", "--sizes", str(LINES)]
    command += ["--formats", "parquet", "--out", str(out), "--data-dir", str(directory)]
    command += ["--clustering-customers", str(CLUSTERING_CUSTOMERS)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    saved = json.loads((directory / "results.json").read_text())
    return out.read_text(), saved["results"], directory, saved["clustering"]


@pytest.fixture(scope="module")
def build_manifest(bench_run):
    _, _, directory, _ = bench_run
    return marts.load_manifest(directory / "build" / "target" / "manifest.json")


def model_files(folder: str = "") -> list:
    return sorted(
        path for pattern in ("*.sql", "*.py") for path in (ROOT / "models" / folder).rglob(pattern)
    )


def table_rows(section: str) -> dict[str, list[str]]:
    """The rows of the first Markdown table in section: first cell (backticks dropped) to
    the other cells."""
    rows, started = {}, False
    for line in section.splitlines():
        if line.startswith("| "):
            started = True
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if cells[0] and not set(cells[1]) <= set("- "):
                rows[cells[0].strip("`")] = cells[1:]
        elif started:
            break
    return rows


def test_the_page_has_the_machine_versions_command_and_tables(bench_run):
    page, *_ = bench_run
    for heading in ("## Machine", "## Reproduce", "## Summary", "## Targets", "### parquet"):
        assert heading in page
    assert re.search(r"\d+ cores", page) and "Load average" in page
    assert "dbt-core" in page and "duckdb" in page and "scikit-learn" in page
    assert f"scripts.benchmark.bench --sizes {LINES} --formats parquet" in page
    # Which domain dominates depends on the size and the machine; the page must name one,
    # a folder of models/.
    (domain,) = re.findall(r"`([\w/]+)` dominates", page)
    assert (ROOT / "models" / domain).is_dir()


def test_the_summary_row_has_positive_numbers_and_ratios(bench_run):
    page, *_ = bench_run
    summary = page.split("## Summary", 1)[1].split("## Targets", 1)[0]
    rows = [
        line for line in summary.splitlines() if line.startswith("| ") and "| parquet |" in line
    ]
    assert len(rows) == 1
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    numbers = [
        float(c.rstrip("x").replace(",", "")) for c in cells if re.fullmatch(r"[\d.,]+x?", c)
    ]
    # lines, MB, generate s, 2 customer counts, build wall, CPU, peak, baseline wall and peak,
    # 2 ratios, load (which may be 0 on an idle machine, so it is left out here).
    assert len(numbers) >= 13
    assert all(n > 0 for n in numbers[:-1])


def test_the_baseline_ran_and_both_pipelines_agree_on_the_customers(bench_run):
    _, results, *_ = bench_run
    (run,) = results
    assert run["build_status"] == "ok" and run["baseline_status"] == "ok"
    # The generator hits the requested size within about 15% (by whole customers).
    assert run["lines"] > 0.8 * LINES and run["customers"] > 0
    assert run["build_wall_seconds"] > 0 and run["build_peak_bytes"] > 0
    assert run["baseline_wall_seconds"] > 0 and run["baseline_peak_bytes"] > 0
    assert run["model_seconds"]["stg_shop__transactions"] > 0
    # Every node's seconds are kept (the page groups them): tests and unit tests included.
    kinds = {unique_id.split(".")[0] for unique_id in run["node_seconds"]}
    assert {"model", "seed", "test", "unit_test"} <= kinds
    dbt_customers, baseline_customers = run["customers"], run["baseline_customers"]
    assert dbt_customers <= baseline_customers <= dbt_customers * (1 + CUSTOMER_TOLERANCE)


def test_the_page_reports_every_domain_names_every_mart_and_no_intermediate_model(
    bench_run, build_manifest
):
    page, results, *_ = bench_run
    (run,) = results
    section = page.split("## Time per domain", 1)[1].split("## Project against notebook", 1)[0]
    domains = table_rows(section.split("### parquet", 1)[1])
    folders = {str(path.parent.relative_to(ROOT / "models")) for path in model_files()}
    assert folders <= set(domains)
    by_folder = {folder: float(domains[folder][0]) for folder in folders}
    assert sum(by_folder.values()) == pytest.approx(
        float(domains["all models (sum)"][0]), abs=0.01 * len(folders)
    )
    assert sum(run["model_seconds"].values()) == pytest.approx(
        float(domains["all models (sum)"][0]), abs=0.01
    )
    # Each folder's model count is its files'.
    for folder in folders:
        files = [p for p in model_files(folder) if p.parent == ROOT / "models" / folder]
        assert int(domains[folder][3]) == len(files), folder
    for kind in ("seeds", "data tests", "unit tests"):
        assert float(domains[kind][0]) > 0, kind
    named = table_rows(section.split(": staging models and marts", 1)[1])
    staging = {path.stem for path in model_files("staging")}
    assert set(marts.mart_names(build_manifest)) | staging <= set(named)
    intermediate = {path.stem for path in model_files("intermediate")}
    assert not intermediate & set(named)
    assert not intermediate & set(re.findall(r"\w+", page))


def test_the_clustering_models_ran_on_the_synthetic_customers(bench_run, build_manifest):
    """scripts/benchmark/bench_clustering.py ran every Python model of
    models/intermediate/clustering (found in the manifest) in dbt's order: every model wrote
    rows, every phase was timed, the customer-grain and history-grain outputs have the input's
    rows, and the page shows each model by the marts it feeds."""
    page, _, _, clustering = bench_run
    (result,) = clustering
    assert result["customers"] == CLUSTERING_CUSTOMERS and result["history_rows"] > 0
    files = {path.stem for path in (ROOT / "models" / "intermediate" / "clustering").glob("*.py")}
    rows = result["models"]
    assert {row["model"] for row in rows} == files and len(rows) == len(files)
    # dbt's order: a model comes after every model of the set it reads.
    nodes = {node["name"]: node for node in build_manifest["nodes"].values()}
    for step, row in enumerate(rows, start=1):
        assert row["step"] == step
        reads = {uid.rsplit(".", 1)[-1] for uid in nodes[row["model"]]["depends_on"]["nodes"]}
        assert reads & files <= {earlier["model"] for earlier in rows[: step - 1]}
    assert all(row["rows"] > 0 and row["df"] > 0 and row["write"] > 0 for row in rows)
    assert set(marts.mart_names(build_manifest)) >= {m for row in rows for m in row["feeds"]}
    assert all(row["feeds"] for row in rows)
    assert any(row["rows"] == CLUSTERING_CUSTOMERS for row in rows)
    (history,) = [row for row in rows if row["rows"] == result["history_rows"]]
    assert history["knn_predict"] > 0
    section = page.split("## Clustering at", 1)[1]
    assert f"**{CLUSTERING_CUSTOMERS:,} customers" in section
    table = table_rows(section.split(f"**{CLUSTERING_CUSTOMERS:,} customers", 1)[1])
    assert [table[str(row["step"])][0] for row in rows] == [
        ", ".join(f"`{mart}`" for mart in row["feeds"]) for row in rows
    ]


def test_the_generated_data_and_warehouse_are_deleted(bench_run):
    _, _, directory, _ = bench_run
    assert not list(directory.glob("lines_*"))
    assert not list(directory.glob("runs/*/warehouse.duckdb*"))


# ------------------------------------------------------------------- scaling analysis
# Pure functions of scripts/benchmark/bench.py, without running anything.


def run_result(requested: int, lines: int, seconds: float, fmt: str = "parquet"):
    from scripts.benchmark.bench import RunResult

    return RunResult(
        lines_requested=requested,
        fmt=fmt,
        command="",
        load_average_start=0.0,
        lines=lines,
        build_status="ok",
        model_seconds={"m": seconds},
    )


@pytest.mark.parametrize(("power", "expected"), [(0, 0.0), (1, 1.0), (2, 2.0)])
def test_growth_exponent_is_the_power_of_the_lines(power, expected):
    from scripts.benchmark.bench import growth_exponent

    points = [(n, 3.0 * (n / 1e6) ** power) for n in (1_000_000, 10_000_000, 100_000_000)]
    assert growth_exponent(points) == pytest.approx(expected)


def test_scaling_uses_the_requested_sizes_from_one_million_up():
    """The generator's 1M file holds slightly fewer lines; it still counts as 1M, and the
    100k run (fixed costs) is left out when two sizes from 1M up exist."""
    from scripts.benchmark.bench import scaling_points

    results = [
        run_result(100_000, 100_174, 1.0),
        run_result(1_000_000, 999_549, 0.27),
        run_result(10_000_000, 9_995_118, 1.78),
        run_result(10_000_000, 9_995_118, 9.0, fmt="csv"),
    ]
    assert scaling_points(results, "parquet", "m") == [(999_549, 0.27), (9_995_118, 1.78)]


def test_numbers_that_round_to_zero_have_no_minus_sign():
    from scripts.benchmark.bench import fmt_number

    formatted = [fmt_number(-0.001, 2), fmt_number(-1234.56), fmt_number(None)]
    assert formatted == ["0.00", "-1,234.6", "–"]


# ------------------------------------------------------------------ grouping and discovery
# Pure functions of scripts/benchmark/bench.py and bench_clustering.py on made-up runs and
# manifests, without running anything.


def grouped_run():
    from scripts.benchmark.bench import RunResult

    return RunResult(
        lines_requested=1_000_000,
        fmt="parquet",
        command="",
        load_average_start=0.0,
        lines=1_000_000,
        build_status="ok",
        build_wall_seconds=20.0,
        dbt_elapsed_seconds=18.0,
        tests_seconds=3.0,
        model_seconds={
            "raw": 2.0,
            "step_one": 3.0,
            "step_two": 2.5,
            "step_three": 2.2,
            "report": 1.9,
        },
        node_seconds={"seed.p.s": 0.5, "test.p.t": 2.0, "unit_test.p.u": 1.0},
        model_domains={
            "raw": "staging",
            "step_one": "intermediate/x",
            "step_two": "intermediate/x",
            "report": "marts",
            "step_three": "intermediate/y",
        },
        model_notes={"step_one": "it joins every line", "report": "it counts every line"},
    )


def test_the_page_groups_intermediate_models_by_domain_and_names_the_others():
    from scripts.benchmark.bench import domain_table, dominance_text, named_table

    run = grouped_run()
    domains = table_rows("\n".join(domain_table([run], "parquet")))
    assert {k: v[0] for k, v in domains.items() if k in ("staging", "intermediate/x", "marts")} == {
        "staging": "2.00",
        "intermediate/x": "5.50",
        "marts": "1.90",
    }
    assert domains["intermediate/x"][3] == "2" and domains["marts"][4] == "`report` 1.90"
    assert [domains[k][0] for k in ("seeds", "data tests", "unit tests")] == [
        "0.50",
        "2.00",
        "1.00",
    ]
    named = table_rows("\n".join(named_table([run], "parquet")))
    assert set(named) - {"staging model or mart"} == {"raw", "report"}
    (text,) = dominance_text([run])
    assert text.startswith("**parquet, 1,000,000 lines:** `intermediate/x` dominates with 5.5 s")
    assert "its slowest model, 3.0 s: it joins every line" in text
    assert "In `staging` (1 model), `raw`, 2.0 s." in text
    assert "The slowest mart is `report`, 1.9 s: it counts every line." in text
    assert "then `intermediate/y` (2.2 s, 19%) and `staging` (2.0 s, 17%)." in text
    assert not {"step_one", "step_two", "step_three"} & set(re.findall(r"\w+", text))


def clustering_manifest():
    """Three Python models of models/intermediate/clustering (named so that name order is not
    dependency order), a SQL model there and a Python model elsewhere (both left out), an
    input and two marts."""

    def node(name, folder, language="sql", depends=(), materialized="table"):
        return {
            "unique_id": f"model.p.{name}",
            "name": name,
            "resource_type": "model",
            "language": language,
            "fqn": ["p", *folder.split("/"), name],
            "depends_on": {"nodes": [f"model.p.{d}" for d in depends]},
            "config": {"materialized": materialized},
            "columns": {},
        }

    nodes = [
        node("rfm", "intermediate/rfm"),
        node("z_first", "intermediate/clustering", "python", ["rfm"]),
        node("a_second", "intermediate/clustering", "python", ["z_first", "rfm"]),
        node("m_third", "intermediate/clustering", "python", ["a_second", "z_first"]),
        node("sql_helper", "intermediate/clustering", "sql", ["z_first"]),
        node("elsewhere", "intermediate/rfm", "python", ["rfm"]),
        node("choice", "marts", depends=["z_first"]),
        node("profiles", "marts", depends=["sql_helper"]),
    ]
    children = {
        "z_first": ["a_second", "m_third", "sql_helper", "choice"],
        "a_second": ["m_third"],
        "m_third": ["sql_helper"],
        "sql_helper": ["profiles"],
    }
    return {
        "nodes": {n["unique_id"]: n for n in nodes},
        "child_map": {
            f"model.p.{parent}": [f"model.p.{c}" for c in kids] for parent, kids in children.items()
        },
    }


def test_the_clustering_models_come_from_the_manifest_in_dependency_order():
    from scripts.benchmark.bench_clustering import clustering_models, marts_fed, model_inputs

    manifest = clustering_manifest()
    models = clustering_models(manifest)
    assert [n["name"] for n in models] == ["z_first", "a_second", "m_third"]
    assert [n["name"] for n in model_inputs(manifest, models)] == ["rfm"]
    # A mart child first; else the nearest marts downstream.
    assert marts_fed(manifest, "model.p.z_first") == ["choice"]
    assert marts_fed(manifest, "model.p.a_second") == ["profiles"]


def test_an_input_column_the_benchmark_cannot_make_stops_it_by_name():
    from scripts.benchmark.bench_clustering import input_sql

    node = clustering_manifest()["nodes"]["model.p.rfm"]
    node["original_file_path"] = "models/intermediate/rfm/rfm.sql"
    node["columns"] = {"customer_id": {}, "loyalty_tier": {}}
    with pytest.raises(ValueError, match=r"rfm .*\['loyalty_tier'\].*CUSTOMER_COLUMNS"):
        input_sql(node, snapshots=13)
    node["columns"] = {"snapshot_date": {}, "customer_id": {}, "frequency": {}}
    sql = input_sql(node, snapshots=13)
    assert "as snapshot_date" in sql and "r.frequency * m // 13" in sql


def test_the_spark_section_gives_the_ratio_to_duckdb_and_both_customer_counts():
    from scripts.benchmark.bench_spark import render

    row = {
        "lines": 100_000,
        "fmt": "parquet",
        "load_average": 0.5,
        "status": "ok",
        "wall_seconds": 300.0,
        "peak_bytes": 3 << 30,
        "duckdb_wall_seconds": 25.0,
        "duckdb_customers": 1_234,
        "customers": 1_234,
        "nodes": 329,
    }
    failed = {**row, "lines": 1_000_000, "status": "failed", "customers": None}
    rows = table_rows("\n".join(render([failed, row])))
    assert rows["100,000"] == [
        "parquet",
        "329",
        "25.0",
        "300.0",
        "12.0",
        "3.00",
        "1,234, 1,234",
        "0.50",
    ]
    assert rows["1,000,000"][4:7] == ["failed", "3.00", "–, 1,234"]


def test_spark_sizes_must_be_benchmarked_sizes_in_parquet():
    from scripts.benchmark.bench import parse_args

    assert parse_args(["--sizes", "1000", "--spark-sizes", "1000"]).spark_sizes == [1000]
    for argv in (
        ["--sizes", "1000", "--spark-sizes", "2000"],
        ["--sizes", "1000", "--formats", "csv", "--spark-sizes", "1000"],
    ):
        with pytest.raises(SystemExit):
            parse_args(argv)
