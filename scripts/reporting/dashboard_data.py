"""What the dashboard (scripts/reporting/dashboard.py) shows, as pure functions Streamlit
only draws.

The dashboard reads the Parquet export of the published warehouse, never the DuckDB
file: it holds no DuckDB lock, cannot write, and keeps working while a build runs (a
build writes a new directory and swaps the link; the files a publication holds never
change). The link is resolved once per load, so every table comes from the same
publication.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from scripts import marts
from scripts.devtools import publish

# The marts the dashboard needs, and the optional ones it shows when a build makes them
# (declared with every other reader's in scripts/marts.py).
REQUIRED = tuple(name for name, s in marts.DASHBOARD.items() if not s.optional)
OPTIONAL = tuple(name for name, s in marts.DASHBOARD.items() if s.optional)

LIST_COLUMNS = (
    "customer_id",
    "country",
    "rfm_segment",
    "cluster_name",
    "recommended_action",
    "recency_days",
    "frequency",
    "monetary",
    "net_monetary",
    "return_rate",
    "is_high_returner",
    "is_control_group",
)
HIGH_RETURNERS = ("all", "only", "exclude")


class DashboardError(Exception):
    """No publication to show; the message says which setting or command fixes it."""


@dataclass
class Marts:
    directory: Path  # the publication's Parquet directory, resolved
    build_id: str
    frames: dict[str, pd.DataFrame]

    @property
    def settings(self) -> dict:
        return self.frames["segmentation_settings"].iloc[0].to_dict()


def parquet_directory(environ: dict[str, str] | None = None) -> Path:
    """The published Parquet export: $SEGMENTATION_PARQUET_PATH, else next to the published
    DuckDB file ($SEGMENTATION_DUCKDB_PATH or segmentation.duckdb)."""
    environ = os.environ if environ is None else environ
    if environ.get("SEGMENTATION_PARQUET_PATH"):
        return Path(environ["SEGMENTATION_PARQUET_PATH"])
    published = publish.published_path(environ)
    return publish.parquet_path(published)


def resolve(link: Path) -> tuple[Path, str]:
    """The publication directory the link points at now, and its build id."""
    if not link.exists():
        raise DashboardError(
            f"no published marts at {link}: run `make build` first, or set "
            "SEGMENTATION_DUCKDB_PATH (or SEGMENTATION_PARQUET_PATH) to a published warehouse"
        )
    directory = link.resolve()
    try:
        build_id = json.loads((directory / "publication.json").read_text())["build_id"]
    except (OSError, ValueError, KeyError):
        build_id = directory.parent.name
    return directory, build_id


def load(directory: Path, build_id: str) -> Marts:
    """Every mart of one publication, read from its Parquet files (in memory, no file written)."""
    missing = [m for m in REQUIRED if not (directory / f"{m}.parquet").is_file()]
    if missing:
        raise DashboardError(
            f"the publication in {directory} has no {', '.join(missing)}: rebuild with `make build`"
        )
    frames = {}
    with duckdb.connect() as connection:
        for mart in REQUIRED + OPTIONAL:
            path = directory / f"{mart}.parquet"
            if path.is_file():
                source = f"read_parquet('{path}')"
                frames[mart] = marts.read(connection, marts.DASHBOARD[mart], source)
    for frame in frames.values():
        for column in frame.columns:
            # Money is DECIMAL in the marts: plain floats for display and CSV.
            if frame[column].dtype == object and len(frame) and _is_decimal(frame[column]):
                frame[column] = frame[column].astype(float)
    return Marts(directory, build_id, frames)


def _is_decimal(column: pd.Series) -> bool:
    from decimal import Decimal

    first = column.dropna()
    return not first.empty and isinstance(first.iloc[0], Decimal)


def customer_list(marts: Marts) -> pd.DataFrame:
    """Every customer with the campaign's control-group flag, one row each."""
    customers = marts.frames["customers"]
    audience = marts.frames["campaign_audience"][["customer_id", "is_control_group"]]
    frame = customers.merge(audience, on="customer_id", how="left", validate="one_to_one")
    frame["is_control_group"] = frame["is_control_group"].fillna(False).astype(bool)
    return frame[list(LIST_COLUMNS)].sort_values("customer_id").reset_index(drop=True)


def filter_customers(
    customers: pd.DataFrame,
    segments: list[str] | None = None,
    clusters: list[str] | None = None,
    countries: list[str] | None = None,
    high_returners: str = "all",
    include_control: bool = False,
) -> pd.DataFrame:
    """The customers matching every filter; an empty or None list means no filter on it.
    The control group is left out unless asked for: it must not be contacted."""
    if high_returners not in HIGH_RETURNERS:
        raise ValueError(f"high_returners must be one of {HIGH_RETURNERS}, not {high_returners!r}")
    keep = pd.Series(True, index=customers.index)
    if segments:
        keep &= customers["rfm_segment"].isin(segments)
    if clusters:
        keep &= customers["cluster_name"].isin(clusters)
    if countries:
        keep &= customers["country"].isin(countries)
    flag = customers["is_high_returner"].fillna(False).astype(bool)
    if high_returners == "only":
        keep &= flag
    elif high_returners == "exclude":
        keep &= ~flag
    if not include_control:
        keep &= ~customers["is_control_group"].astype(bool)
    return customers[keep].reset_index(drop=True)


def csv_bytes(customers: pd.DataFrame) -> bytes:
    """The download: the filtered list as CSV (UTF-8, header row, no index)."""
    return customers.to_csv(index=False).encode("utf-8")


def summary(customers: pd.DataFrame) -> dict:
    return {
        "customers": len(customers),
        "revenue": float(customers["monetary"].sum()),
        "high_returners": int(customers["is_high_returner"].fillna(False).astype(bool).sum()),
        "control_group": int(customers["is_control_group"].sum()),
    }


def options(customers: pd.DataFrame, column: str) -> list[str]:
    return sorted(customers[column].dropna().unique().tolist())


def from_query(params: dict[str, list[str]], choices: dict[str, list[str]]) -> dict:
    """Initial filters from the page URL (?segment=Champions&country=France&returners=only
    &control=1), so a filtered view can be shared as a link; unknown values are ignored."""
    return {
        "segments": [v for v in params.get("segment", []) if v in choices["segments"]],
        "clusters": [v for v in params.get("cluster", []) if v in choices["clusters"]],
        "countries": [v for v in params.get("country", []) if v in choices["countries"]],
        "high_returners": next(
            (v for v in params.get("returners", []) if v in HIGH_RETURNERS), "all"
        ),
        "include_control": params.get("control", ["0"])[-1] in ("1", "true", "yes"),
    }
