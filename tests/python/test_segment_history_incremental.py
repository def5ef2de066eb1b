"""Periodic runs of the segment history: a new month's lines add its snapshot and leave the
stored ones as they were, and the result equals a full rebuild.

Two builds of the SQL history only (no clustering): the demo export without its last month,
then the whole export with the first build's warehouse (an incremental run). The full
rebuild it is compared with is the session's demo build (the same export, from scratch).

What is checked is how the stored snapshots are kept, so the tests read the history's
incremental model itself (every other test reads marts); they ask dbt's manifest which
model that is rather than naming it.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dbt_project_runner import ROOT, WITHOUT_UNIT_TESTS, Warehouse, run_dbt, selecting

DEMO = ROOT / "data" / "demo" / "online_retail_demo.csv.gz"
NEW_MONTH = pd.Timestamp("2011-12-01")
HISTORY_DOMAIN = "models/intermediate/history/"
SELECT = [*selecting(f"+path:{HISTORY_DOMAIN}"), *WITHOUT_UNIT_TESTS]
HISTORY_COLUMNS = (
    "snapshot_date, customer_id, first_purchase_date, last_purchase_date, recency_days, "
    "frequency, monetary, matched_return_amount, return_rate, r_score, f_score, m_score, "
    "fm_score, rfm_cell, rfm_segment"
)


def export_before(destination: Path, day: pd.Timestamp) -> Path:
    """The demo export as it was before `day`: its lines dated before it (every line whose
    date does not parse is kept: it was in the old export too)."""
    lines = pd.read_csv(DEMO, dtype=str, keep_default_na=False)
    dates = pd.to_datetime(lines["InvoiceDate"], format="%m/%d/%Y %H:%M", errors="coerce")
    old = lines[~(dates >= day)]
    assert 0 < len(old) < len(lines)
    with gzip.open(destination, "wt", newline="") as handle:
        old.to_csv(handle, index=False)
    return destination


def stored_history(warehouse: Warehouse) -> dict:
    """The manifest node of the model that stores the snapshots: the history domain's one
    incremental model."""
    nodes = [
        node
        for node in warehouse.manifest()["nodes"].values()
        if node["resource_type"] == "model"
        and node["original_file_path"].startswith(HISTORY_DOMAIN)
        and node["config"]["materialized"] == "incremental"
    ]
    assert len(nodes) == 1, [node["name"] for node in nodes]
    return nodes[0]


@pytest.fixture(scope="module")
def periodic_runs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("periodic")
    old_export = export_before(directory / "export_before_december.csv.gz", NEW_MONTH)
    run_dbt(directory, "build", *SELECT, env={"RAW_TRANSACTIONS_PATH": str(old_export)})
    warehouse = Warehouse(directory)
    history = stored_history(warehouse)["alias"]
    before = warehouse.frame(
        "select snapshot_date, count(*) as customers, any_value(computed_in_invocation_id) "
        f"as invocation from {history} group by snapshot_date order by 1"
    )
    first_run = warehouse.run_results()
    run_dbt(directory, "build", *SELECT, env={"RAW_TRANSACTIONS_PATH": str(DEMO)})
    return warehouse, before, first_run, warehouse.run_results()


def test_new_month_adds_only_its_snapshot(periodic_runs):
    warehouse, before, first_run, second_run = periodic_runs
    history = stored_history(warehouse)
    first_id = first_run["metadata"]["invocation_id"]
    second_id = second_run["metadata"]["invocation_id"]
    # The old export ends on 30 November: its last snapshot is a period end, 2011-12-01.
    assert before["snapshot_date"].max() == pd.Timestamp("2011-12-01")
    assert set(before["invocation"]) == {first_id}
    after = warehouse.frame(
        "select snapshot_date, count(*) as customers, "
        "count(distinct computed_in_invocation_id) as invocations, "
        "any_value(computed_in_invocation_id) as invocation "
        f"from {history['alias']} group by snapshot_date order by 1"
    )
    assert (after["invocations"] == 1).all()
    old = after[after["snapshot_date"].isin(before["snapshot_date"])]
    new = after[~after["snapshot_date"].isin(before["snapshot_date"])]
    # The stored snapshots were kept, row for row, as the first run computed them ...
    assert old["customers"].tolist() == before["customers"].tolist()
    assert set(old["invocation"]) == {first_id}
    # ... and the second run computed exactly one: the new as-of date.
    assert new["snapshot_date"].tolist() == [pd.Timestamp("2011-12-10")]
    assert set(new["invocation"]) == {second_id}
    result = next(r for r in second_run["results"] if r["unique_id"] == history["unique_id"])
    assert result["status"] == "success"


def test_incremental_history_equals_a_full_rebuild(periodic_runs, demo_warehouse):
    warehouse, *_ = periodic_runs
    history = stored_history(warehouse)["alias"]
    incremental = warehouse.frame(f"select {HISTORY_COLUMNS} from {history}")
    rebuilt = demo_warehouse.frame(f"select {HISTORY_COLUMNS} from {history}")
    keys = ["snapshot_date", "customer_id"]
    incremental = incremental.sort_values(keys).reset_index(drop=True)
    rebuilt = rebuilt.sort_values(keys).reset_index(drop=True)
    assert len(rebuilt) > 0
    pd.testing.assert_frame_equal(incremental, rebuilt)


def test_changed_past_lines_fail_the_check_and_say_how_to_rebuild(periodic_runs, tmp_path):
    """A stored snapshot that no longer matches the lines (here: one more invoice stored for a
    customer, as if the export had been corrected since) fails
    assert_segment_history_matches_the_lines."""
    warehouse, *_ = periodic_runs
    history = stored_history(warehouse)["alias"]
    directory = tmp_path / "tampered"
    directory.mkdir()
    shutil.copyfile(warehouse.path, directory / "warehouse.duckdb")
    with duckdb.connect(str(directory / "warehouse.duckdb")) as connection:
        connection.execute(
            f"update {history} set frequency = frequency + 1 "
            "where snapshot_date = date '2011-06-01' and customer_id = "
            f"(select min(customer_id) from {history} "
            "where snapshot_date = date '2011-06-01')"
        )
    result = run_dbt(
        directory,
        "test",
        "--select",
        "assert_segment_history_matches_the_lines",
        check=False,
        env={"RAW_TRANSACTIONS_PATH": str(DEMO)},
    )
    assert result.returncode != 0, result.stdout[-3000:]
    assert "assert_segment_history_matches_the_lines" in result.stdout
