"""Runs the real dbt project against a DuckDB file of its own, for tests.

Each run gets its own target, log and DuckDB paths, so runs never share state;
dbt always runs from the repository root, as the README requires.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).with_name("dbt")
FIXTURES = ROOT / "tests" / "python" / "fixtures"

# Tests look at the warehouse through the marts, as every reader does. Every raw line is in
# exactly one of the three line marts (nothing is dropped silently), so together they give
# each line's reason: the clean and returned lines' codes are the seed's (cleaning_rules).
LINE_MARTS = "+purchase_lines +return_lines +quarantined_lines"
LINES = """(
    select transaction_line_id, 'valid_purchase' as reason_code, 'clean' as line_status,
        stock_code, description, invoice_date
    from purchase_lines
    union all
    select transaction_line_id, 'return', 'returned', stock_code, description, invoice_date
    from return_lines
    union all
    select transaction_line_id, reason_code, 'quarantined', stock_code, description,
        cast(invoiced_at as date)
    from quarantined_lines
) as lines"""


@dataclass
class Warehouse:
    """A DuckDB file built by dbt, opened read-only for each query."""

    directory: Path
    vars: dict = field(default_factory=dict)
    project: Path = ROOT

    @property
    def path(self) -> Path:
        return self.directory / "warehouse.duckdb"

    def rows(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as connection:
            return connection.sql(sql).fetchall()

    def value(self, sql: str):
        return self.rows(sql)[0][0]

    def reader_env(self) -> dict:
        """The environment of a dbt command that only reads this warehouse (compile, docs,
        MetricFlow): it opens the file read-only, next to the other tests reading it."""
        return {
            **os.environ,
            "DBT_PROFILES_DIR": str(self.project),
            "SEGMENTATION_DUCKDB_PATH": str(self.path),
            "SEGMENTATION_DUCKDB_ACCESS_MODE": "read_only",
            "DO_NOT_TRACK": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }

    @contextmanager
    def held_open(self):
        """The file open read-only, as another test reading the shared warehouse holds it:
        what runs inside must open it read-only too (DuckDB refuses a writer next to it)."""
        with duckdb.connect(str(self.path), read_only=True):
            yield

    def frame(self, sql: str):
        with duckdb.connect(str(self.path), read_only=True) as connection:
            return connection.sql(sql).df()

    def dbt(self, *args: str, vars: dict | None = None, check: bool = True):
        return run_dbt(
            self.directory,
            *args,
            vars={**self.vars, **(vars or {})},
            check=check,
            project=self.project,
        )

    def run_results(self) -> dict:
        return json.loads((self.directory / "target" / "run_results.json").read_text())

    def manifest(self) -> dict:
        return json.loads((self.directory / "target" / "manifest.json").read_text())


def run_dbt(
    directory: Path,
    *args: str,
    vars: dict | None = None,
    check: bool = True,
    project: Path = ROOT,
    env: dict | None = None,
    dbt: Path = DBT,
):
    """dbt with its own target, logs and warehouse in `directory`; `env` adds variables,
    `dbt` is another environment's dbt (the Spark one)."""
    directory.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(project),
        "SEGMENTATION_DUCKDB_PATH": str(directory / "warehouse.duckdb"),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **(env or {}),
    }
    command = [
        str(dbt),
        *args,
        "--target-path",
        str(directory / "target"),
        "--log-path",
        str(directory / "logs"),
    ]
    if vars:
        command += ["--vars", json.dumps(vars)]
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} exited {result.returncode}\n{result.stdout[-6000:]}"
        )
    return result


def copy_project(destination: Path) -> Path:
    """A copy of the dbt project (no venv, no build output) that a test may edit."""
    ignore = shutil.ignore_patterns(
        ".venv*",
        ".git",
        "target",
        "logs",
        "*.duckdb",
        "reports",
        "__pycache__",
        ".pytest_cache",
        ".ruff_cache",
        "bench-data",
    )
    shutil.copytree(ROOT, destination, ignore=ignore)
    return destination


# dbt unit tests feed a model fixed rows: the export and the settings a build reads do not
# change what they check. The session's demo and dirty builds (conftest.py) run them; the
# other builds leave them out.
WITHOUT_UNIT_TESTS = ("--exclude", "resource_type:unit_test")


def build(
    directory: Path,
    vars: dict | None = None,
    select: str | None = None,
    project: Path = ROOT,
    unit_tests: bool = False,
) -> Warehouse:
    """dbt build: every model, seed and data test, or the models of `select` (a selector
    such as `+customers`) and the data tests of those models only."""
    warehouse = Warehouse(directory, dict(vars or {}), project)
    args = ["build", *(selecting(select) if select else [])]
    args += [] if unit_tests else list(WITHOUT_UNIT_TESTS)
    warehouse.dbt(*args)
    return warehouse


def selecting(select: str) -> list[str]:
    """dbt arguments for the models of `select` and the data tests of those models only."""
    # cautious: only tests whose every parent is selected (no test of an unbuilt model).
    return ["--select", select, "--indirect-selection", "cautious"]
