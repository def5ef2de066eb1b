"""Warehouses built once per test session and shared by the tests that read them."""

from __future__ import annotations

import pytest
from dbt_project_runner import FIXTURES, build

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


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory):
    """The bundled demo data, built with the project's defaults."""
    return build(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="session")
def dirty_warehouse(tmp_path_factory):
    """The fixture holding every dirty case, one line each."""
    return build(tmp_path_factory.mktemp("dirty"), DIRTY_VARS)


@pytest.fixture(scope="session")
def published_demo(demo_warehouse, tmp_path_factory):
    """The demo warehouse published as `make build` publishes it (a link to a publication
    directory with the Parquet export), without building it again: readers' tests open it."""
    import shutil

    from scripts.devtools import publish

    # The file keeps the built file's name: DuckDB qualifies the views' references (the
    # line marts are views) with the database name, which is the file's stem.
    published = tmp_path_factory.mktemp("published") / demo_warehouse.path.name
    store = publish.store_for(published)
    build_id = publish.new_build_id()
    directory = store.publications / build_id
    directory.mkdir(parents=True)
    shutil.copyfile(demo_warehouse.path, directory / published.name)
    marts = publish.mart_names(demo_warehouse.directory / "target" / "manifest.json")
    publish.export(directory / published.name, marts, directory, build_id)
    publish.swap_link(published, directory / published.name)
    publish.swap_link(store.parquet_link, directory / "parquet")
    return published
