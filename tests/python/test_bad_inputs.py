"""Bad, damaged and unusual exports (the real-exports issue).

Every case ends in exactly one of two ways: a green build in which every record of the
file is accounted for (the reconciliation test compares the pre-flight's own record count
with the staged lines) and each bad line is quarantined with its reason; or a non-zero
exit whose message names the problem and the setting that fixes it. No case may end in a
green build with lost or misread lines.

Cases share builds where they can: one glob of two messy files carries some twenty
line-level cases, one glob of broken files carries every file-level failure, the demo
rewritten day-first in cp1252 carries both the encoding and the date-order cases.

The messy glob and the export of another shape build every model (green end to end on
those lines); builds of the demo's lines in another encoding and of a few typed lines
build the marts they check. No build here runs the dbt unit tests (conftest.py's do).
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dbt_project_runner import (
    LINE_MARTS,
    LINES,
    ROOT,
    WITHOUT_UNIT_TESTS,
    Warehouse,
    build,
    run_dbt,
)

from customer_segmentation import source_audit
from scripts.demo_data import generate_transactions

DEMO = ROOT / "data" / "demo" / "online_retail_demo.csv.gz"
UCI = list(generate_transactions.COLUMNS)
NULL_TOKENS = ["NULL", "null", "NaN", "nan", "None", "N/A", "#N/A"]


def write_csv(
    path: Path,
    header: list[str],
    rows: list[dict],
    *,
    encoding: str = "utf-8",
    line_end: str = "\n",
    bom: bool = False,
) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, header, lineterminator=line_end, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode(encoding))
    return path


def failed_build(directory: Path, vars: dict | None = None, env: dict | None = None) -> str:
    """dbt build that must fail; returns what it printed."""
    result = run_dbt(directory, "build", *WITHOUT_UNIT_TESTS, vars=vars, check=False, env=env)
    assert result.returncode != 0, "the build passed: " + result.stdout[-3000:]
    return result.stdout


class DefaultSettingsBuilds:
    """Builds on the default vars, the export named by env RAW_TRANSACTIONS_PATH (as a user
    would), sharing one directory so that dbt parses the project once and then only the
    files that read that variable. Each build starts from an empty warehouse."""

    def __init__(self, directory: Path):
        self.warehouse = Warehouse(directory)

    def fail(self, path: Path) -> str:
        self.warehouse.path.unlink(missing_ok=True)
        return failed_build(self.warehouse.directory, env={"RAW_TRANSACTIONS_PATH": str(path)})


@pytest.fixture(scope="module")
def on_defaults(tmp_path_factory):
    return DefaultSettingsBuilds(tmp_path_factory.mktemp("defaults"))


def tables(warehouse: Warehouse) -> set[str]:
    if not warehouse.path.exists():
        return set()
    return {name for (name,) in warehouse.rows("select table_name from information_schema.tables")}


def line(invoice, stock, quantity, date, price, customer, reason, **extra) -> dict:
    return {
        "InvoiceNo": invoice,
        "StockCode": stock,
        "Description": extra.pop("description", f"PRODUCT {stock}"),
        "Quantity": quantity,
        "InvoiceDate": date,
        "UnitPrice": price,
        "CustomerID": customer,
        "Country": extra.pop("country", "United Kingdom"),
        "ExpectedReason": reason,
        **extra,
    }


def ordinary_lines(count: int, first_invoice: int, seed: int) -> list[dict]:
    """Valid purchases spread over 2011, thirty customers."""
    rows = []
    for i in range(count):
        k = i + seed
        month, day, hour = 1 + k % 11, 1 + (k * 7) % 28, 8 + k % 10
        rows.append(
            line(
                str(first_invoice + i),
                f"2{k % 40:04d}",
                str(1 + k % 5),
                f"{month}/{day}/2011 {hour}:{k % 60:02d}",
                f"{1.25 + (k % 7) * 0.5:.2f}",
                f"{20000 + k % 30}.0",
                "valid_purchase",
            )
        )
    return rows


# ---------------------------------------------------------------------------
# One green build, two messy files: every line-level case.
# ---------------------------------------------------------------------------

MESSY_VARS = {
    "raw_invoice_date_formats": ["%m/%d/%Y %H:%M", "%Y-%m-%dT%H:%M:%S%z"],
    "shop_timezone": "Europe/London",
    "outlier_method": "cap",
    "outlier_quantity_cap": 1000000,
    "outlier_line_value_cap": 1000000,
}


def messy_files(directory: Path) -> list[Path]:
    special = [
        line(
            "700001",
            "85123A",
            "6",
            "6/1/2011 10:00",
            "2.55",
            "17850.0",
            "valid_purchase",
            description='TWO LINES\nIN ONE "QUOTED", DESCRIPTION',
        ),
        *[
            line(
                str(700010 + i), "22423", "1", "6/2/2011 10:00", "12.75", token, "missing_customer"
            )
            for i, token in enumerate(NULL_TOKENS)
        ],
        line(
            "700020",
            "22424",
            "1",
            "6/3/2011 10:00",
            "12.75",
            "20001",
            "valid_purchase",
            country="NULL",
        ),
        line("700021", "22425", "NaN", "6/3/2011 10:00", "12.75", "20001", "unparseable_number"),
        line("700022", "22426", "2", "6/3/2011 10:00", "inf", "20001", "unparseable_number"),
        line("700023", "22427", "8", "6/4/2011 10:00", "0.00125", "20002", "valid_purchase"),
        line(
            "700024", "22428", "1.2345", "6/4/2011 10:00", "1.00", "20002", "unrepresentable_number"
        ),
        line(
            "700025",
            "22429",
            "99999999999999",
            "6/4/2011 10:00",
            "99999",
            "20002",
            "unrepresentable_number",
        ),
        line("700026", "22430", "1", "6/4/2011 10:00", "1e13", "20002", "unrepresentable_number"),
        line("700027", "22431", "1", "12/25/2031 10:00", "3.00", "20003", "stray_future_date"),
        line(
            "700028", "22432", "1", "2011-06-01T10:00:00+02:00", "3.00", "20004", "valid_purchase"
        ),
        line("700029", "22433", "1", "2011-06-01 10:00:00", "3.00", "20004", "unparseable_date"),
        # Customer 14911, stock 22699 of a real export (the return-matching bug).
        line("C700030", "22699", "-48", "8/4/2011 13:00", "2.55", "14911.0", "return"),
        line("700031", "22699", "6", "9/28/2011 10:00", "2.95", "14911.0", "valid_purchase"),
        line("C700032", "22699", "-6", "11/18/2011 11:00", "2.95", "14911.0", "return"),
    ]
    for row in special:
        row["Channel"] = "web"
    first = [*ordinary_lines(80, 600000, 0), *special]
    # Reordered columns with an extra one, a byte order mark and CRLF line ends.
    reordered = [
        "CustomerID",
        "InvoiceDate",
        "InvoiceNo",
        "StockCode",
        "Description",
        "Quantity",
        "UnitPrice",
        "Country",
        "Channel",
        "ExpectedReason",
    ]
    second = ordinary_lines(80, 650000, 5)
    copy = dict(first[3], ExpectedReason="exact_duplicate")
    second.append(copy)
    return [
        write_csv(directory / "a.csv", reordered, first, line_end="\r\n", bom=True),
        write_csv(directory / "b.csv", [*UCI, "ExpectedReason"], second),
    ]


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    directory = tmp_path_factory.mktemp("messy")
    files = messy_files(directory / "export")
    warehouse = build(
        directory, {**MESSY_VARS, "raw_transactions_path": str(directory / "export" / "*.csv")}
    )
    expected = []
    for file in files:
        with open(file, newline="", encoding="utf-8-sig") as handle:
            expected += [row["ExpectedReason"] for row in csv.DictReader(handle)]
    return warehouse, expected


def test_every_line_of_a_messy_glob_gets_its_expected_reason(messy):
    warehouse, expected = messy
    got = [
        reason
        for (reason,) in warehouse.rows(
            f"select reason_code from {LINES} order by transaction_line_id"
        )
    ]
    assert got == expected
    assert warehouse.value("select sum(records) from stg_shop__source_files") == len(expected)


def test_null_tokens_never_become_customers(messy):
    warehouse, _ = messy
    tokens = ", ".join(f"'{token}'" for token in NULL_TOKENS)
    assert warehouse.value(f"select count(*) from customers where customer_id in ({tokens})") == 0
    assert (
        warehouse.value(f"select count(*) from campaign_audience where customer_id in ({tokens})")
        == 0
    )
    assert (
        warehouse.value(
            "select count(*) from purchase_lines where invoice_no = '700020' and country is null"
        )
        == 1
    )


def test_sub_cent_prices_are_kept_exactly(messy):
    warehouse, _ = messy
    assert warehouse.rows(
        "select cast(unit_price as varchar), cast(line_amount as varchar) from purchase_lines "
        "where invoice_no = '700023'"
    ) == [("0.001250", "0.010000")]


def test_values_the_types_cannot_hold_are_quarantined_with_their_raw_text(messy):
    warehouse, _ = messy
    assert warehouse.rows(
        "select quantity_raw, price_raw from quarantined_lines "
        "where reason_code = 'unrepresentable_number' order by invoice_no"
    ) == [("1.2345", "1.00"), ("99999999999999", "99999"), ("1", "1e13")]


def test_one_stray_future_date_does_not_move_the_as_of_date(messy):
    warehouse, _ = messy
    # The day after the last line that is not stray; the 2031 line alone would move it 20 years.
    expected = warehouse.value(
        f"select max(invoice_date) + 1 from {LINES} where reason_code != 'stray_future_date'"
    )
    assert warehouse.rows("select distinct as_of_date from customers") == [(expected,)]
    assert expected.year == 2011


def test_only_timestamps_with_an_offset_are_converted(messy):
    warehouse, _ = messy
    times = dict(
        warehouse.rows(
            "select invoice_no, cast(invoiced_at as varchar) from purchase_lines "
            "where invoice_no in ('700001', '700028')"
        )
    )
    # 10:00 at +02:00 is 09:00 in London (summer time); a plain 10:00 is local already.
    assert times == {"700028": "2011-06-01 09:00:00", "700001": "2011-06-01 10:00:00"}


def test_quoted_line_breaks_and_reordered_extra_columns_are_read(messy):
    warehouse, _ = messy
    assert warehouse.rows(
        "select description, customer_id, cast(unit_price as double) from purchase_lines "
        "where invoice_no = '700001'"
    ) == [('TWO LINES\nIN ONE "QUOTED", DESCRIPTION', "17850", 2.55)]


def test_an_unmatched_return_does_not_use_up_a_later_purchase(messy):
    warehouse, _ = messy
    assert warehouse.rows(
        "select invoice_no, match_status, cast(matched_amount as double) from return_lines "
        "where customer_id = '14911' order by invoiced_at"
    ) == [("C700030", "unmatched", 0.0), ("C700032", "matched", 17.7)]


# ---------------------------------------------------------------------------
# The demo written day-first in cp1252 (as widely shared copies of the real data are).
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def day_first_cp1252(tmp_path_factory):
    directory = tmp_path_factory.mktemp("day_first")
    frame = pd.read_csv(DEMO, dtype=str, keep_default_na=False)
    parsed = pd.to_datetime(frame["InvoiceDate"], format="%m/%d/%Y %H:%M")
    frame["InvoiceDate"] = [
        f"{day.day}/{day.month}/{day.year} {day.hour}:{day.minute:02d}" for day in parsed
    ]
    # Bytes that only cp1252 has (0x80-0x9f): curly quote, euro sign, en dash.
    frame["Description"] = frame["Description"].str.replace("HEART", "HEART’S €–")
    path = directory / "day_first.csv"
    frame.to_csv(path, index=False, encoding="cp1252")
    return directory, path


def test_a_day_first_cp1252_export_with_its_settings_gives_the_demo_customers(
    day_first_cp1252, demo_warehouse
):
    directory, path = day_first_cp1252
    # The demo's lines, encoded and dated otherwise: what follows the customers is the demo
    # build's.
    warehouse = build(
        directory / "good",
        {
            "raw_transactions_path": str(path),
            "raw_csv_encoding": "cp1252",
            "raw_invoice_date_formats": ["%d/%m/%Y %H:%M"],
        },
        select="+customers +purchase_lines",
    )
    columns = "customer_id, recency_days, frequency, monetary, net_monetary, rfm_segment"
    query = f"select {columns} from customers order by customer_id"
    assert warehouse.rows(query) == demo_warehouse.rows(query)
    assert (
        warehouse.value("select count(*) from purchase_lines where description like '%HEART’S €–%'")
        > 0
    )


def test_a_day_first_export_read_month_first_fails_naming_the_format(day_first_cp1252):
    directory, path = day_first_cp1252
    output = failed_build(
        directory / "bad", {"raw_transactions_path": str(path), "raw_csv_encoding": "cp1252"}
    )
    assert "parse only with day and month swapped" in output
    assert "raw_invoice_date_formats: ['%d/%m/%Y %H:%M']" in output
    assert "customers" not in tables(Warehouse(directory / "bad"))


def test_a_cp1252_export_read_as_utf8_fails_naming_the_encoding(day_first_cp1252, tmp_path):
    _, path = day_first_cp1252
    with pytest.raises(source_audit.SourceError, match="raw_csv_encoding"):
        source_audit.audit_source(str(path), dict(zip(UCI, UCI, strict=True)))


# ---------------------------------------------------------------------------
# An export of another shape: whitespace-aligned, yyyymmdd dates, line totals, no
# invoice number, no stock code, from the 1990s (like the public CDNOW data).
# ---------------------------------------------------------------------------

SHAPE_VARS = {
    "raw_csv_delimiter": "whitespace",
    "raw_columns": {
        "invoice_no": None,
        "stock_code": None,
        "description": None,
        "quantity": "number_of_items",
        "invoice_date": "date",
        "unit_price": "amount",
        "customer_id": "customer_id",
        "country": None,
    },
    "raw_invoice_date_formats": ["%Y%m%d"],
    "raw_price_is_line_total": True,
    "outlier_method": "cap",
}


@pytest.fixture(scope="module")
def aligned_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("aligned") / "cdnow.txt"
    rows, seen = [], set()
    for i in range(400):
        customer, items = 1 + (i * 7) % 60, 1 + i % 4
        day = pd.Timestamp("1997-01-01") + pd.Timedelta(days=(i * 13) % 540)
        amount = round(items * (11.77 + (i % 9)), 2)
        if (customer, day, items) in seen:
            continue
        seen.add((customer, day, items))
        rows.append((customer, day.strftime("%Y%m%d"), items, amount))
    # Returns: negative items and amounts.
    rows += [(rows[0][0], "19980701", -1, -11.77), (rows[1][0], "19980702", -2, -5.0)]
    lines = ["customer_id   date      number_of_items   amount"]
    lines += [f"{c:>5}   {d}   {n:>3}   {a:>9.2f}" for c, d, n, a in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_whitespace_aligned_export_without_invoice_or_stock_code_is_read(aligned_file, tmp_path):
    warehouse = build(
        tmp_path,
        {
            **SHAPE_VARS,
            "raw_transactions_path": str(aligned_file),
            "earliest_valid_date": "1990-01-01",
        },
    )
    raw = pd.read_csv(aligned_file, sep=r"\s+", dtype={"date": str})
    bought = raw[raw["number_of_items"] > 0]
    expected = bought.groupby("customer_id").agg(
        frequency=("date", "nunique"), monetary=("amount", "sum")
    )
    got = (
        warehouse.frame(
            "select cast(customer_id as integer) as customer_id, frequency, monetary from customers"
        )
        .set_index("customer_id")
        .sort_index()
    )
    assert got["frequency"].tolist() == expected["frequency"].tolist()
    assert got["monetary"].astype(float).round(2).tolist() == expected["monetary"].round(2).tolist()
    statuses = dict(warehouse.rows(f"select line_status, count(*) from {LINES} group by 1"))
    assert statuses == {"clean": len(bought), "returned": 2}


def test_a_1990s_export_with_the_default_earliest_date_fails_naming_it(aligned_file, tmp_path):
    output = failed_build(tmp_path, {**SHAPE_VARS, "raw_transactions_path": str(aligned_file)})
    assert "earliest_valid_date" in output
    assert "dated before" in output


# ---------------------------------------------------------------------------
# Parquet with typed columns: a timestamp with time zone, integers, doubles.
# ---------------------------------------------------------------------------


def test_typed_parquet_dates_and_numbers_are_used_as_they_are(tmp_path):
    path = tmp_path / "typed.parquet"
    rows = ordinary_lines(60, 610000, 3)
    frame = pd.DataFrame(rows)
    with duckdb.connect() as connection:
        connection.register("lines", frame)
        connection.execute(f"""
            set timezone = 'UTC';
            copy (
                select
                    InvoiceNo, StockCode, Description,
                    cast(Quantity as integer) as Quantity,
                    cast(strptime(InvoiceDate, '%m/%d/%Y %H:%M') || '+02:00' as timestamptz)
                        as InvoiceDate,
                    cast(UnitPrice as double) as UnitPrice,
                    cast(cast(CustomerID as double) as bigint) as CustomerID,
                    Country
                from lines
            ) to '{path}' (format parquet)
        """)
    warehouse = build(
        tmp_path / "build",
        {
            "raw_transactions_path": str(path),
            "shop_timezone": "Europe/London",
            "outlier_method": "cap",
        },
        select=LINE_MARTS,
    )
    assert warehouse.value("select count(*) from purchase_lines") == 60
    first = rows[0]
    local = (
        pd.Timestamp(pd.to_datetime(first["InvoiceDate"], format="%m/%d/%Y %H:%M"), tz="+02:00")
        .tz_convert("Europe/London")
        .tz_localize(None)
    )
    assert warehouse.rows(
        "select invoiced_at, unit_price from purchase_lines "
        f"where invoice_no = '{first['InvoiceNo']}'"
    ) == [(local.to_pydatetime(), pytest.approx(float(first["UnitPrice"])))]


# ---------------------------------------------------------------------------
# Failures, each with a message naming the problem and the setting.
# ---------------------------------------------------------------------------


def broken_files(directory: Path) -> dict[str, str]:
    """One file per file-level problem; the phrase its line of the message must hold."""
    ok = ordinary_lines(3, 620000, 0)
    directory.mkdir(parents=True)
    (directory / "empty.csv").write_bytes(b"")
    (directory / "duplicate_column.csv").write_text(
        "InvoiceNo,StockCode,Description,Quantity,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "1,A,x,1,2,6/1/2011 10:00,1.0,1,UK\n"
    )
    write_csv(directory / "semicolons.csv", UCI, ok)
    (directory / "semicolons.csv").write_text(
        (directory / "semicolons.csv").read_text().replace(",", ";")
    )
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([UCI, *[list(r.values())[:8] for r in ok]])
    body = text.getvalue()
    (directory / "too_many_fields.csv").write_text(
        body + "1,A,PEN, BLUE,1,6/1/2011 10:00,1.0,1,UK\n"
    )
    (directory / "too_few_fields.csv").write_text(body + "1,A,PEN,1,6/1/2011 10:00,1.0\n")
    (directory / "blank_spaces_line.csv").write_text(body + "   \n")
    (directory / "unclosed_quote.csv").write_text(body + '1,A,"PEN,1,6/1/2011 10:00,1.0,1,UK\n')
    (directory / "not_utf8.csv").write_bytes(body.replace("PRODUCT", "CAFÉ £").encode("cp1252"))
    write_csv(directory / "missing_column.csv", [c for c in UCI if c != "CustomerID"], ok)
    return {
        "empty.csv": "the file is empty",
        "duplicate_column.csv": "'Quantity' appears twice",
        "semicolons.csv": "raw_csv_delimiter: ';'",
        "too_many_fields.csv": "do not have the header's 8 fields",
        "too_few_fields.csv": "do not have the header's 8 fields",
        "blank_spaces_line.csv": "do not have the header's 8 fields",
        "unclosed_quote.csv": "never closed",
        "not_utf8.csv": "raw_csv_encoding",
        "missing_column.csv": "customer_id: 'CustomerID'",
    }


def test_every_broken_file_of_a_glob_is_named_with_its_problem(on_defaults, tmp_path):
    problems = broken_files(tmp_path / "export")
    output = on_defaults.fail(tmp_path / "export" / "*.csv")
    message = output[output.index("cannot be read as configured") :]
    for name, phrase in problems.items():
        block = message[message.index(name) :]
        block = block[: block.index("\n- ")] if "\n- " in block else block
        assert phrase in block, (name, block)
    assert "columns found" in message and "raw_csv_delimiter ','" in message
    assert "stg_shop__transactions" not in tables(on_defaults.warehouse)


def test_a_truncated_gzip_export_fails_instead_of_losing_lines(on_defaults, tmp_path):
    data = DEMO.read_bytes()
    path = tmp_path / "truncated.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    output = on_defaults.fail(path)
    assert "is damaged" in output and "ends early" in output


def test_a_missing_path_fails_naming_the_setting(on_defaults, tmp_path):
    output = on_defaults.fail(tmp_path / "nowhere.csv")
    assert "matches no file" in output and "raw_transactions_path" in output


def test_a_header_only_export_fails_saying_there_is_nothing_to_segment(on_defaults, tmp_path):
    path = write_csv(tmp_path / "header_only.csv", UCI, [])
    output = on_defaults.fail(path)
    assert "no file holds any line" in output


def test_two_digit_years_on_the_defaults_fail_suggesting_the_format(on_defaults, tmp_path):
    rows = ordinary_lines(50, 630000, 0)
    for row in rows:
        row["InvoiceDate"] = row["InvoiceDate"].replace("/2011", "/11")
    path = write_csv(tmp_path / "short_years.csv", UCI, rows)
    output = on_defaults.fail(path)
    assert "50 of 50 lines (100.0%) have no usable date" in output
    assert "raw_invoice_date_formats: ['%m/%d/%y %H:%M']" in output
    assert "earliest_valid_date" in output


def test_more_than_the_allowed_share_of_bad_dates_fails_with_the_share(on_defaults, tmp_path):
    rows = ordinary_lines(95, 640000, 0)
    rows += [dict(rows[0], InvoiceNo=str(650000 + i), InvoiceDate="soon") for i in range(5)]
    path = write_csv(tmp_path / "bad_dates.csv", UCI, rows)
    output = on_defaults.fail(path)
    assert "5 of 100 lines (5.0%) have no usable date" in output
    assert "max_unusable_date_share" in output and "'soon'" in output


@pytest.mark.parametrize(
    "bad_vars, named",
    [
        (
            {
                "control_group_share": 1.5,
                "rfm_bins": 3,
                "kmeans_k": 100,
                "raw_csv_delimiter": ";;",
                "outlier_method": "median",
                "as_of_date": "yesterday",
                "kmeans_scaler": "robust",
                "raw_columns": {
                    "quantity": "Quantity",
                    "invoice_date": "InvoiceDate",
                    "unit_price": "UnitPrice",
                    "customer_id": None,
                },
            },
            [
                "control_group_share: 1.5",
                "rfm_bins: 3",
                "kmeans_k: 100",
                "raw_csv_delimiter: ';;'",
                "outlier_method: 'median'",
                "as_of_date: 'yesterday'",
                "kmeans_scaler: 'robust'",
                "raw_columns.customer_id: null",
            ],
        ),
        (
            {
                "rfm_bins": 10,
                "kmeans_k": 1,
                "control_group_share": -0.1,
                "high_returner_threshold": 0,
                "kmeans_k_min": 5,
                "kmeans_k_max": 3,
                "raw_price_is_line_total": "yes",
                "cancellation_invoice_prefix": "",
            },
            [
                "rfm_bins: 10",
                "kmeans_k: 1",
                "control_group_share: -0.1",
                "high_returner_threshold: 0",
                "kmeans_k_max: 3",
                "raw_price_is_line_total: 'yes'",
                "cancellation_invoice_prefix: ''",
            ],
        ),
    ],
)
def test_bad_settings_fail_before_anything_is_built_naming_each(bad_vars, named, tmp_path):
    output = failed_build(tmp_path, bad_vars)
    assert "Invalid settings" in output
    for text in named:
        assert text in output
    assert tables(Warehouse(tmp_path)) == set()


def test_an_export_without_customers_fails_saying_what_happened_to_the_lines(on_defaults, tmp_path):
    rows = ordinary_lines(40, 660000, 0)
    for row in rows:
        row["CustomerID"] = ""
    output = on_defaults.fail(write_csv(tmp_path / "no_customers.csv", UCI, rows))
    assert "No customers to segment" in output and "missing_customer 40" in output
    assert "customers" not in tables(on_defaults.warehouse)


def test_an_as_of_date_before_the_data_fails_saying_what_happened_to_the_lines(tmp_path):
    path = write_csv(tmp_path / "lines.csv", UCI, ordinary_lines(40, 660000, 0))
    output = failed_build(
        tmp_path, {"raw_transactions_path": str(path), "as_of_date": "2009-01-01"}
    )
    assert "No customers to segment" in output and "after_as_of_date 40" in output
    assert "as-of date 2009-01-01" in output
    assert "customers" not in tables(Warehouse(tmp_path))


# ---------------------------------------------------------------------------
# The pre-flight's record counter, directly.
# ---------------------------------------------------------------------------


def count_with_csv_module(text: str) -> int:
    return sum(1 for row in csv.reader(io.StringIO(text)) if row) - 1


@pytest.mark.parametrize("chunk_bytes", [7, 64, 1 << 20])
def test_the_record_counter_agrees_with_a_csv_reader_across_chunk_boundaries(
    chunk_bytes, monkeypatch, tmp_path
):
    monkeypatch.setattr(source_audit, "CHUNK_BYTES", chunk_bytes)
    text = (
        'a,b,c\r\n1,"x\r\ny",3\r\n\r\n2,"he said ""hi""",4\n\n3,",",5\n4,"",6\n5,"multi\n\nline",7'
    )
    path = tmp_path / "records.csv"
    path.write_text(text, newline="")
    audit = source_audit.audit_csv(str(path), {"x": "a"}, ",", "utf-8")
    assert audit.problems == []
    assert audit.records == count_with_csv_module(text) == 5


def test_the_record_counter_counts_the_demo_like_duckdb(tmp_path):
    audit = source_audit.audit_csv(str(DEMO), dict(zip(UCI, UCI, strict=True)), ",", "utf-8")
    with duckdb.connect() as connection:
        staged = connection.sql(
            f"select count(*) from read_csv('{DEMO}', header = true, all_varchar = true)"
        ).fetchone()[0]
    # The bundled demo's line count: 65,986 lines of the shop plus 3,688 of its simulated
    # autumn campaign (make demo-data regenerates both).
    assert audit.records == staged == 69674
    assert audit.columns == UCI


def test_mixed_csv_and_parquet_in_one_glob_is_refused(tmp_path):
    write_csv(tmp_path / "a.csv", UCI, ordinary_lines(2, 1, 0))
    with duckdb.connect() as connection:
        connection.execute(
            f"copy (select 1 as InvoiceNo) to '{tmp_path / 'b.parquet'}' (format parquet)"
        )
    with pytest.raises(source_audit.SourceError, match="mixes CSV and Parquet"):
        source_audit.audit_source(str(tmp_path / "*"), {"invoice_no": "InvoiceNo"})


def test_a_gzip_that_is_whole_is_read_and_counted(tmp_path):
    path = tmp_path / "whole.csv.gz"
    rows = ordinary_lines(10, 1, 0)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, UCI, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(gzip.compress(buffer.getvalue().encode()))
    audits = source_audit.audit_source(str(path), dict(zip(UCI, UCI, strict=True)))
    assert [audit.records for audit in audits] == [10]
