"""Tests of scripts/marts.py: every reader outside dbt reads marts only, and only columns
the marts have (from dbt's manifest of the demo build)."""

from __future__ import annotations

import duckdb
import pytest

from scripts import marts


@pytest.fixture(scope="module")
def manifest(demo_warehouse):
    return marts.load_manifest(demo_warehouse.directory / "target" / "manifest.json")


@pytest.mark.parametrize("reader", sorted(marts.READERS))
def test_every_selection_names_a_mart_and_its_columns(manifest, reader):
    assert marts.problems(marts.READERS[reader], manifest) == []


def test_a_selection_of_an_intermediate_model_or_unknown_column_is_reported(manifest):
    problems = marts.problems(
        {
            "upstream": marts.Selection("stg_shop__transactions", ("customer_id",)),
            "typo": marts.Selection("customers", ("customer_id", "recency_dayz")),
        },
        manifest,
    )
    assert problems == [
        "upstream: stg_shop__transactions is not a mart (models/marts)",
        "typo: mart customers has no column recency_dayz",
    ]


def test_mart_names_are_the_models_of_models_marts(manifest):
    names = marts.mart_names(manifest)
    assert {"customers", "segment_summary", "cleaning_summary"} <= set(names)
    assert not [name for name in names if name.startswith(("stg_", "int_"))]


def test_every_selection_runs_on_the_demo_and_money_comes_back_as_floats(demo_warehouse):
    with duckdb.connect(str(demo_warehouse.path), read_only=True) as connection:
        frames, missing = marts.read_all(connection, marts.REPORT)
        counts = {
            name: connection.sql(selection.sql()).fetchone()[0]
            for name, selection in marts.BENCH_COUNTS.items()
        }
    assert missing == []
    assert frames["customers"]["monetary"].dtype == "float64"
    assert counts["lines"] == frames["cleaning"]["lines"].sum() > counts["clean_lines"] > 0


def test_model_notes_are_meta_cost_only_and_domains_the_model_folders():
    manifest = {
        "nodes": {
            "model.p.a": {
                "resource_type": "model",
                "name": "a",
                "description": "First sentence. Second one.",
                "config": {"meta": {}},
            },
            "model.p.b": {
                "resource_type": "model",
                "name": "b",
                "description": "Ignored.",
                "config": {"meta": {"cost": "it reads every line."}},
            },
        }
    }
    assert marts.model_notes(manifest) == {"b": "it reads every line"}
    manifest["nodes"]["model.p.a"]["fqn"] = ["p", "intermediate", "rfm", "a"]
    manifest["nodes"]["model.p.b"]["fqn"] = ["p", "marts", "b"]
    assert marts.model_domains(manifest) == {"a": "intermediate/rfm", "b": "marts"}
