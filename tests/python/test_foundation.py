"""Other shops' column names and date formats, line ids, the default as-of date. (The build
command and rebuild determinism: test_publish, whose demo publication is `make build`.)"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import itertools

import duckdb
from conftest import DIRTY_VARS
from dbt_project_runner import (
    FIXTURES,
    LINE_MARTS,
    LINES,
    ROOT,
    Warehouse,
    build,
)

from scripts.demo_data import generate_transactions as gen

CUSTOMER_COLUMNS = (
    "customer_id, recency_days, frequency, monetary, net_monetary, return_rate, "
    "r_score, f_score, m_score, rfm_segment, cluster_id, cluster_name"
)

SHOP_COLUMNS = {
    "invoice_no": "order_id",
    "stock_code": "sku",
    "description": None,
    "quantity": "qty",
    "invoice_date": "ordered_at",
    "unit_price": "price",
    "customer_id": "customer",
    "country": "country",
}


def table_rows(warehouse: Warehouse, table: str) -> list[tuple]:
    return warehouse.rows(f"select * from {table} order by all")


def to_shop_format(source: str, destination, description: bool = True) -> None:
    """The demo or fixture lines as another shop would export them: other column names,
    ISO timestamps with an offset, integer customer ids."""
    with duckdb.connect() as connection:
        connection.execute(
            f"""
            copy (
                select
                    InvoiceNo as order_id,
                    StockCode as sku,
                    {"Description as title," if description else ""}
                    Quantity as qty,
                    coalesce(
                        strftime(
                            try_strptime(InvoiceDate, ['%m/%d/%Y %H:%M', '%Y-%m-%d %H:%M:%S']),
                            '%Y-%m-%dT%H:%M:%S'
                        )
                        || '+00:00',
                        InvoiceDate
                    ) as ordered_at,
                    UnitPrice as price,
                    replace(CustomerID, '.0', '') as customer,
                    Country as country
                from read_csv('{source}', all_varchar = true, header = true)
            ) to '{destination}' (header, delimiter ',')
            """
        )


def shop_vars(path, description: bool) -> dict:
    return {
        "raw_transactions_path": str(path),
        "raw_columns": {**SHOP_COLUMNS, "description": "title" if description else None},
        "raw_invoice_date_formats": ["%Y-%m-%dT%H:%M:%S%z"],
        "shop_timezone": "UTC",
    }


def test_another_shops_export_gives_the_same_customers(tmp_path, demo_warehouse):
    shop_file = tmp_path / "shop_orders.csv"
    to_shop_format(str(ROOT / "data" / "demo" / "online_retail_demo.csv.gz"), shop_file)
    with open(shop_file) as handle:
        assert handle.readline().strip() == (
            "order_id,sku,title,qty,ordered_at,price,customer,country"
        )
    # The demo's lines under other names: what follows the customers is the demo build's.
    warehouse = build(
        tmp_path / "build",
        shop_vars(shop_file, description=True),
        select="+customers +cleaning_summary",
    )
    query = f"select {CUSTOMER_COLUMNS} from customers order by customer_id"
    assert warehouse.rows(query) == demo_warehouse.rows(query)
    assert table_rows(warehouse, "cleaning_summary") == table_rows(
        demo_warehouse, "cleaning_summary"
    )


def test_an_export_without_descriptions_builds(tmp_path, dirty_warehouse):
    shop_file = tmp_path / "shop_orders.csv"
    to_shop_format(str(FIXTURES / "dirty_transactions.csv"), shop_file, description=False)
    vars = {**DIRTY_VARS, **shop_vars(shop_file, description=False)}
    warehouse = build(tmp_path / "build", vars, select=LINE_MARTS)
    # The same clean purchases per customer: what recency, frequency and monetary come from.
    query = (
        "select customer_id, max(invoice_date), count(distinct invoice_no), sum(line_amount) "
        "from purchase_lines group by customer_id order by customer_id"
    )
    assert warehouse.rows(query) == dirty_warehouse.rows(query)


def test_a_parquet_source_gives_the_same_classification(tmp_path, dirty_warehouse):
    parquet = tmp_path / "lines.parquet"
    with duckdb.connect() as connection:
        connection.execute(
            f"copy (select * from read_csv('{FIXTURES / 'dirty_transactions.csv'}', "
            f"all_varchar = true, header = true)) to '{parquet}' (format parquet)"
        )
    warehouse = build(
        tmp_path / "build",
        {**DIRTY_VARS, "raw_transactions_path": str(parquet)},
        select=LINE_MARTS,
    )
    query = f"select transaction_line_id, reason_code from {LINES}"
    assert sorted(warehouse.rows(query)) == sorted(dirty_warehouse.rows(query))


LARGE_CSV_LINES = 1_000_000


def fetched_rows(result, batch: int = 100_000):
    """The rows of a DuckDB result, fetched a batch at a time."""
    while rows := result.fetchmany(batch):
        yield from rows


def test_line_ids_are_file_positions_in_a_csv_read_in_parallel(tmp_path):
    """At 82 MB DuckDB splits the CSV into several buffers read by both threads, with
    preserve_insertion_order off (profiles.yml): the id must still be the line's position
    in the file, or quarantined lines would not point back at the export and exact
    duplicates would be told apart differently on each build."""
    path = tmp_path / "lines.csv"
    gen.write(path, LARGE_CSV_LINES, seed=7)
    assert path.stat().st_size > 64 * 1024 * 1024
    warehouse = build(
        tmp_path / "build", {"raw_transactions_path": str(path)}, select="+stg_shop__transactions"
    )
    # Both sides are streamed: a million tuples held twice would weigh on the test process.
    with path.open(newline="") as handle, duckdb.connect(str(warehouse.path), read_only=True) as db:
        staged = db.execute(
            "select transaction_line_id, invoice_no, stock_code, cast(quantity as bigint) "
            "from stg_shop__transactions order by transaction_line_id"
        )
        expected = (
            (position, row["InvoiceNo"].strip(), row["StockCode"].strip(), int(row["Quantity"]))
            for position, row in enumerate(csv.DictReader(handle), start=1)
        )
        pairs = itertools.zip_longest(expected, fetched_rows(staged))
        compared, mismatches = 0, []
        for want, got in pairs:
            compared += 1
            if want != got and len(mismatches) < 5:
                mismatches.append((want, got))
    # zip_longest pairs a missing or extra line with None: a count difference mismatches too.
    assert mismatches == []
    assert compared > 0.9 * LARGE_CSV_LINES


def test_the_as_of_date_defaults_to_the_day_after_the_last_line(demo_warehouse):
    with gzip.open(ROOT / "data" / "demo" / "online_retail_demo.csv.gz", "rt") as handle:
        last_line = max(
            dt.datetime.strptime(row["InvoiceDate"], "%m/%d/%Y %H:%M").date()
            for row in csv.DictReader(handle)
        )
    as_of, configured = demo_warehouse.rows(
        "select as_of_date, as_of_date_is_configured from segmentation_settings"
    )[0]
    assert (as_of, configured) == (last_line + dt.timedelta(days=1), False)
