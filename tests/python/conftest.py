"""Warehouses built once per test run and shared by the tests that read them.

Under pytest-xdist each worker is a session of its own: a session fixture would build its
warehouse once per worker. `shared` builds it once for the whole run instead, in the base
temporary directory the workers share, under a lock (the first worker to need it builds
it, the others wait for it). Tests only read these warehouses.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest
from dbt_project_runner import FIXTURES, Warehouse, build

pytest_plugins = ["gates_report"]

# The dirty fixture is tiny: fixed outlier caps make its expectations exact,
# and an as-of date inside the data exercises the after-as-of-date rule.
DIRTY_VARS = {
    # Two of its 41 lines have no usable date on purpose.
    "max_unusable_date_share": 0.1,
    # One line of 43 is a stray date: more than the default share of a real export.
    "stray_date_max_share": 0.05,
    "raw_transactions_path": str(FIXTURES / "dirty_transactions.csv"),
    "as_of_date": "2011-12-09",
    "outlier_method": "cap",
    "outlier_quantity_cap": 10000,
    "outlier_line_value_cap": 10000,
}


@contextmanager
def _locked(path: Path):
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def shared_directory(tmp_path_factory, name: str) -> Path:
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # Each worker's base directory is a folder of the run's (popen-gw0...).
        root = root.parent
    return root / f"shared-{name}"


def shared(tmp_path_factory, name: str, make: Callable[[Path], None]) -> Path:
    """The directory `make` fills, made once per test run. A build that failed is retried
    by the next worker that needs it, so that each reports the failure."""
    directory = shared_directory(tmp_path_factory, name)
    root = directory.parent
    done = directory / ".complete"
    with _locked(root / f"shared-{name}.lock"):
        if not done.exists():
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir()
            make(directory)
            done.touch()
    return directory


# The order in which pytest-xdist hands the test files to its two workers (pyproject.toml:
# --dist loadfile --no-loadscope-reorder): the longest first, so that the last files to run
# are short ones and both workers finish together; files not listed follow, in the order
# pytest collects them. The Spark comparison builds the session's DuckDB demo and dirty
# fixture while its Spark builds wait on their sessions; the next two need no session
# build. Measured with `make test` (--durations=0).
LONGEST_FIRST = (
    # Mostly waiting on two Spark sessions: its worker's core is the other's meanwhile.
    "test_spark_engine.py",
    "test_publish.py",
    "test_bad_inputs.py",
    "test_quality_gates.py",
    "test_foundation.py",
    "test_campaign.py",
    "test_kmeans.py",
    "test_segment_history_incremental.py",
    "test_benchmark.py",
    "test_segment_acceptance.py",
    "test_cleaning.py",
    "test_report.py",
    "test_dashboard.py",
    "test_lifetime_value.py",
    "test_semantic_layer.py",
    "test_generator.py",
)


def pytest_collection_modifyitems(items):
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    # A stable sort: the tests of a file keep their order.
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory):
    """The bundled demo data, built with the project's defaults: every node of the project,
    unit tests included (the one build that runs them on the defaults)."""
    directory = shared(tmp_path_factory, "demo", lambda path: build(path, unit_tests=True))
    return Warehouse(directory)


@pytest.fixture(scope="session")
def dirty_warehouse(tmp_path_factory):
    """The fixture holding every dirty case, one line each; every node, unit tests included
    (they run on these settings too)."""
    directory = shared(
        tmp_path_factory,
        "dirty",
        lambda path: build(path, DIRTY_VARS, unit_tests=True),
    )
    return Warehouse(directory, dict(DIRTY_VARS))


@pytest.fixture(scope="session")
def published_demo(demo_warehouse, tmp_path_factory):
    """The demo warehouse published as `make build` publishes it (a link to a publication
    directory with the Parquet export), without building it again: readers' tests open it."""
    from scripts.devtools import publish

    # The file keeps the built file's name: DuckDB qualifies the views' references (the
    # line marts are views) with the database name, which is the file's stem.
    def make(directory: Path) -> None:
        published = directory / demo_warehouse.path.name
        store = publish.store_for(published)
        build_id = publish.new_build_id()
        publication = store.publications / build_id
        publication.mkdir(parents=True)
        shutil.copyfile(demo_warehouse.path, publication / published.name)
        marts = publish.mart_names(demo_warehouse.directory / "target" / "manifest.json")
        publish.export(publication / published.name, marts, publication, build_id)
        publish.swap_link(published, publication / published.name)
        publish.swap_link(store.parquet_link, publication / "parquet")

    return shared(tmp_path_factory, "published", make) / demo_warehouse.path.name
