"""The segment history on the demo, against independent computations: pandas from the clean
lines for every snapshot's recency, frequency and monetary value, scikit-learn for the
stability figures; and the history clustering function on its own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from customer_segmentation.clustering.assignment import assign_clusters
from customer_segmentation.clustering.features import settings_from_config
from customer_segmentation.clustering.history import ModelMismatchError, assign_history


def test_every_snapshot_matches_pandas_on_the_lines(demo_warehouse):
    lines = demo_warehouse.frame(
        "select customer_id, invoice_no, invoice_date, line_amount from purchase_lines"
    )
    history = demo_warehouse.frame(
        "select snapshot_date, customer_id, recency_days, frequency, monetary, "
        "first_purchase_date, last_purchase_date from customer_segment_history"
    )
    snapshots = sorted(history["snapshot_date"].unique())
    assert len(snapshots) >= 12
    lines["invoice_date"] = pd.to_datetime(lines["invoice_date"])
    # Millionths as integers: exact sums, rounded to the cent like the warehouse does.
    lines["micros"] = lines["line_amount"].astype(str).map(lambda v: round(float(v) * 10**6))
    for snapshot in snapshots:
        day = pd.Timestamp(snapshot)
        before = lines[lines["invoice_date"] < day]
        expected = before.groupby("customer_id").agg(
            frequency=("invoice_no", "nunique"),
            micros=("micros", "sum"),
            first_purchase_date=("invoice_date", "min"),
            last_purchase_date=("invoice_date", "max"),
        )
        expected["recency_days"] = (day - expected["last_purchase_date"]).dt.days
        # Rounded half away from zero to the cent, as a cast to decimal(18, 2) does.
        expected["monetary_cents"] = np.floor(expected["micros"] / 10**4 + 0.5).astype("int64")
        got = history[history["snapshot_date"] == snapshot].set_index("customer_id")
        assert sorted(got.index) == sorted(expected.index), snapshot
        got = got.loc[expected.index]
        assert (got["recency_days"].to_numpy() == expected["recency_days"].to_numpy()).all()
        assert (got["frequency"].to_numpy() == expected["frequency"].to_numpy()).all()
        got_cents = np.round(got["monetary"].astype(float).to_numpy() * 100).astype("int64")
        assert (got_cents == expected["monetary_cents"].to_numpy()).all(), snapshot
        assert (pd.to_datetime(got["first_purchase_date"]) == expected["first_purchase_date"]).all()


def test_stability_matches_scikit_learn(demo_warehouse):
    from sklearn.metrics import adjusted_rand_score

    history = demo_warehouse.frame(
        "select snapshot_date, customer_id, rfm_segment, cluster_name from customer_segment_history"
    )
    stability = demo_warehouse.frame("select * from segment_stability order by snapshot_date")
    snapshots = sorted(history["snapshot_date"].unique())
    assert len(stability) == len(snapshots) - 1
    for row in stability.itertuples():
        now = history[history["snapshot_date"] == row.snapshot_date]
        before = history[history["snapshot_date"] == row.previous_snapshot_date]
        both = before.merge(now, on="customer_id", suffixes=("_before", "_now"))
        assert row.customers_in_both == len(both)
        for column, share, ari in (
            ("rfm_segment", row.rfm_segment_kept_share, row.rfm_segment_ari),
            ("cluster_name", row.cluster_kept_share, row.cluster_ari),
        ):
            kept = (both[f"{column}_before"] == both[f"{column}_now"]).mean()
            assert share == pytest.approx(kept)
            expected = adjusted_rand_score(both[f"{column}_before"], both[f"{column}_now"])
            assert ari == pytest.approx(expected, abs=1e-9)


def test_migration_and_moves_to_act_on(demo_warehouse):
    moves = demo_warehouse.frame("select * from segment_moves_to_act_on")
    history = demo_warehouse.frame(
        "select snapshot_date, customer_id, rfm_segment, monetary from customer_segment_history"
    )
    last, previous = sorted(history["snapshot_date"].unique())[-1:-3:-1]
    pair = history[history["snapshot_date"] == previous].merge(
        history[history["snapshot_date"] == last], on="customer_id", suffixes=("_before", "")
    )
    dropped = pair[
        pair["rfm_segment_before"].isin(["Champions", "Loyal", "Can't Lose Them"])
        & pair["rfm_segment"].isin(
            ["Can't Lose Them", "At Risk", "About to Sleep", "Hibernating", "Lost"]
        )
        & (pair["rfm_segment_before"] != pair["rfm_segment"])
    ]
    assert sorted(moves["customer_id"]) == sorted(dropped["customer_id"])
    assert moves["recommended_action"].notna().all()
    assert moves.sort_values("value_rank")["value_at_stake"].is_monotonic_decreasing


def test_customers_carry_their_segment_changes(demo_warehouse):
    history = demo_warehouse.frame(
        "select snapshot_date, customer_id, rfm_segment from customer_segment_history "
        "order by customer_id, snapshot_date"
    )
    customers = demo_warehouse.frame(
        "select customer_id, rfm_segment, previous_rfm_segment, rfm_segment_changed_on, "
        "periods_in_rfm_segment from customers"
    ).set_index("customer_id")
    changed = 0
    for customer_id, rows in history.groupby("customer_id"):
        segments = rows["rfm_segment"].tolist()
        run = 1
        while run < len(segments) and segments[-run - 1] == segments[-1]:
            run += 1
        row = customers.loc[customer_id]
        assert row["rfm_segment"] == segments[-1]
        assert row["periods_in_rfm_segment"] == run
        assert pd.Timestamp(row["rfm_segment_changed_on"]) == pd.Timestamp(
            rows["snapshot_date"].iloc[-run]
        )
        previous = segments[-run - 1] if run < len(segments) else None
        got = None if pd.isna(row["previous_rfm_segment"]) else row["previous_rfm_segment"]
        assert got == previous
        changed += previous is not None
    assert changed > 0


SETTINGS = {
    **settings_from_config({"fit_sample_size": 60, "n_init": 2, "knn_neighbors": 5}),
    "high_returner_threshold": 0.2,
}
NAMES = {
    "archetypes": {
        "VIP": (1.0, 1.0, 1.0),
        "Lapsed": (0.0, 0.0, 0.0),
        "Middle": (0.5, 0.5, 0.5),
    },
    "high_returners": "High Returners",
    "single_cluster": "Everyone",
}


def customers_frame(rng, n):
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:03d}" for i in range(n)],
            "recency_days": rng.integers(1, 365, n),
            "frequency": rng.integers(1, 30, n),
            "monetary": rng.gamma(2.0, 300.0, n).round(2),
            "matched_return_amount": 0.0,
            "return_rate": 0.0,
        }
    )


def test_history_of_today_is_todays_clusters():
    rng = np.random.default_rng(7)
    today = customers_frame(rng, 150)
    clusters = assign_clusters(today, 3, SETTINGS, NAMES)
    earlier = today.sample(frac=0.6, random_state=1).assign(
        recency_days=lambda d: d["recency_days"] + 30, frequency=lambda d: d["frequency"] // 2
    )
    history = pd.concat(
        [today.assign(snapshot_date="2011-12-10"), earlier.assign(snapshot_date="2011-11-01")]
    )
    assigned = assign_history(history, today, clusters, SETTINGS)
    assert len(assigned) == len(history)
    latest = assigned[assigned["snapshot_date"] == pd.Timestamp("2011-12-10")]
    merged = latest.merge(clusters, on="customer_id", suffixes=("", "_today"))
    # Everyone, in the fit sample or not, gets today's cluster on today's features.
    assert len(merged) == len(today)
    assert (merged["cluster_id"] == merged["cluster_id_today"]).all()
    assert (merged["cluster_name"] == merged["cluster_name_today"]).all()
    # The past is labelled with today's clusters only.
    assert set(assigned["cluster_id"]) <= set(clusters["cluster_id"])


def test_history_single_cluster_and_mismatch():
    rng = np.random.default_rng(3)
    today = customers_frame(rng, 40)
    single = assign_clusters(today, 1, SETTINGS, NAMES)
    history = today.assign(snapshot_date="2011-06-01")
    assigned = assign_history(history, today, single, SETTINGS)
    assert (assigned["cluster_name"] == "Everyone").all()
    clusters = assign_clusters(today, 2, SETTINGS, NAMES)
    with pytest.raises(ModelMismatchError):
        # Other settings draw another fit sample: not the model that labelled today.
        assign_history(history, today, clusters, {**SETTINGS, "fit_sample_size": 20})
    assert assign_history(history.iloc[:0], today, clusters, SETTINGS).empty
