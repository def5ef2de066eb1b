"""Incremental runs of the line chain: when the export only grows at its end (its last file
gains lines, or a new file joins the glob after the others), the next build stages only the
new lines and every mart equals a full rebuild; when a staged file changed in place, every
line is staged again rather than old and new lines mixed (README "Incremental runs").

The demo export is split into a glob of CSV files. The first build stages only the lines
(staging, whose post-hooks record the files read, is all the next run needs); the second,
a whole build without unit tests, runs after the second file grew and a third was added,
and every mart it makes is compared with the session's demo build (the same lines from one
file, built from scratch). Then a staged line is changed in place (same size) and the
lines are staged again.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from dbt_project_runner import ROOT, Warehouse, run_dbt

from scripts import marts

DEMO = ROOT / "data" / "demo" / "online_retail_demo.csv.gz"
# The lines without the record's own model: staging's post-hooks write the record.
STAGING_ONLY = ["--select", "stg_shop__source_files", "stg_shop__transactions"]
STAGING_ONLY += ["--indirect-selection", "cautious"]
REBUILT = "every line is staged again"
# Lines of the demo export in each file: the second file is first staged with its first
# part only, then grows to the whole of it; the third file is new in the second build.
FIRST_FILE, SECOND_FILE_STAGED, SECOND_FILE = 50_000, 58_000, 60_000


def write_lines(lines: pd.DataFrame, path: Path, append: bool = False) -> None:
    """CSV the way an export writes it (text as read, the header once)."""
    lines.to_csv(path, index=False, header=not append, mode="a" if append else "w")


def marts_of(warehouse: Warehouse) -> dict[str, pd.DataFrame]:
    """Every mart's rows, sorted on every column so that row order does not count."""
    frames = {}
    for name in marts.mart_names(warehouse.manifest()):
        frame = warehouse.frame(f"select * from {name}")
        frames[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return frames


@pytest.fixture(scope="module")
def incremental_runs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("incremental")
    export = directory / "export"
    export.mkdir()
    lines = pd.read_csv(DEMO, dtype=str, keep_default_na=False)
    write_lines(lines.iloc[:FIRST_FILE], export / "part_1.csv")
    write_lines(lines.iloc[FIRST_FILE:SECOND_FILE_STAGED], export / "part_2.csv")
    env = {"RAW_TRANSACTIONS_PATH": str(export / "*.csv")}
    first = run_dbt(directory, "build", *STAGING_ONLY, env=env)
    write_lines(lines.iloc[SECOND_FILE_STAGED:SECOND_FILE], export / "part_2.csv", append=True)
    write_lines(lines.iloc[SECOND_FILE:], export / "part_3.csv")
    second = run_dbt(directory, "build", "--exclude", "resource_type:unit_test", env=env)
    compiled = (
        directory / "target" / "compiled" / "customer_segmentation" / "models" / "staging"
    ) / "stg_shop__transactions.sql"
    return Warehouse(directory), export, env, first, second, compiled.read_text()


def test_appended_lines_are_the_only_ones_staged(incremental_runs):
    warehouse, _, _, first, second, compiled = incremental_runs
    assert REBUILT not in first.stdout + second.stdout
    # The second run read the grown file and the new one, not the first file.
    assert "part_2.csv" in compiled and "part_3.csv" in compiled
    assert "part_1.csv" not in compiled
    staged = warehouse.rows("select file_path, records, first_line_id from stg_shop__loaded_files")
    assert [(Path(path).name, records, first) for path, records, first in staged] == [
        ("part_1.csv", FIRST_FILE, 1),
        ("part_2.csv", SECOND_FILE - FIRST_FILE, FIRST_FILE + 1),
        ("part_3.csv", len(pd.read_csv(DEMO, dtype=str)) - SECOND_FILE, SECOND_FILE + 1),
    ]


def test_every_mart_equals_a_full_rebuild(incremental_runs, demo_warehouse):
    warehouse = incremental_runs[0]
    incremental, full = marts_of(warehouse), marts_of(demo_warehouse)
    assert set(incremental) == set(full)
    assert len(full) > 10
    for name, frame in full.items():
        pd.testing.assert_frame_equal(incremental[name], frame, obj=name)


def test_a_changed_staged_line_stages_every_line_again(incremental_runs):
    warehouse, export, env, *_ = incremental_runs
    path = export / "part_1.csv"
    text = path.read_text()
    # The same number of bytes: only the content hash tells the change.
    changed = text.replace(",SNOWFLAKE PURSE,", ",SNOWFLAKE PURSX,", 1)
    assert changed != text and len(changed) == len(text)
    path.write_text(changed)
    rebuilt = run_dbt(warehouse.directory, "build", *STAGING_ONLY, env=env)
    assert f"{REBUILT}, because {path} changed since its lines were staged" in rebuilt.stdout
    lines = len(pd.read_csv(DEMO, dtype=str))
    assert warehouse.rows(
        "select count(*), count(distinct transaction_line_id), max(transaction_line_id),"
        " count(case when description = 'SNOWFLAKE PURSX' then 1 end)"
        " from stg_shop__transactions"
    ) == [(lines, lines, lines, 1)]


def test_the_benchmark_adds_the_newest_lines_as_a_second_file(tmp_path):
    from scripts.benchmark.bench_incremental import split_export

    dates = ["12/1/2010 9:00", "12/3/2010 9:00", "not a date", "12/2/2010 9:00"] * 25
    lines = pd.DataFrame({"InvoiceNo": [str(i) for i in range(100)], "InvoiceDate": dates})
    lines.to_parquet(tmp_path / "lines.parquet")
    old, new = split_export(tmp_path / "lines.parquet", tmp_path / "export", 0.25)
    first = pd.read_parquet(tmp_path / "export" / "part_1.parquet")
    second = pd.read_parquet(tmp_path / "export" / "part_2.parquet")
    # The newest quarter by invoice time, in file order; a line without a date is old.
    assert (old, new) == (75, 25)
    assert list(second["InvoiceNo"]) == [str(i) for i in range(1, 100, 4)]
    assert list(first["InvoiceNo"]) == [str(i) for i in range(100) if i % 4 != 1]


def test_the_benchmark_page_says_whether_the_incremental_target_is_met():
    from scripts.benchmark.bench_incremental import render

    build = {"wall_seconds": 100.0, "staging_seconds": 30.0, "load_average": 1.0}
    row = {
        "lines": 10_000_000,
        "new_lines": 100_000,
        "share": 0.01,
        "full": build,
        "incremental": {**build, "wall_seconds": 20.0, "staging_seconds": 0.5},
        "ratio": 0.2,
        "cpu_ratio": 0.2,
        "marts_compared": 27,
        "marts_rounding": ["customers"],
        "marts_different": {},
    }
    page = "\n".join(render([row]))
    assert "27 of 27 marts equal (1 of them up to float rounding)" in page
    assert "0.20x, **met**" in page
    slow = {**row, "ratio": 0.5, "marts_different": {"customers": ["recency_days"]}}
    page = "\n".join(render([slow]))
    assert "different: `customers` (recency_days)" in page and "**missed**" in page


def test_the_fingerprint_covers_the_code_of_every_macro_staging_calls(incremental_runs):
    # A changed parser must stage every line again, not leave old lines parsed the old
    # way: the fingerprint holds the code of the macros staging calls, the dispatched
    # implementations and the macros they call in turn included.
    warehouse = incremental_runs[0]
    compiled = run_dbt(
        warehouse.directory, "compile", "--quiet", "--inline", "{{ staged_lines_settings() }}"
    ).stdout
    for macro in ("invoice_timestamp", "duckdb__parse_timestamp", "held_exactly", "is_finite"):
        assert f'"macro.customer_segmentation.{macro}": "' in compiled, macro
    assert "strptime" in compiled  # the date parser's own code, not only its name
