"""The analyses in analyses/ compile, answer with rows and agree with the marts.

They are compiled into a target directory of their own, so the shared demo
build's artifacts (run_results.json, manifest.json) stay as the build left them.
The compile uses the build's profile (its DuckDB path) and starts from the
build's partial_parse.msgpack, so dbt does not parse the project again.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml
from dbt_project_runner import DBT, ROOT

ANALYSES = (
    "best_customers",
    "churn_risk_customers",
    "growth_potential_customers",
    "high_returners",
    "segments_by_country",
)

# What the analyses fall back on while a var is not set in dbt_project.yml.
ANALYSIS_VAR_DEFAULTS = {
    "analysis_top_n": 100,
    "analysis_best_segments": ["Champions"],
    "analysis_best_clusters": ["VIP"],
    "analysis_churn_risk_segments": ["At Risk", "Can't Lose Them", "About to Sleep"],
    "analysis_growth_segments": ["Potential Loyalist", "Promising", "New"],
    "analysis_growth_clusters": ["Growth Potential"],
}

CENT = Decimal("0.01")


def project_var(warehouse, name: str):
    """The value dbt used for a var: the build's --vars, else dbt_project.yml, else the default."""
    project_vars = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
    if name in warehouse.vars:
        return warehouse.vars[name]
    if name in project_vars:
        return project_vars[name]
    return ANALYSIS_VAR_DEFAULTS[name]


def fetch(connection, sql: str) -> tuple[list[str], list[dict]]:
    relation = connection.sql(sql)
    columns = relation.columns
    return columns, [dict(zip(columns, row, strict=True)) for row in relation.fetchall()]


def compile_analyses(warehouse, directory: Path) -> Path:
    """dbt compile of the analyses against the warehouse, into directory/target."""
    target = directory / "target"
    target.mkdir(parents=True, exist_ok=True)
    partial_parse = warehouse.directory / "target" / "partial_parse.msgpack"
    if partial_parse.exists():
        shutil.copy(partial_parse, target)
    env = warehouse.reader_env()
    command = [
        str(DBT),
        "compile",
        "--select",
        "resource_type:analysis",
        "--target-path",
        str(target),
        "--log-path",
        str(directory / "logs"),
    ]
    if warehouse.vars:
        command += ["--vars", json.dumps(warehouse.vars)]
    with warehouse.held_open():
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout[-6000:]}"
    return target / "compiled" / "customer_segmentation" / "analyses"


@pytest.fixture(scope="module")
def compiled(demo_warehouse, tmp_path_factory) -> dict[str, str]:
    """Compiled SQL of every analysis, by name."""
    folder = compile_analyses(demo_warehouse, tmp_path_factory.mktemp("analyses"))
    return {name: (folder / f"{name}.sql").read_text() for name in ANALYSES}


@pytest.fixture(scope="module")
def results(demo_warehouse, compiled) -> dict[str, tuple[list[str], list[dict]]]:
    """Every analysis run against the demo warehouse: its column names and rows."""
    with duckdb.connect(str(demo_warehouse.path), read_only=True) as connection:
        return {name: fetch(connection, sql) for name, sql in compiled.items()}


@pytest.fixture(scope="module")
def customers(demo_warehouse) -> dict[str, dict]:
    """The customers mart, by customer id."""
    with duckdb.connect(str(demo_warehouse.path), read_only=True) as connection:
        _, rows = fetch(connection, "select * from customers")
    return {row["customer_id"]: row for row in rows}


def in_groups(customer: dict, segments: set, clusters: set = frozenset()) -> bool:
    return customer["rfm_segment"] in segments or customer["cluster_name"] in clusters


def expected_count(warehouse, eligible: int) -> int:
    top_n = project_var(warehouse, "analysis_top_n")
    return min(top_n, eligible) if top_n else eligible


def assert_top_by(rows: list[dict], eligible: list[dict], column: str, mart_column: str) -> None:
    """rows are sorted by column, descending, and nobody left out ranks above the last one."""
    values = [row[column] for row in rows]
    assert values == sorted(values, reverse=True)
    listed = {row["customer_id"] for row in rows}
    left_out = [c[mart_column] for c in eligible if c["customer_id"] not in listed]
    if left_out:
        assert max(left_out) <= values[-1]


@pytest.mark.parametrize("name", ANALYSES)
def test_analysis_has_a_header_and_rows(name, compiled, results):
    assert compiled[name].lstrip().startswith("/*"), "the header comment survives compilation"
    assert f"dbt compile --select {name}" in compiled[name]
    _, rows = results[name]
    assert rows, f"{name} returned no rows on the demo data"


@pytest.mark.parametrize("name", [name for name in ANALYSES if name != "segments_by_country"])
def test_lists_are_ranked_in_order(name, results):
    _, rows = results[name]
    assert [row["list_rank"] for row in rows] == list(range(1, len(rows) + 1))


def test_analyses_are_documented(results):
    """Every analysis, and every column it returns, in order, is described in _analyses.yml."""
    properties = yaml.safe_load((ROOT / "analyses" / "_analyses.yml").read_text())
    documented = {analysis["name"]: analysis for analysis in properties["analyses"]}
    assert set(documented) == set(ANALYSES)
    for name, (columns, _) in results.items():
        described = documented[name]["columns"]
        assert documented[name]["description"], name
        assert all(column["description"] for column in described), name
        assert [column["name"] for column in described] == columns, name


def segment_and_cluster_list(warehouse, results, customers, kind: str):
    """The rows of the list chosen by the vars analysis_<kind>_segments and _clusters
    (kind "best": best_customers, "growth": growth_potential_customers), after checking
    its length and its is_<kind>_rfm_segment / is_<kind>_cluster flags; and the customers
    eligible for it."""
    name = {"best": "best_customers", "growth": "growth_potential_customers"}[kind]
    _, rows = results[name]
    segments = set(project_var(warehouse, f"analysis_{kind}_segments"))
    clusters = set(project_var(warehouse, f"analysis_{kind}_clusters"))
    eligible = [c for c in customers.values() if in_groups(c, segments, clusters)]
    assert len(rows) == expected_count(warehouse, len(eligible))
    for row in rows:
        customer = customers[row["customer_id"]]
        assert row[f"is_{kind}_rfm_segment"] == (customer["rfm_segment"] in segments)
        assert row[f"is_{kind}_cluster"] == (customer["cluster_name"] in clusters)
        assert row[f"is_{kind}_rfm_segment"] or row[f"is_{kind}_cluster"]
    return rows, eligible


def test_best_customers(demo_warehouse, results, customers):
    rows, eligible = segment_and_cluster_list(demo_warehouse, results, customers, "best")
    for row in rows:
        assert row["net_monetary"] == customers[row["customer_id"]]["net_monetary"]
    assert_top_by(rows, eligible, "net_monetary", "net_monetary")


def test_churn_risk_customers(demo_warehouse, results, customers):
    _, rows = results["churn_risk_customers"]
    segments = set(project_var(demo_warehouse, "analysis_churn_risk_segments"))
    eligible = [c for c in customers.values() if in_groups(c, segments)]
    assert len(rows) == expected_count(demo_warehouse, len(eligible))
    for row in rows:
        customer = customers[row["customer_id"]]
        assert row["rfm_segment"] == customer["rfm_segment"]
        assert row["rfm_segment"] in segments
        assert row["value_at_stake"] == customer["net_monetary"]
    assert_top_by(rows, eligible, "value_at_stake", "net_monetary")


def test_growth_potential_customers(demo_warehouse, results, customers):
    rows, eligible = segment_and_cluster_list(demo_warehouse, results, customers, "growth")
    # Most recent first: nobody left out bought more recently than the last one listed.
    recencies = [row["recency_days"] for row in rows]
    assert recencies == sorted(recencies)
    listed = {row["customer_id"] for row in rows}
    left_out = [c["recency_days"] for c in eligible if c["customer_id"] not in listed]
    if left_out:
        assert min(left_out) >= recencies[-1]


def test_high_returners(demo_warehouse, results, customers):
    _, rows = results["high_returners"]
    threshold = project_var(demo_warehouse, "high_returner_threshold")
    eligible = [c for c in customers.values() if c["is_high_returner"]]
    assert len(rows) == expected_count(demo_warehouse, len(eligible))
    for row in rows:
        customer = customers[row["customer_id"]]
        assert customer["is_high_returner"]
        assert row["return_rate"] >= threshold
        assert row["matched_return_amount"] == customer["matched_return_amount"]
    assert_top_by(rows, eligible, "matched_return_amount", "matched_return_amount")


def test_segments_by_country(results, customers):
    _, rows = results["segments_by_country"]
    keys = [(row["country"], row["rfm_segment"]) for row in rows]
    assert len(keys) == len(set(keys))
    assert sum(row["customers"] for row in rows) == len(customers)
    revenue = sum(row["revenue"] for row in rows)
    assert abs(revenue - sum(c["monetary"] for c in customers.values())) < CENT
    for country in {row["country"] for row in rows}:
        in_country = [row for row in rows if row["country"] == country]
        assert sum(row["country_customer_share"] for row in in_country) == pytest.approx(1)
        assert sum(row["country_revenue_share"] for row in in_country) == pytest.approx(1)
        counted = sum(1 for c in customers.values() if c["country"] == country)
        assert sum(row["customers"] for row in in_country) == counted
