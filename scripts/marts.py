"""The warehouse as everything outside dbt sees it: the marts, and only the marts.

Which marts exist and which columns they have is dbt's business: `mart_nodes` reads them
from dbt's manifest (target/manifest.json), the publisher exports exactly those, and
tests/python/test_marts.py fails when a selection below names a table that is not a mart
or a column the mart does not have. The selections are the one declared place where a
reader (report, summary, dashboard, campaign export, benchmark) says what it reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import duckdb
import pandas as pd

DEFAULT_MANIFEST = Path("target") / "manifest.json"
MART_MATERIALIZATIONS = ("table", "incremental", "view")


class ManifestError(Exception):
    """dbt's manifest cannot be read; the message names the file and what to run."""


def load_manifest(path: Path = DEFAULT_MANIFEST) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise ManifestError(
            f"cannot read dbt's manifest {path}: {error} (run `dbt parse` or `make build`)"
        ) from None


def mart_nodes(manifest: dict) -> dict[str, dict]:
    """The models of models/marts (the tables a build makes for users), by relation name."""
    return {
        node.get("alias") or node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["fqn"][1:2] == ["marts"]
        and node["config"].get("materialized") in MART_MATERIALIZATIONS
    }


def mart_names(manifest: dict) -> list[str]:
    return sorted(mart_nodes(manifest))


def mart_columns(manifest: dict) -> dict[str, list[str]]:
    """Each mart's documented (contracted) columns, in the yml's order."""
    return {name: list(node["columns"]) for name, node in mart_nodes(manifest).items()}


def model_notes(manifest: dict) -> dict[str, str]:
    """Every model's `meta.cost`: why it costs what it does, quoted by the benchmark page.
    Only that key: a description says what a model holds, not why it is slow, and may name
    intermediate models, which no page outside dbt names."""
    notes = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        meta = {**node.get("meta", {}), **node.get("config", {}).get("meta", {})}
        if meta.get("cost"):
            notes[node["name"]] = " ".join(meta["cost"].strip().rstrip(".").split())
    return notes


def model_domains(manifest: dict) -> dict[str, str]:
    """Every model's folder under models/ (`staging`, `intermediate/rfm`, `marts`, ...): the
    project's domains, by which the benchmark page groups what the intermediate models cost."""
    return {
        node["name"]: "/".join(node["fqn"][1:-1]) or "models"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }


class Selection(NamedTuple):
    """What a reader takes from one mart."""

    mart: str
    columns: tuple[str, ...]
    order_by: str = ""
    where: str = ""  # may hold `?` parameters, passed to `read`
    group_by: bool = False  # the last column is count(*) as that name, grouped by the rest
    optional: bool = False  # the reader copes without it (older builds, optional features)
    aggregate: str = ""  # "sum" or "count": one number over the first column

    def sql(self, source: str | None = None) -> str:
        source = source or self.mart
        where = f" where {self.where}" if self.where else ""
        if self.aggregate:
            return f"select {self.aggregate}({self.columns[0]}) from {source}{where}"
        if self.group_by:
            *keys, count = self.columns
            return (
                f"select {', '.join(keys)}, count(*) as {count} from {source}{where}"
                " group by all order by all"
            )
        order = f" order by {self.order_by}" if self.order_by else ""
        return f"select {', '.join(self.columns)} from {source}{where}{order}"


def read(
    connection: duckdb.DuckDBPyConnection,
    selection: Selection,
    source: str | None = None,
    parameters: list | None = None,
) -> pd.DataFrame:
    """The selection as a frame. Money is DECIMAL in the marts: cast to double here, so that
    frames hold plain floats whatever the DuckDB-to-pandas conversion of DECIMAL does."""
    relation = connection.sql(selection.sql(source), params=parameters)
    casts = [
        f'cast("{name}" as double) as "{name}"'
        if str(kind).upper().startswith("DECIMAL")
        else f'"{name}"'
        for name, kind in zip(relation.columns, relation.types)
    ]
    return relation.select(", ".join(casts)).df()


def existing_tables(connection: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        name
        for (name,) in connection.sql(
            "select table_name from information_schema.tables where table_schema = current_schema()"
        ).fetchall()
    }


def read_all(
    connection: duckdb.DuckDBPyConnection, selections: dict[str, Selection]
) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Every selection of a reader; a mart the warehouse lacks gives an empty frame, and is
    listed as missing unless the selection is optional."""
    existing = existing_tables(connection)
    frames, missing = {}, []
    for name, selection in selections.items():
        if selection.mart in existing:
            frames[name] = read(connection, selection)
        else:
            frames[name] = pd.DataFrame(columns=list(selection.columns))
            if not selection.optional:
                missing.append(selection.mart)
    return frames, sorted(set(missing))


def problems(selections: dict[str, Selection], manifest: dict) -> list[str]:
    """Selections naming a table that is not a mart, or a column the mart lacks."""
    columns = mart_columns(manifest)
    found = []
    for name, selection in selections.items():
        if selection.mart not in columns:
            found.append(f"{name}: {selection.mart} is not a mart (models/marts)")
            continue
        known = set(columns[selection.mart]) | {"*"}
        # A group-by selection's last column is the count it makes, not a mart column.
        wanted = selection.columns[:-1] if selection.group_by else selection.columns
        found += [
            f"{name}: mart {selection.mart} has no column {column}"
            for column in wanted
            if column not in known
        ]
    return found


def _select(mart: str, columns: str, order_by: str = "", **options) -> Selection:
    return Selection(mart, tuple(columns.split()), order_by, **options)


# ---------------------------------------------------------------- what each reader reads

# scripts/reporting/report.py
REPORT = {
    "customers": _select(
        "customers",
        "customer_id as_of_date recency_days frequency monetary r_score fm_score rfm_segment"
        " cluster_id cluster_name country rfm_segment_description return_rate"
        " is_high_returner matched_return_amount",
        "customer_id",
    ),
    "k_selection": _select(
        "cluster_k_selection",
        "k inertia silhouette smallest_cluster_share is_eligible is_elbow is_chosen"
        " selection_rule note",
        "k",
    ),
    "segments": _select(
        "segment_summary",
        "segment_type segment_name customers customer_share revenue revenue_share"
        " median_recency_days median_frequency median_monetary return_rate recommended_action",
        "segment_type, segment_name",
    ),
    "clusters": _select(
        "cluster_profiles", "cluster_id cluster_name description recommended_action", "cluster_id"
    ),
    "crosstab": _select(
        "segment_cluster_crosstab",
        "rfm_segment cluster_id cluster_name customers revenue",
        "rfm_segment, cluster_id",
    ),
    "audience": _select(
        "campaign_audience",
        "rfm_segment cluster_name is_high_returner is_control_group customers",
        group_by=True,
    ),
    "cleaning": _select(
        "cleaning_summary",
        "line_status reason_code rule lines line_share amount precedence",
        "precedence, reason_code",
    ),
    "settings": _select(
        "segmentation_settings",
        "as_of_date as_of_date_is_configured last_transaction_date currency"
        " high_returner_threshold control_group_share",
    ),
    "clv_backtest": _select(
        "clv_backtest",
        "population frequency_group frequency_group_label is_total customers predicted_purchases"
        " actual_purchases error relative_error relative_error_lower relative_error_upper"
        " calibration_date as_of_date holdout_days",
        "population desc, frequency_group",
    ),
    "clv_fit": _select(
        "clv_fit",
        "fit_scope fitter bgnbd_customers frequency_value_correlation fit_problem",
        "fit_scope",
    ),
    "churn_risk": _select("churn_risk_audience", "is_control_group customers", group_by=True),
    "campaign_summary": _select(
        "campaign_summary",
        "campaign_id campaign_name start_date end_date measured_until audience_snapshot_date"
        " treated_customers control_customers measurement_status incremental_revenue"
        " incremental_revenue_lower incremental_revenue_upper conclusion",
        "start_date desc, campaign_id",
    ),
    "campaign_results": _select(
        "campaign_results",
        "campaign_id metric treated_value control_value relative_lift relative_lift_lower"
        " relative_lift_upper absolute_lift absolute_lift_lower absolute_lift_upper p_value"
        " minimum_detectable_relative_lift conclusion",
        "campaign_id, metric",
    ),
    # Segment sizes per snapshot (one row per snapshot_date, segment_type and segment_name).
    "history": _select(
        "segment_history",
        "snapshot_date segment_type segment_name customers",
        "snapshot_date, segment_type, segment_name",
        optional=True,
    ),
    "migration": _select(
        "segment_migration",
        "snapshot_date previous_snapshot_date segment_type from_segment to_segment movement"
        " customers monetary",
        "snapshot_date, segment_type, from_segment, to_segment",
        optional=True,
    ),
    "stability": _select(
        "segment_stability",
        "snapshot_date previous_snapshot_date customers_in_both rfm_segment_kept_share"
        " cluster_kept_share rfm_segment_ari cluster_ari",
        "snapshot_date",
        optional=True,
    ),
    "moves": _select(
        "segment_moves_to_act_on",
        "customer_id previous_rfm_segment rfm_segment recency_days frequency value_at_stake"
        " recommended_action value_rank",
        "value_rank",
        optional=True,
    ),
}

# scripts/reporting/summary.py: what `make build` prints.
SUMMARY = {
    "settings": _select("segmentation_settings", "as_of_date last_transaction_date currency"),
    "cleaning": _select(
        "cleaning_summary",
        "line_status reason_code lines customers amount precedence",
        "precedence",
    ),
    "segments": _select(
        "segment_summary",
        "segment_name customers customer_share revenue_share",
        "revenue desc",
        where="segment_type = 'rfm_segment'",
    ),
    "clusters": _select(
        "cluster_profiles",
        "cluster_id cluster_name customers customer_share revenue_share median_recency_days"
        " median_frequency median_monetary",
        "cluster_id",
    ),
    "k": _select(
        "cluster_k_selection", "k silhouette selection_rule note", where="is_chosen", optional=True
    ),
}

# scripts/reporting/dashboard_data.py: whole marts, from the publication's Parquet files.
DASHBOARD = {
    name: Selection(name, ("*",), optional=name == "campaign_results")
    for name in (
        "customers",
        "campaign_audience",
        "segment_summary",
        "cluster_profiles",
        "segmentation_settings",
        "campaign_results",
    )
}

# scripts/reporting/export_campaign.py: the treated arm for a CRM.
CAMPAIGNS = _select("campaign_summary", "campaign_id is_audience_frozen", "campaign_id")
CAMPAIGN_EXPORT = _select(
    "campaign_members",
    "customer_id rfm_segment cluster_name recommended_action",
    "customer_id",
    where="campaign_id = ? and arm = 'treated'",
)

# scripts/benchmark/bench.py: what a build made, counted from the marts.
BENCH_COUNTS = {
    "lines": _select("cleaning_summary", "lines", aggregate="sum"),
    "customers": _select("customers", "customer_id", aggregate="count"),
    "clean_lines": _select("purchase_lines", "transaction_line_id", aggregate="count"),
}

READERS = {
    "report": REPORT,
    "summary": SUMMARY,
    "dashboard": DASHBOARD,
    "campaign_export": {"campaigns": CAMPAIGNS, "members": CAMPAIGN_EXPORT},
    "benchmark": BENCH_COUNTS,
}
