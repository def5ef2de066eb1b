"""Writes a campaign's treated customers for a CRM: who to contact, their segment, the action.

For marketers activating a campaign defined in `seeds/campaigns.csv`, after a build:

    python -m scripts.reporting.export_campaign autumn_reactivation_2011_09 --out treated.csv
    python -m scripts.reporting.export_campaign win_back_2011_06 --out treated.parquet

The control group is left out (it must not be contacted, or the campaign cannot be measured).
Reads the `campaign_members` mart of the published warehouse, read-only; CSV or Parquet by
the file's extension.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from scripts import cli, marts
from scripts.devtools import publish

COLUMNS = marts.CAMPAIGN_EXPORT.columns
FORMATS = {".csv": "(format csv, header true)", ".parquet": "(format parquet)"}


class ExportError(Exception):
    """An export that cannot be written; the message says why and what to do."""


def export(database: Path, campaign_id: str, out: Path) -> int:
    """Write the campaign's treated members to `out`; returns how many were written."""
    if out.suffix not in FORMATS:
        raise ExportError(f"{out}: write to a .csv or a .parquet file")
    if not database.exists():
        raise ExportError(f"{database} does not exist: run `make build` first")
    with duckdb.connect(str(database), read_only=True) as connection:
        known = connection.sql(marts.CAMPAIGNS.sql()).fetchall()
        frozen = dict(known)
        if campaign_id not in frozen:
            names = ", ".join(name for name, _ in known) or "none"
            raise ExportError(
                f"no campaign {campaign_id!r} in {database}; defined campaigns: {names} "
                "(add it to seeds/campaigns.csv and seeds/campaign_targets.csv, then build)"
            )
        treated = connection.execute(marts.CAMPAIGN_EXPORT.sql(), [campaign_id]).to_arrow_table()
        out.parent.mkdir(parents=True, exist_ok=True)
        connection.register("treated", treated)
        target = str(out).replace("'", "''")
        connection.execute(f"copy treated to '{target}' {FORMATS[out.suffix]}")
    if not frozen[campaign_id]:
        print(
            f"note: {campaign_id} has not started yet: its audience is today's segments and is "
            "frozen from the data of the day before its start",
            file=sys.stderr,
        )
    return treated.num_rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("campaign_id", help="a campaign_id of seeds/campaigns.csv")
    parser.add_argument("--out", type=Path, required=True, help="a .csv or .parquet file")
    parser.add_argument(
        "--database", type=Path, default=None, help="the warehouse (default: the published one)"
    )
    args = parser.parse_args(argv)
    database = args.database or publish.published_path()

    def run() -> str:
        written = export(database, args.campaign_id, args.out)
        return f"wrote {written:,} treated customers of {args.campaign_id} to {args.out}"

    return cli.finish(run, ExportError)


if __name__ == "__main__":
    sys.exit(main())
