"""Cleaning: every raw line accounted for once, with the reason the fixture expects."""

from __future__ import annotations

import csv
import shutil

import duckdb
import pytest
from conftest import DIRTY_VARS
from dbt_project_runner import (
    FIXTURES,
    LINE_MARTS,
    LINES,
    Warehouse,
    build,
    copy_project,
    run_dbt,
)

from customer_segmentation.project import project_vars

OUTPUTS = ("purchase_lines", "quarantined_lines", "return_lines")


def expected_reasons() -> list[str]:
    with open(FIXTURES / "dirty_transactions.csv", newline="") as handle:
        return [row["ExpectedReason"] for row in csv.DictReader(handle)]


def test_every_fixture_line_gets_the_reason_written_next_to_it(dirty_warehouse):
    got = dirty_warehouse.rows(f"select reason_code from {LINES} order by transaction_line_id")
    assert [reason for (reason,) in got] == expected_reasons()


def test_the_fixture_exercises_every_rule(dirty_warehouse):
    unused = dirty_warehouse.rows("select reason_code from cleaning_summary where lines = 0")
    assert unused == []


@pytest.mark.parametrize("warehouse_name", ["dirty_warehouse", "demo_warehouse"])
def test_raw_lines_reconcile_exactly_in_count_and_value(warehouse_name, request):
    warehouse = request.getfixturevalue(warehouse_name)
    raw_lines, raw_value = warehouse.rows(
        "select count(*), sum(line_amount) from stg_shop__transactions"
    )[0]
    parts = [
        warehouse.rows(f"select count(*), coalesce(sum(line_amount), 0) from {table}")[0]
        for table in OUTPUTS
    ]
    assert raw_lines == sum(lines for lines, _ in parts)
    assert raw_value == sum(value for _, value in parts)
    assert all(lines > 0 for lines, _ in parts)


@pytest.mark.parametrize("warehouse_name", ["dirty_warehouse", "demo_warehouse"])
def test_each_line_lands_in_exactly_one_output(warehouse_name, request):
    warehouse = request.getfixturevalue(warehouse_name)
    union = " union all ".join(f"select transaction_line_id from {t}" for t in OUTPUTS)
    placed, distinct = warehouse.rows(
        f"select count(*), count(distinct transaction_line_id) from ({union})"
    )[0]
    raw = warehouse.value("select count(*) from stg_shop__transactions")
    assert placed == distinct == raw
    assert warehouse.value("select count(*) from quarantined_lines where reason_code is null") == 0


@pytest.mark.parametrize("warehouse_name", ["dirty_warehouse", "demo_warehouse"])
def test_clean_lines_have_a_customer_positive_quantity_and_price_and_no_copies(
    warehouse_name, request
):
    warehouse = request.getfixturevalue(warehouse_name)
    bad = warehouse.value(
        "select count(*) from purchase_lines "
        "where customer_id is null or quantity <= 0 or unit_price <= 0"
    )
    copies = warehouse.value(
        "select count(*) from (select invoice_no, stock_code, description, quantity, unit_price, "
        "invoiced_at, customer_id, country, count(*) as n from purchase_lines "
        "group by all having count(*) > 1)"
    )
    assert (bad, copies) == (0, 0)


def test_a_duplicate_differing_only_in_trailing_spaces_is_quarantined(dirty_warehouse):
    # Fixture lines 2 and 3: the copy's description ends in spaces.
    rows = dirty_warehouse.rows(
        "select transaction_line_id, reason_code, description "
        f"from {LINES} where transaction_line_id in (2, 3) order by 1"
    )
    assert rows == [
        (2, "valid_purchase", "WHITE METAL LANTERN"),
        (3, "exact_duplicate", "WHITE METAL LANTERN"),
    ]


def test_returns_are_matched_partially_matched_and_unmatched(dirty_warehouse):
    rows = dirty_warehouse.rows(
        "select transaction_line_id, match_status, matched_quantity from return_lines order by 1"
    )
    assert rows == [
        (5, "matched", 2),
        (6, "unmatched", 0),
        (32, "matched", 1),
        (33, "partially_matched", 3),
    ]


def test_outlier_threshold_is_recorded_on_every_line(dirty_warehouse, demo_warehouse):
    assert dirty_warehouse.rows(
        "select distinct outlier_quantity_threshold, outlier_line_amount_threshold "
        "from quarantined_lines"
    ) == [(10000.0, 10000.0)]
    # The demo's threshold comes from the data (var outlier_method: iqr), above 24 units.
    assert project_vars()["outlier_method"] == "iqr"
    assert (
        demo_warehouse.value("select min(outlier_quantity_threshold) from quarantined_lines") > 24
    )
    recorded = demo_warehouse.value(
        "select count(distinct outlier_quantity_threshold) from quarantined_lines"
    )
    assert recorded == 1


def test_the_demo_80995_unit_order_and_its_cancellation_are_outliers(demo_warehouse):
    reasons = demo_warehouse.rows(
        "select reason_code, count(*) from quarantined_lines where abs(quantity) = 80995 group by 1"
    )
    assert reasons == [("outlier_quantity", 2)]


def test_a_failed_reconciliation_reports_both_sides(dirty_warehouse, tmp_path):
    broken = Warehouse(tmp_path, dict(DIRTY_VARS))
    shutil.copy(dirty_warehouse.path, broken.path)
    # purchase_lines is a view over the classified lines: a copy of it that loses line 1.
    with duckdb.connect(str(broken.path)) as connection:
        connection.execute("alter view purchase_lines rename to purchase_lines_built")
        connection.execute(
            "create view purchase_lines as "
            "select * from purchase_lines_built where transaction_line_id != 1"
        )
    result = broken.dbt("test", "--select", "assert_transaction_lines_reconcile", check=False)
    assert result.returncode != 0
    assert "the export holds 43 records" in result.stdout and "raw 43 lines" in result.stdout
    assert "clean 16 + quarantined 22 + returned 4" in result.stdout


def test_extending_the_non_product_seed_reclassifies_lines_without_sql(tmp_path):
    project = copy_project(tmp_path / "project")
    with open(project / "seeds" / "non_product_stock_codes.csv", "a") as handle:
        handle.write("22720,exact,Cake tins sold as a service bundle\n")
    warehouse = build(tmp_path / "build", DIRTY_VARS, select=LINE_MARTS, project=project)
    reasons = warehouse.rows(f"select distinct reason_code from {LINES} where stock_code = '22720'")
    assert reasons == [("non_product",)]


def test_the_outlier_rule_is_a_var(tmp_path):
    warehouse = build(
        tmp_path,
        {**DIRTY_VARS, "outlier_quantity_cap": 50},
        select=LINE_MARTS,
    )
    reasons = dict(
        warehouse.rows(
            f"select transaction_line_id, reason_code from {LINES} "
            "where transaction_line_id in (24, 26)"
        )
    )
    # 60 picnic baskets and 10,000 cake cases: above a cap of 50 units.
    assert reasons == {24: "outlier_quantity", 26: "outlier_quantity"}


def test_a_missing_column_mapping_fails_with_a_clear_message(tmp_path):
    result = run_dbt(
        tmp_path,
        "compile",
        "--select",
        "stg_shop__transactions",
        vars={**DIRTY_VARS, "raw_columns": {"invoice_no": "InvoiceNo"}},
        check=False,
    )
    assert result.returncode != 0
    assert "raw_columns" in result.stdout
