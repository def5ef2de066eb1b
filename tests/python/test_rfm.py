"""RFM values checked by an independent pandas computation; scores and segments by config."""

from __future__ import annotations

import pandas as pd
from conftest import DIRTY_VARS
from dbt_project_runner import FIXTURES

RFM_QUERY = (
    "select customer_id, recency_days, frequency, monetary from customers order by customer_id"
)


def pandas_rfm(lines: pd.DataFrame, as_of: pd.Timestamp) -> list[tuple]:
    """Recency, frequency and monetary from clean purchase lines, written apart from the SQL."""
    lines = lines.assign(
        day=pd.to_datetime(lines["invoiced_at"]).dt.normalize(),
        value=lines["quantity"].astype(float) * lines["unit_price"].astype(float),
    )
    per_customer = lines.groupby("customer_id").agg(
        last_day=("day", "max"), frequency=("invoice_no", "nunique"), monetary=("value", "sum")
    )
    return [
        (customer, (as_of - row.last_day).days, row.frequency, round(row.monetary, 2))
        for customer, row in per_customer.sort_index().iterrows()
    ]


def as_tuples(rows: list[tuple]) -> list[tuple]:
    return [(c, r, f, round(float(m), 2)) for c, r, f, m in rows]


def test_fixture_rfm_matches_pandas_on_the_lines_labelled_valid(dirty_warehouse):
    raw = pd.read_csv(FIXTURES / "dirty_transactions.csv", dtype=str)
    valid = raw[raw["ExpectedReason"] == "valid_purchase"]
    lines = pd.DataFrame(
        {
            "customer_id": valid["CustomerID"].str.replace(r"\.0$", "", regex=True),
            "invoice_no": valid["InvoiceNo"],
            "invoiced_at": pd.to_datetime(valid["InvoiceDate"], format="mixed"),
            "quantity": valid["Quantity"],
            "unit_price": valid["UnitPrice"],
        }
    )
    expected = pandas_rfm(lines, pd.Timestamp(DIRTY_VARS["as_of_date"]))
    assert as_tuples(dirty_warehouse.rows(RFM_QUERY)) == expected


def test_demo_rfm_matches_pandas_on_the_clean_lines(demo_warehouse):
    lines = demo_warehouse.frame(
        "select customer_id, invoice_no, invoiced_at, quantity, unit_price from purchase_lines"
    )
    as_of = pd.Timestamp(demo_warehouse.value("select as_of_date from segmentation_settings"))
    assert as_tuples(demo_warehouse.rows(RFM_QUERY)) == pandas_rfm(lines, as_of)


def test_every_customer_has_scores_in_range_and_exactly_one_segment(demo_warehouse):
    out_of_range = demo_warehouse.value(
        "select count(*) from customers where not (r_score between 1 and 5 "
        "and f_score between 1 and 5 and m_score between 1 and 5) or rfm_segment is null"
    )
    customers = demo_warehouse.value("select count(*) from customers")
    in_segments = demo_warehouse.value(
        "select sum(customers) from segment_summary where segment_type = 'rfm_segment'"
    )
    assert out_of_range == 0 and in_segments == customers


def test_demo_scores_spread_and_one_time_buyers_score_f1(demo_warehouse):
    scores = dict(demo_warehouse.rows("select f_score, count(*) from customers group by 1"))
    assert scores.get(1, 0) > 0 and max(scores) == 5
    one_time = demo_warehouse.rows("select distinct f_score from customers where frequency = 1")
    assert one_time == [(1,)]
