"""Prints what a build produced: lines read and where they went, customers, segments, clusters.

Run after a build (`make build` does): `python -m scripts.reporting.summary [--database PATH]`.
The published warehouse is opened read-only and closed before printing; only marts are read.
"""

from __future__ import annotations

import argparse
import sys

import duckdb
import pandas as pd

from scripts import marts
from scripts.devtools import publish


def rows(frame: pd.DataFrame) -> list[tuple]:
    """Plain tuples, None for a missing value; the marts' DATE columns as dates again."""
    frame = frame.copy()
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column].dt.date
    return list(frame.astype(object).where(frame.notna(), None).itertuples(index=False))


def fetch(database: str) -> dict[str, list[tuple]]:
    with duckdb.connect(database, read_only=True) as connection:
        frames, _ = marts.read_all(connection, marts.SUMMARY)
    cleaning = frames["cleaning"]
    # Statuses in the order of their first rule, lines and amount summed over the rules.
    statuses = (
        cleaning.groupby("line_status", sort=False)
        .agg(lines=("lines", "sum"), amount=("amount", "sum"), precedence=("precedence", "min"))
        .sort_values("precedence")
        .reset_index()[["line_status", "lines", "amount"]]
    )
    reasons = cleaning.loc[cleaning["lines"] > 0, ["line_status", "reason_code", "lines"]]
    reasons = reasons.join(cleaning[["customers", "amount"]])
    return {
        "as_of": rows(frames["settings"]),
        "statuses": rows(statuses),
        "reasons": rows(reasons),
        "segments": rows(frames["segments"]),
        "clusters": rows(frames["clusters"]),
        "k": rows(frames["k"]),
    }


FORMATS = {
    "text": str,
    "count": "{:,}".format,
    "share": "{:.1%}".format,
    "number": "{:,.1f}".format,
    "money": "{:,.2f}".format,
}


def table(columns: list[tuple[str, str]], rows: list[tuple]) -> str:
    """A plain-text table; `columns` are (header, format) pairs, formats from FORMATS."""
    cells = [
        ["" if value is None else FORMATS[kind](value) for value, (_, kind) in zip(row, columns)]
        for row in rows
    ]
    widths = [
        max([len(header)] + [len(r[i]) for r in cells]) for i, (header, _) in enumerate(columns)
    ]
    head = "  ".join(header.ljust(w) for (header, _), w in zip(columns, widths))
    body = [
        "  ".join(
            c.ljust(w) if kind == "text" else c.rjust(w)
            for c, w, (_, kind) in zip(r, widths, columns)
        )
        for r in cells
    ]
    return "\n".join([head, "  ".join("-" * w for w in widths), *body])


def render(results: dict[str, list[tuple]]) -> str:
    statuses = {status: (lines, amount) for status, lines, amount in results["statuses"]}
    raw_lines = sum(lines for lines, _ in statuses.values())
    customers = sum(row[1] for row in results["segments"])
    as_of, last_date, currency = results["as_of"][0] if results["as_of"] else (None, None, "")
    parts = [
        f"Lines read: {raw_lines:,}  (last dated line {last_date}, as-of date {as_of})",
        "  " + ", ".join(f"{status} {lines:,}" for status, (lines, _) in statuses.items()),
        "",
        "Where the lines went (cleaning_summary):",
        table(
            [
                ("status", "text"),
                ("reason", "text"),
                ("lines", "count"),
                ("customers", "count"),
                (f"value ({currency})", "money"),
            ],
            results["reasons"],
        ),
        "",
        f"Customers: {customers:,}",
        "",
        "RFM segments (segment_summary):",
        table(
            [
                ("segment", "text"),
                ("customers", "count"),
                ("share", "share"),
                ("revenue share", "share"),
            ],
            results["segments"],
        ),
    ]
    if results["k"]:
        k, silhouette, rule, note = results["k"][0]
        silhouette_text = "n/a" if silhouette is None else f"{silhouette:.3f}"
        parts += [
            "",
            f"K-Means clusters: k = {k} (silhouette {silhouette_text}; {rule})"
            + (f" [{note}]" if note else ""),
            table(
                [
                    ("id", "count"),
                    ("name", "text"),
                    ("customers", "count"),
                    ("share", "share"),
                    ("revenue share", "share"),
                    ("median R (days)", "number"),
                    ("median F", "number"),
                    (f"median M ({currency})", "money"),
                ],
                results["clusters"],
            ),
        ]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database",
        default=publish.published_path(),
        help="the published warehouse (default: $SEGMENTATION_DUCKDB_PATH or segmentation.duckdb)",
    )
    args = parser.parse_args(argv)
    print(render(fetch(str(args.database))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
