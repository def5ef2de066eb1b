"""The MetricFlow semantic layer validates and answers against the demo warehouse.

`mf` reads `<project dir>/target/semantic_manifest.json` (a fixed path: it
ignores --target-path and DBT_TARGET_PATH) and finds the project through
DBT_PROJECT_DIR, the profile through DBT_PROFILES_DIR. So the test gives mf a
directory of its own: a copy of dbt_project.yml and target/semantic_manifest.json
as the demo build wrote it (`dbt parse` into that directory when it is missing);
the profile honours SEGMENTATION_DUCKDB_PATH, so mf queries the demo warehouse.
The semantic manifest names the database after the DuckDB file name, which the
build and the warehouse share.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from dbt_project_runner import DBT, ROOT, run_dbt

MF = DBT.with_name("mf")
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def mf_project(demo_warehouse, tmp_path_factory) -> Path:
    """A directory mf accepts as the project: dbt_project.yml and target/semantic_manifest.json."""
    directory = tmp_path_factory.mktemp("mf_project")
    built = demo_warehouse.directory / "target" / "semantic_manifest.json"
    if built.exists():
        (directory / "target").mkdir()
        shutil.copy(built, directory / "target" / "semantic_manifest.json")
    else:
        run_dbt(directory, "parse", vars=demo_warehouse.vars)
    assert (directory / "target" / "semantic_manifest.json").exists()
    shutil.copy(ROOT / "dbt_project.yml", directory / "dbt_project.yml")
    return directory


def run_mf(project: Path, warehouse, *args: str) -> subprocess.CompletedProcess:
    env = {
        **warehouse.reader_env(),
        "DBT_PROJECT_DIR": str(project),
        "DBT_LOG_PATH": str(project / "logs"),
    }
    with warehouse.held_open():
        return subprocess.run(
            [str(MF), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )


def mf_query(project: Path, warehouse, out: Path, metrics: str, group_by: str) -> list[dict]:
    """The rows of `mf query` (written as CSV to `out`); fails with mf's output if it fails."""
    result = run_mf(
        project, warehouse, "query", "--metrics", metrics, "--group-by", group_by, "--csv", str(out)
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-6000:]
    with out.open(newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture
def mf(mf_project, demo_warehouse, tmp_path):
    """`mf(metrics, group_by)`: the rows of an mf query on the demo warehouse."""

    def query(metrics: str, group_by: str) -> list[dict]:
        return mf_query(mf_project, demo_warehouse, tmp_path / "result.csv", metrics, group_by)

    return query


def test_mf_validate_configs(mf_project, demo_warehouse):
    result = run_mf(mf_project, demo_warehouse, "validate-configs")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-6000:]
    assert "ERRORS: 0" in result.stdout


def test_metrics_by_rfm_segment_match_the_marts(mf, demo_warehouse):
    rows = mf(
        "revenue,customers,average_order_value,repeat_purchase_rate,return_rate",
        "customer__rfm_segment",
    )

    by_segment = {row["customer__rfm_segment"]: Decimal(row["revenue"]) for row in rows}
    expected = dict(
        demo_warehouse.rows(
            """
            select customers.rfm_segment, sum(purchase_lines.line_amount)
            from purchase_lines
            inner join customers on purchase_lines.customer_id = customers.customer_id
            group by customers.rfm_segment
            """
        )
    )
    assert by_segment.keys() == expected.keys()
    for segment, revenue in by_segment.items():
        assert abs(revenue - expected[segment]) < CENT, segment

    total = demo_warehouse.value("select sum(line_amount) from purchase_lines")
    assert abs(sum(by_segment.values()) - total) < CENT
    customers = demo_warehouse.value("select count(*) from customers")
    assert sum(int(row["customers"]) for row in rows) == customers

    # The other metrics agree with the segment_summary mart (which sums per-customer values
    # rounded to the cent, hence the tolerances).
    columns = ("customers", "average_order_value", "repeat_purchase_rate", "return_rate")
    summary = {
        segment: dict(zip(columns, values, strict=True))
        for segment, *values in demo_warehouse.rows(
            f"""
            select segment_name, {", ".join(columns)}
            from segment_summary
            where segment_type = 'rfm_segment'
            """
        )
    }
    assert summary.keys() == by_segment.keys()
    for row in rows:
        mart = summary[row["customer__rfm_segment"]]
        assert int(row["customers"]) == mart["customers"]
        assert abs(Decimal(row["average_order_value"]) - mart["average_order_value"]) < CENT
        assert float(row["repeat_purchase_rate"]) == pytest.approx(mart["repeat_purchase_rate"])
        assert float(row["return_rate"]) == pytest.approx(mart["return_rate"], abs=1e-4)


def test_segment_sizes_by_snapshot_match_the_history(mf, demo_warehouse):
    rows = mf(
        "segment_customers,segment_value",
        "metric_time__day,customer_snapshot__snapshot_rfm_segment",
    )
    got = {
        (row["metric_time__day"][:10], row["customer_snapshot__snapshot_rfm_segment"]): (
            int(row["segment_customers"]),
            Decimal(row["segment_value"]),
        )
        for row in rows
    }
    expected = {
        (str(day), segment): (customers, value)
        for day, segment, customers, value in demo_warehouse.rows(
            "select snapshot_date, rfm_segment, count(*), sum(monetary) "
            "from customer_segment_history group by snapshot_date, rfm_segment"
        )
    }
    assert got.keys() == expected.keys()
    for key, (customers, value) in expected.items():
        assert got[key][0] == customers, key
        assert abs(got[key][1] - value) < CENT, key


def test_predicted_clv_by_segment_matches_the_customers_mart(mf, demo_warehouse):
    found = mf(
        "predicted_clv,average_predicted_clv,expected_purchases",
        "customer__rfm_segment",
    )
    rows = {row["customer__rfm_segment"]: row for row in found}
    expected = {
        segment: values
        for segment, *values in demo_warehouse.rows(
            """
            select rfm_segment, sum(predicted_clv), avg(predicted_clv), sum(expected_purchases)
            from customers
            group by rfm_segment
            """
        )
    }
    assert rows.keys() == expected.keys()
    for segment, (total, mean, purchases) in expected.items():
        assert float(rows[segment]["predicted_clv"]) == pytest.approx(total)
        assert float(rows[segment]["average_predicted_clv"]) == pytest.approx(mean)
        assert float(rows[segment]["expected_purchases"]) == pytest.approx(purchases)
