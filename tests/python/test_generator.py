"""Tests of scripts/demo_data/generate_transactions.py: format contract, determinism,
quirks, scale."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scripts.demo_data import generate_transactions as gen

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo" / "online_retail_demo.csv.gz"
HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"


def read_csv(path: Path) -> pd.DataFrame:
    """Every field as text, empty fields as empty strings (no NaN guessing)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def table_frame(tables: list[pa.Table]) -> pd.DataFrame:
    frame = pa.concat_tables(tables).to_pandas()
    return frame.fillna("").astype(str)


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    frame = read_csv(DEMO)
    frame["qty"] = frame.Quantity.astype(int)
    frame["price"] = frame.UnitPrice.astype(float)
    frame["ts"] = pd.to_datetime(frame.InvoiceDate, format=gen.DATE_FORMATS["us"])
    frame["is_c"] = frame.InvoiceNo.str.startswith("C")
    frame["guest"] = frame.CustomerID == ""
    return frame


@pytest.fixture(scope="module")
def purchases(demo) -> pd.DataFrame:
    """Customer purchase lines (not cancellations, not bad-debt adjustments)."""
    return demo[~demo.is_c & ~demo.guest & demo.InvoiceNo.str.fullmatch(r"\d{6}")]


# ------------------------------------------------------------------ format contract


def test_demo_header_is_the_contract():
    with gzip.open(DEMO, "rt", encoding="utf-8") as handle:
        assert handle.readline().rstrip("\n") == HEADER
    assert ",".join(gen.COLUMNS) == HEADER


def test_demo_file_is_small():
    assert DEMO.stat().st_size < 2_000_000


def test_csv_quoting_is_minimal_and_standard(tmp_path):
    out = tmp_path / "q.csv"
    gen.write(out, 3000, 5)
    text = out.read_text(encoding="utf-8")
    assert re.search(r'^\d{6},\w+,"[^"\n]*,[^"\n]*",', text, re.M), "comma fields are quoted"
    assert '""' in text, "quotes inside fields are doubled"
    assert not re.search(r'^"', text, re.M), "plain fields are not quoted"
    assert read_csv(out).shape[1] == 8


def test_chunks_are_string_tables():
    tables = list(gen.generate_chunks(2000, 1))
    assert all(t.schema == gen.SCHEMA for t in tables)
    assert all(pa.types.is_string(field.type) for field in gen.SCHEMA)


# -------------------------------------------------------------------- determinism


def test_bundled_demo_equals_fresh_default_run(tmp_path):
    out = tmp_path / "demo.csv.gz"
    gen.main(["--out", str(out)])
    with gzip.open(DEMO, "rb") as a, gzip.open(out, "rb") as b:
        assert a.read() == b.read()


def test_same_arguments_give_identical_bytes(tmp_path):
    paths = [tmp_path / f"{name}.csv.gz" for name in "ab"]
    for path in paths:
        gen.write(path, 20_000, 3, chunk_customers=100)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    gen.write(tmp_path / "c.csv.gz", 20_000, 4, chunk_customers=100)
    assert (tmp_path / "c.csv.gz").read_bytes() != paths[0].read_bytes()


def test_parquet_holds_the_same_rows_as_csv(tmp_path):
    gen.write(tmp_path / "t.csv", 20_000, 9, chunk_customers=80)
    stats = gen.write(tmp_path / "t.parquet", 20_000, 9, chunk_customers=80)
    parquet = pq.ParquetFile(tmp_path / "t.parquet")
    assert parquet.schema_arrow == gen.SCHEMA
    assert parquet.metadata.num_row_groups == stats["chunks"] > 1
    from_parquet = parquet.read().to_pandas().fillna("")
    pd.testing.assert_frame_equal(from_parquet, read_csv(tmp_path / "t.csv"))


# -------------------------------------------------------------------- the quirks


def test_cancellations_are_c_invoices_with_negative_quantity(demo):
    assert 0.01 <= demo.is_c.mean() <= 0.03
    assert (demo.qty[demo.is_c] < 0).all()
    assert demo.InvoiceNo.str.fullmatch(r"[CA]?\d{6}").all()


def test_cancellations_mostly_reverse_an_earlier_purchase(demo, purchases):
    cancels = demo[demo.is_c & ~demo.guest & demo.StockCode.str.match(r"\d{5}")]
    first_buy = purchases.groupby(["CustomerID", "StockCode"]).ts.min().rename("bought")
    matched = cancels.join(first_buy, on=["CustomerID", "StockCode"])
    earlier = matched.bought <= matched.ts
    assert 0.75 <= earlier.mean() < 1.0, "most refer to a purchase, some predate the window"
    # A matched cancellation takes back at most what was bought, at the same price.
    bought = purchases.groupby(["CustomerID", "StockCode"]).agg(q=("qty", "sum"))
    both = matched[earlier].join(bought, on=["CustomerID", "StockCode"])
    assert (-both.qty <= both.q).mean() > 0.95
    sold = set(zip(purchases.CustomerID, purchases.StockCode, purchases.price, strict=True))
    keys = zip(both.CustomerID, both.StockCode, both.price, strict=True)
    assert sum(key in sold for key in keys) / len(both) > 0.95


def test_stock_adjustments(demo):
    adjust = demo[~demo.is_c & (demo.qty < 0)]
    assert len(adjust) >= 20
    assert (adjust.price == 0).all() and adjust.guest.all()
    assert {"check", "Damaged", "?", ""} <= set(adjust.Description)


def test_exact_duplicates_about_one_percent(demo):
    share = demo.duplicated(subset=list(gen.COLUMNS)).mean()
    assert 0.006 <= share <= 0.02


def test_a_quarter_of_lines_without_customer(demo):
    assert 0.20 <= demo.guest.mean() <= 0.30
    # Guests are whole invoices: no invoice mixes empty and filled CustomerID.
    assert (demo.groupby("InvoiceNo").guest.nunique() == 1).all()


def test_non_product_codes(demo):
    codes = set(demo.StockCode)
    expected = {"POST", "DOT", "C2", "M", "m", "D", "S", "AMAZONFEE", "BANK CHARGES", "CRUK"}
    assert expected | {"PADS", "B", "gift_0001_20", "DCGS0004"} <= codes
    assert set(demo.Description[demo.StockCode == "M"]) == {"Manual"}
    bad_debt = demo[demo.StockCode == "B"]
    assert bad_debt.InvoiceNo.str.startswith("A").all() and len(bad_debt) == 3
    assert (demo.price[demo.StockCode == "PADS"] == 0.001).all()


def test_prices(demo):
    assert ((demo.price == 0) & ~demo.guest & ~demo.is_c & (demo.qty > 0)).sum() >= 2
    assert set(demo.StockCode[demo.price < 0]) == {"B"}
    assert ((demo.price == 38970.0) & (demo.StockCode == "M")).sum() == 1
    assert (demo.UnitPrice == "38970.0").sum() == 1
    assert (demo.price == 5942.57).sum() == 1
    products = demo[demo.StockCode.str.match(r"\d{5}") & (demo.price > 0)]
    assert 1.0 <= products.price.median() <= 4.0
    per_price = products.groupby(["StockCode", "price"]).size()
    modal = per_price.groupby(level=0).max() / per_price.groupby(level=0).sum()
    assert modal.mean() > 0.95, "a stock code keeps its price, with rare variation"


def test_extreme_quantities(demo):
    pair = demo[demo.qty.abs() == 80995].sort_values("ts")
    assert list(pair.qty) == [80995, -80995]
    assert pair.StockCode.nunique() == 1 and pair.CustomerID.nunique() == 1
    assert pd.Timedelta(0) < pair.ts.iloc[1] - pair.ts.iloc[0] < pd.Timedelta(hours=1)
    first = demo[demo.CustomerID == "12346.0"]
    assert sorted(first.qty) == [-74215, 74215]
    assert ((demo.qty == 12540) & (demo.price == 0)).sum() == 1


def test_countries(demo):
    countries = set(demo.Country)
    assert {"United Kingdom", "Germany", "France", "EIRE", "Unspecified"} <= countries
    assert "European Community" in countries and len(countries) >= 30
    assert 0.85 <= (demo.Country == "United Kingdom").mean() <= 0.95
    per_customer = demo[~demo.guest].groupby("CustomerID").Country.nunique()
    assert (per_customer > 1).mean() < 0.02


def test_float_style_customer_ids(demo):
    ids = demo.CustomerID[~demo.guest]
    assert ids.str.fullmatch(r"\d{5,}\.0").all()
    assert ids.str[:-2].astype(int).min() == 12346


def test_codes_and_descriptions(demo):
    products = demo.StockCode[~demo.StockCode.isin(["POST", "DOT", "M", "m", "D", "S"])]
    assert products.str.fullmatch(r"\d{5}[A-Za-z]{0,2}").mean() > 0.95
    descs = demo.Description
    assert descs.str.contains(",").any() and descs.str.contains('"').any()
    assert descs.str.endswith(" ").any() and (descs == "").any()
    catalogue = descs[demo.StockCode.str.match(r"\d{5}") & (demo.price > 0)]
    assert (catalogue == catalogue.str.upper()).mean() > 0.99


def test_invoices(demo):
    per_invoice = demo.groupby("InvoiceNo")
    assert (per_invoice[["InvoiceDate", "CustomerID", "Country"]].nunique() == 1).all().all()
    numbers = demo.InvoiceNo.str.lstrip("CA").astype(int)
    assert numbers.min() == 536365
    assert demo.groupby(numbers).InvoiceNo.nunique().max() == 1, "C/A numbers are not reused"
    firsts = demo.drop_duplicates("InvoiceNo")
    assert firsts.ts.is_monotonic_increasing, "numbered in time order"
    # Product orders only: cancellations and stock adjustments are small by nature.
    kinds = (
        demo.assign(neg=demo.qty < 0)
        .groupby("InvoiceNo")
        .agg(c=("is_c", "first"), neg=("neg", "all"), size=("qty", "size"))
    )
    sizes = kinds["size"][~kinds.c & ~kinds.neg]
    assert 12 <= sizes.mean() <= 22 and sizes.max() <= 130


def test_calendar(demo):
    assert demo.ts.min() >= pd.Timestamp("2010-12-01") and demo.ts.max() < pd.Timestamp(
        "2011-12-10"
    )
    assert demo.ts.dt.hour.between(7, 20).all()
    assert (demo.ts.dt.day_of_week != 5).all(), "the shop never invoiced on Saturdays"
    orders = demo.drop_duplicates("InvoiceNo").ts.dt.to_period("M").value_counts()
    # The peak is November, except for the months the demo's simulated campaign lifts.
    campaign = [pd.Period("2011-09"), pd.Period("2011-10")]
    assert orders[pd.Period("2011-11")] == orders.drop(campaign).max()
    assert orders[pd.Period("2011-02")] * 1.5 < orders[pd.Period("2011-10")]


def test_purchase_frequency_is_heavy_tailed(purchases):
    invoices = purchases.groupby("CustomerID").InvoiceNo.nunique()
    assert (invoices == 1).mean() >= 0.30
    assert invoices.max() >= 50
    spend = (purchases.qty * purchases.price).groupby(purchases.CustomerID).sum()
    top_decile = spend.nlargest(len(spend) // 10).sum() / spend.sum()
    assert top_decile > 0.4, "a minority spends a lot"


# ---------------------------------------------------------------------- options


@pytest.mark.parametrize("style", sorted(gen.DATE_FORMATS))
def test_date_formats_parse_back_to_the_same_instants(style):
    reference = table_frame(list(gen.generate_chunks(3000, 11)))
    frame = table_frame(list(gen.generate_chunks(3000, 11, date_format=style)))
    parsed = [dt.datetime.strptime(v, gen.DATE_FORMATS[style]) for v in frame.InvoiceDate]
    expected = [dt.datetime.strptime(v, gen.DATE_FORMATS["us"]) for v in reference.InvoiceDate]
    assert parsed == expected
    pattern = {
        "us": r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d",
        "us2": r"\d{1,2}/\d{1,2}/\d\d \d{1,2}:\d\d",
        "eu": r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d",
        "iso": r"\d{4}-\d\d-\d\d \d\d:\d\d:00",
    }[style]
    assert frame.InvoiceDate.str.fullmatch(pattern).all()
    if style != "iso":
        assert frame.InvoiceDate.str.match(r"\d/").any(), "no zero padding"


def test_first_instant_formats():
    day = dt.date(2010, 12, 1)
    assert gen.day_strings([day], "us") == ["12/1/2010"]
    assert gen.day_strings([day], "us2") == ["12/1/10"]
    assert gen.day_strings([day], "eu") == ["1/12/2010"]
    assert gen.time_strings("us")[8 * 60 + 26] == "8:26"
    assert gen.time_strings("iso")[16 * 60 + 20] == "16:20:00"


def test_integer_customer_ids_and_custom_window():
    frame = table_frame(
        list(
            gen.generate_chunks(
                5000,
                2,
                customer_id_style="int",
                start=dt.date(2012, 3, 1),
                end=dt.date(2012, 6, 30),
                date_format="iso",
            )
        )
    )
    ids = frame.CustomerID[frame.CustomerID != ""]
    assert ids.str.fullmatch(r"\d+").all()
    days = frame.InvoiceDate.str[:10]
    assert days.min() >= "2012-03-01" and days.max() <= "2012-06-30"


def test_invoice_numbers_unique_across_chunks():
    tables = list(gen.generate_chunks(40_000, 5, chunk_customers=60))
    assert len(tables) >= 5
    frame = table_frame(tables)
    numbers = frame.InvoiceNo.str.lstrip("CA").astype(int)
    assert frame.groupby(numbers).InvoiceNo.nunique().max() == 1
    per_invoice = frame.groupby("InvoiceNo")[["InvoiceDate", "CustomerID", "Country"]]
    assert (per_invoice.nunique() == 1).all().all()
    assert (frame.Quantity == "80995").sum() == 1, "landmark lines appear once"
    ids = frame.CustomerID[frame.CustomerID != ""].str[:-2].astype(int)
    assert ids.nunique() > 400


@pytest.mark.parametrize("lines", [5_000, 100_000])
def test_lines_is_approximate_size(lines):
    total = sum(t.num_rows for t in gen.generate_chunks(lines, 8))
    assert 0.85 * lines <= total <= 1.15 * lines


def test_format_is_inferred_from_the_extension(tmp_path):
    assert gen.infer_format(Path("x.csv.gz")) == "csv"
    assert gen.infer_format(Path("x.parquet")) == "parquet"
    with pytest.raises(ValueError):
        gen.infer_format(Path("x.json"))
    gen.main(["--lines", "2000", "--out", str(tmp_path / "x.parquet")])
    assert pq.read_metadata(tmp_path / "x.parquet").num_rows > 1000


# ---------------------------------------------------------------------- streaming

# VmHWM, not ru_maxrss: Linux carries the parent's peak into ru_maxrss across exec (and
# subprocess starts children with vfork), so a large pytest process would count as ours.
PEAK_RSS = """
import json, re, sys
from pathlib import Path
from scripts.demo_data.generate_transactions import write

def peak_mb():
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmHWM:\\s+(\\d+) kB", status, re.M).group(1)) / 1024

# A small run first: imports, allocator pools and one chunk's worth of memory.
write(sys.argv[1], 200_000, 1, chunk_customers=2000)
warm = peak_mb()
stats = write(sys.argv[1], int(sys.argv[2]), 1, chunk_customers=2000)
print(json.dumps(dict(stats, warm_mb=warm, peak_mb=peak_mb())))
"""


def test_streaming_keeps_memory_flat(tmp_path):
    """Ten times the lines of the warm-up run must not need noticeably more memory."""
    result = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, str(tmp_path / "t.parquet"), "2000000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    stats = json.loads(result.stdout)
    assert stats["chunks"] >= 10 and stats["lines"] > 1_700_000
    assert stats["peak_mb"] - stats["warm_mb"] < 100, stats
    assert stats["peak_mb"] < 1000, stats


# ---------------------------------------------------------------------- campaign


def test_a_simulated_campaign_only_adds_purchases_of_treated_customers_in_its_window():
    base = table_frame(list(gen.generate_chunks(30_000, 13)))
    customers = sorted({int(float(c)) for c in base.CustomerID if c})
    treated = frozenset(customers[::2])
    start, until = dt.date(2011, 6, 1), dt.date(2011, 8, 31)
    campaign = gen.SimulatedCampaign(start, until, 1.0, treated)
    lifted = table_frame(list(gen.generate_chunks(30_000, 13, campaign=campaign)))
    key = [column for column in gen.COLUMNS if column != "InvoiceNo"]
    counts = lifted.value_counts(key).sub(base.value_counts(key), fill_value=0)
    assert (counts >= 0).all(), "every line without the campaign is still there"
    added = counts[counts > 0].reset_index()
    assert len(added) > 100
    added_at = pd.to_datetime(added.InvoiceDate, format=gen.DATE_FORMATS["us"])
    assert added_at.between(pd.Timestamp(start), pd.Timestamp(until) + pd.Timedelta(days=1)).all()
    assert added.CustomerID.map(lambda c: int(float(c)) in treated).all()
    assert (added.Quantity.astype(int) > 0).all()
    # Twice the purchases in the window: the treated invoices there roughly double (less
    # first purchases of customers acquired in the window, which the campaign does not add).
    in_window = lambda frame: frame[  # noqa: E731
        pd.to_datetime(frame.InvoiceDate, format=gen.DATE_FORMATS["us"]).between(
            pd.Timestamp(start), pd.Timestamp(until) + pd.Timedelta(days=1)
        )
        & frame.CustomerID.map(lambda c: bool(c) and int(float(c)) in treated)
        & ~frame.InvoiceNo.str.startswith(("C", "A"))
    ].InvoiceNo.nunique()
    assert 1.6 <= in_window(lifted) / in_window(base) <= 2.4
