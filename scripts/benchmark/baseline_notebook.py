"""The notebook way, as a baseline for the benchmark: pandas + scikit-learn in one process.

What a typical customer-segmentation notebook does with the raw export, step by step:

1. read the whole file into a DataFrame (all columns as text, as exported);
2. drop lines without a customer, exact duplicates and cancellations (``C`` invoices),
   keep positive quantities and prices;
3. RFM per customer: recency (days from the last purchase to the day after the last
   line), frequency (distinct invoices), monetary (sum of quantity x price);
4. quantile scores 1-5 (``pd.qcut`` on ranks);
5. log1p + StandardScaler on (recency, frequency, monetary);
6. K-Means for every k in 2-8 on **every customer**, silhouette on a sample;
7. a final K-Means fit with the best k.

The cleaning is deliberately simpler than the dbt project's (no non-product codes, no
outliers, no returns matching): it is what notebooks do, and it is what the benchmark
compares the project against. Run alone on a file, it prints one JSON object with the
time of each step, the wall time, the peak memory (``ru_maxrss``) and the customers:

    python -m scripts.benchmark.baseline_notebook bench-data/lines_1000000.parquet
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from scripts.benchmark import subprocess_cli
from scripts.demo_data.generate_transactions import COLUMNS, DATE_FORMATS

# The generator's default date format (what the benchmark generates).
DATE_FORMAT = DATE_FORMATS["us"]
K_VALUES = range(2, 9)
SILHOUETTE_SAMPLE = 10_000
RANDOM_STATE = 42
N_INIT = 10


def read_lines(path: str | Path) -> pd.DataFrame:
    """The whole export in memory, every column as text (object dtype, as pandas reads it)."""
    path = Path(path)
    if path.name.endswith(".parquet"):
        return pd.read_parquet(path, columns=list(COLUMNS))
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def clean_lines(lines: pd.DataFrame) -> pd.DataFrame:
    """Drop empty customers, exact duplicates and cancellations; keep positive lines."""
    lines = lines.dropna(subset=["CustomerID"])
    lines = lines.drop_duplicates()
    lines = lines[~lines["InvoiceNo"].str.startswith("C")]
    quantity = pd.to_numeric(lines["Quantity"], errors="coerce")
    price = pd.to_numeric(lines["UnitPrice"], errors="coerce")
    keep = (quantity > 0) & (price > 0)
    return pd.DataFrame(
        {
            "customer_id": lines.loc[keep, "CustomerID"].str.replace(r"\.0+$", "", regex=True),
            "invoice_no": lines.loc[keep, "InvoiceNo"],
            "invoiced_at": pd.to_datetime(
                lines.loc[keep, "InvoiceDate"], format=DATE_FORMAT, errors="coerce"
            ),
            "amount": quantity[keep] * price[keep],
        }
    ).dropna(subset=["invoiced_at"])


def rfm_table(clean: pd.DataFrame) -> pd.DataFrame:
    """Recency, frequency, monetary per customer, as of the day after the last line."""
    snapshot = clean["invoiced_at"].max().normalize() + pd.Timedelta(days=1)
    rfm = clean.groupby("customer_id").agg(
        last=("invoiced_at", "max"),
        frequency=("invoice_no", "nunique"),
        monetary=("amount", "sum"),
    )
    rfm["recency"] = (snapshot - rfm.pop("last").dt.normalize()).dt.days
    return rfm[["recency", "frequency", "monetary"]]


def rfm_scores(rfm: pd.DataFrame, bins: int = 5) -> pd.DataFrame:
    """Quantile scores 1..bins (ranks first, so ties cannot make qcut fail); R reversed."""
    scores = pd.DataFrame(index=rfm.index)
    for column, reverse in (("recency", True), ("frequency", False), ("monetary", False)):
        labels = list(range(bins, 0, -1)) if reverse else list(range(1, bins + 1))
        ranked = rfm[column].rank(method="first")
        scores[column[0].upper()] = pd.qcut(ranked, min(bins, len(rfm)), labels=labels[: len(rfm)])
    return scores.astype(int)


def scaled_features(rfm: pd.DataFrame) -> np.ndarray:
    from sklearn.preprocessing import StandardScaler

    return StandardScaler().fit_transform(np.log1p(rfm.clip(lower=0).to_numpy(dtype=float)))


def k_search(points: np.ndarray, k_values=K_VALUES) -> list[dict]:
    """K-Means on every customer for each k, silhouette on a seeded sample."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    results = []
    sample = SILHOUETTE_SAMPLE if len(points) > SILHOUETTE_SAMPLE else None
    for k in k_values:
        if k >= len(points):
            break
        model = KMeans(n_clusters=k, n_init=N_INIT, random_state=RANDOM_STATE).fit(points)
        silhouette = silhouette_score(
            points, model.labels_, sample_size=sample, random_state=RANDOM_STATE
        )
        results.append({"k": k, "inertia": float(model.inertia_), "silhouette": float(silhouette)})
    return results


def final_fit(points: np.ndarray, search: list[dict]) -> np.ndarray:
    from sklearn.cluster import KMeans

    best = max(search, key=lambda row: row["silhouette"])["k"] if search else 1
    return KMeans(n_clusters=best, n_init=N_INIT, random_state=RANDOM_STATE).fit_predict(points)


def run(path: str | Path, clock: Callable[[], float] = time.perf_counter) -> dict:
    """The whole notebook on one file; returns the timings (seconds) and counts."""
    steps: dict[str, float] = {}
    start = last = clock()

    def step(name: str) -> None:
        nonlocal last
        now = clock()
        steps[name] = round(now - last, 3)
        last = now

    lines = read_lines(path)
    n_lines = len(lines)
    step("read")
    clean = clean_lines(lines)
    del lines
    step("clean")
    rfm = rfm_table(clean)
    n_clean = len(clean)
    del clean
    step("rfm")
    scores = rfm_scores(rfm)
    step("scores")
    points = scaled_features(rfm)
    step("scale")
    search = k_search(points)
    step("kmeans_k_search")
    labels = final_fit(points, search)
    step("kmeans_final_fit")
    return {
        "status": "ok",
        "path": str(path),
        "lines": n_lines,
        "clean_lines": n_clean,
        "customers": len(rfm),
        "chosen_k": int(labels.max() + 1) if len(labels) else 0,
        "champions": int(((scores["R"] >= 4) & (scores["F"] >= 4)).sum()),
        "k_search": search,
        "steps": steps,
        "wall_seconds": round(clock() - start, 3),
        "peak_rss_bytes": subprocess_cli.peak_rss_bytes(),
    }


def main(argv: list[str] | None = None) -> int:
    return subprocess_cli.main(__doc__.splitlines()[0], run, argv)


if __name__ == "__main__":
    sys.exit(main())
