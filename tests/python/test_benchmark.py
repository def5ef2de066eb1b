"""Smoke test of the benchmark script at its smallest size (the real run is `make bench`).

One run of `python -m scripts.benchmark.bench` on 50,000 Parquet lines, dbt build and notebook
baseline included, into a temporary directory; the page and results.json it writes are
checked for rows, positive numbers and agreement between the two pipelines.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from dbt_project_runner import ROOT

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


def test_the_page_has_the_machine_versions_command_and_tables(bench_run):
    page, *_ = bench_run
    for heading in ("## Machine", "## Reproduce", "## Summary", "## Targets", "### parquet"):
        assert heading in page
    assert re.search(r"\d+ cores", page) and "Load average" in page
    assert "dbt-core" in page and "duckdb" in page and "scikit-learn" in page
    assert f"scripts.benchmark.bench --sizes {LINES} --formats parquet" in page
    # Which model dominates depends on the size and the machine; the page must name one.
    assert re.search(r"`\w+` dominates", page)


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
    dbt_customers, baseline_customers = run["customers"], run["baseline_customers"]
    assert dbt_customers <= baseline_customers <= dbt_customers * (1 + CUSTOMER_TOLERANCE)


def test_the_clustering_models_ran_on_the_synthetic_customers(bench_run):
    """scripts/benchmark/bench_clustering.py runs the five clustering models' own code: every model
    wrote rows, every phase was timed, and the page has the section."""
    page, _, _, clustering = bench_run
    (result,) = clustering
    assert result["customers"] == CLUSTERING_CUSTOMERS and result["history_rows"] > 0
    by_model = {row["model"]: row for row in result["models"]}
    assert by_model["int_customer_clusters"]["rows"] == CLUSTERING_CUSTOMERS
    assert by_model["int_customer_cluster_history"]["rows"] == result["history_rows"]
    assert all(row["rows"] > 0 and row["df"] > 0 and row["write"] > 0 for row in by_model.values())
    assert by_model["int_customer_cluster_history"]["knn_predict"] > 0
    assert f"**{CLUSTERING_CUSTOMERS:,} customers" in page.split("## Clustering at", 1)[1]


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
