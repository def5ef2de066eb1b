"""The physical limit, as a benchmark column: the cleaning and RFM as one DuckDB query.

What the engine can do with the same file when nothing but the result is written: one
SQL statement parses every line with the project's casts (text to fixed decimals, the
date formats), finds exact duplicates, matches the non-product codes of the seed,
derives the as-of date and the IQR outlier thresholds, gives every line the project's
reason by the same precedence, and aggregates per customer (recency, frequency,
monetary, returns, quantile scores). No table is written per line, no test runs, no dbt.
The customers then go through the project's own sampled clustering work
(customer_segmentation.clustering: k selection with stability, the algorithm
comparison, the final labels with KNN), as the models do.

Simplifications, all in the limit's favour (it is a lower bound, not a second
pipeline): returns are matched per customer by value (capped at what the customer
bought), not per product and date; stray future dates are not looked for. Run alone:

    python -m scripts.benchmark.limit_query bench-data/lines_10000000_seed42.parquet

It prints one JSON object: the seconds of the query (with its conversion to pandas), of
the clustering, the wall time, the peak memory and the customers.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from customer_segmentation.project import project_vars
from scripts.benchmark import subprocess_cli

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "non_product_stock_codes.csv"
NAMES_SEED = ROOT / "seeds" / "cluster_names.csv"


def source_sql(path: str) -> str:
    if path.endswith(".parquet"):
        return f"read_parquet('{path}')"
    return f"read_csv('{path}', header = true, all_varchar = true, quote = '\"', escape = '\"')"


def limit_sql(path: str, settings: dict) -> str:
    """One statement from the raw file to one row per customer."""
    columns = settings["raw_columns"]
    formats = ", ".join(f"'{f}'" for f in settings["raw_invoice_date_formats"])
    prefix = settings["cancellation_invoice_prefix"]
    multiplier = settings["outlier_iqr_multiplier"]
    bins = settings["rfm_bins"]
    earliest = settings["earliest_valid_date"]

    def text(name: str) -> str:
        return f"nullif(trim(cast(\"{columns[name]}\" as varchar)), '')"

    return f"""
with
lines as (
    select
        {text("invoice_no")} as invoice_no,
        {text("stock_code")} as stock_code,
        {text("description")} as description,
        try_cast({text("quantity")} as decimal(18, 3)) as quantity,
        try_cast({text("unit_price")} as decimal(18, 6)) as unit_price,
        try_strptime({text("invoice_date")}, [{formats}]) as invoiced_at,
        regexp_replace({text("customer_id")}, '\\.0+$', '') as customer_id,
        {text("country")} as country
    from {source_sql(path)}
),
codes as (select upper(stock_code) as code, match_type from read_csv('{SEED}', header = true)),
non_product as (
    select distinct l.stock_code from (select distinct stock_code from lines) as l
    inner join codes on (codes.match_type = 'exact' and upper(l.stock_code) = codes.code)
        or (codes.match_type = 'prefix' and starts_with(upper(l.stock_code), codes.code))
),
flagged as (
    select
        lines.*,
        cast(lines.quantity * lines.unit_price as decimal(18, 6)) as line_amount,
        row_number() over (
            partition by invoice_no, lines.stock_code, description, quantity, unit_price,
                invoiced_at, customer_id, country
        ) > 1 as is_duplicate,
        non_product.stock_code is not null as is_non_product,
        coalesce(upper(left(invoice_no, {len(prefix)})) = upper('{prefix}'), false) as is_cancel
    from lines left join non_product on lines.stock_code = non_product.stock_code
),
as_of as (
    select cast(max(invoiced_at) as date) + 1 as as_of_date
    from flagged where invoiced_at >= date '{earliest}'
),
reasoned as (
    select flagged.*, as_of.as_of_date,
        case
            when invoiced_at is null or invoiced_at < date '{earliest}' then 'unparseable_date'
            when quantity is null or unit_price is null then 'unparseable_number'
            when is_duplicate then 'exact_duplicate'
            when cast(invoiced_at as date) >= as_of.as_of_date then 'after_as_of_date'
            when quantity < 0 and customer_id is null and unit_price = 0 then 'stock_adjustment'
            when customer_id is null then 'missing_customer'
            when is_non_product then 'non_product'
            when is_cancel and quantity > 0 then 'cancellation_positive_quantity'
            when quantity = 0 then 'zero_quantity'
            when unit_price <= 0 then 'invalid_price'
            when is_cancel or quantity < 0 then 'return'
            else 'candidate'
        end as reason
    from flagged cross join as_of
),
thresholds as (
    select
        exp(q[2] + {multiplier} * (q[2] - q[1])) as quantity_threshold,
        exp(a[2] + {multiplier} * (a[2] - a[1])) as amount_threshold
    from (
        select
            quantile_cont(ln(quantity), [0.25, 0.75]) as q,
            quantile_cont(ln(line_amount), [0.25, 0.75]) as a
        from reasoned where reason = 'candidate'
    )
),
classified as (
    select reasoned.*,
        case
            when reason = 'candidate' and (quantity > quantity_threshold
                or line_amount > amount_threshold) then 'outlier'
            when reason = 'candidate' then 'clean'
            when reason = 'return' and (abs(quantity) > quantity_threshold
                or abs(line_amount) > amount_threshold) then 'outlier'
            else reason
        end as status
    from reasoned cross join thresholds
),
per_customer as (
    select
        customer_id,
        any_value(as_of_date) as as_of_date,
        max(case when status = 'clean' then invoiced_at end) as last_purchase,
        count(distinct case when status = 'clean' then invoice_no end) as frequency,
        sum(case when status = 'clean' then line_amount end) as monetary,
        sum(case when status = 'return' then abs(line_amount) end) as returned_amount
    from classified
    where status in ('clean', 'return')
    group by customer_id
),
rfm as (
    select
        customer_id,
        as_of_date - cast(last_purchase as date) as recency_days,
        frequency,
        cast(monetary as double) as monetary,
        cast(least(coalesce(returned_amount, 0), monetary) as double) as matched_return_amount,
        coalesce(least(coalesce(returned_amount, 0), monetary) / nullif(monetary, 0), 0)
            as return_rate
    from per_customer
    where frequency > 0
)
select
    *,
    ntile({bins}) over (order by recency_days desc) as r_score,
    ntile({bins}) over (order by frequency) as f_score,
    ntile({bins}) over (order by monetary) as m_score
from rfm
"""


def clustering_settings(settings: dict) -> dict:
    from customer_segmentation.clustering.features import VAR_NAMES, settings_from_config

    typed = settings_from_config({key: settings[var] for key, var in VAR_NAMES.items()})
    typed["high_returner_threshold"] = float(settings["high_returner_threshold"])
    return typed


def cluster(customers: pd.DataFrame, settings: dict) -> int:
    """The models' clustering on the customers: selection, comparison, labels."""
    import sklearn.cluster  # noqa: F401  (loaded before the thread limit, as in the models)
    import sklearn.metrics  # noqa: F401
    import sklearn.mixture  # noqa: F401
    import sklearn.neighbors  # noqa: F401
    from threadpoolctl import threadpool_limits

    from customer_segmentation.clustering.assignment import assign_clusters
    from customer_segmentation.clustering.comparison import compare_algorithms
    from customer_segmentation.clustering.naming import seed_names
    from customer_segmentation.clustering.selection import select_k

    customers = customers.sort_values("customer_id", kind="stable").reset_index(drop=True)
    names = seed_names(pd.read_csv(NAMES_SEED))
    with threadpool_limits(limits=settings["threads"]):
        selection = select_k(customers, settings)
        chosen = selection.loc[selection["is_chosen"], "k"]
        k = int(chosen.iloc[0]) if len(chosen) else None
        compare_algorithms(customers, settings, k)
        clusters = assign_clusters(customers, k, settings, names)
    return int(clusters["cluster_id"].nunique())


def run(path: str | Path, memory_limit: str = "12GB") -> dict:
    import duckdb

    settings = project_vars()
    start = time.perf_counter()
    with duckdb.connect(config={"memory_limit": memory_limit}) as connection:
        connection.execute("set preserve_insertion_order = false")
        customers = connection.sql(limit_sql(str(Path(path).resolve()), settings)).df()
    query_seconds = time.perf_counter() - start
    clusters = cluster(customers, clustering_settings(settings))
    wall = time.perf_counter() - start
    return {
        "status": "ok",
        "path": str(path),
        "customers": len(customers),
        "clusters": clusters,
        "query_seconds": round(query_seconds, 3),
        "clustering_seconds": round(wall - query_seconds, 3),
        "wall_seconds": round(wall, 3),
        "peak_rss_bytes": subprocess_cli.peak_rss_bytes(),
    }


def main(argv: list[str] | None = None) -> int:
    return subprocess_cli.main(__doc__.splitlines()[0], run, argv)


if __name__ == "__main__":
    sys.exit(main())
