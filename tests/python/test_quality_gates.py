"""The quality gates (scripts/devtools/quality_gates.py): the project passes them, and they fail
when they should.

- The project passes every gate: ruff, sqlfluff, dbt docs generate, 100% documentation
  and 100% of models tested, tested primary keys, dbt-bouncer conventions. The figures
  are printed at the end of the test run (plugin gates_report).
- On broken copies of the project, the runner fails and names the culprit: a model
  without a description, SQL breaking a lint rule, a model without data tests.
- Each generic test macro in macros/tests passes and fails when it should, on tiny
  models added to a copy of the project.

The catalog comes from `dbt docs generate` against the session's demo warehouse (never
rebuilt here); broken copies are only parsed and reuse that catalog.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import gates_report
import pytest
import yaml
from dbt_project_runner import ROOT, copy_project, run_dbt

from scripts.devtools import quality_gates


def run_gates(*args: str, project: Path = ROOT) -> subprocess.CompletedProcess:
    """The gate runner as CI runs it, as a command; output captured."""
    env = {key: value for key, value in os.environ.items() if key != "SEGMENTATION_DUCKDB_PATH"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.devtools.quality_gates",
            "--project-dir",
            str(project),
            *args,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def gate_status(output: str, gate: str) -> str:
    """The status word the summary prints for one gate: passed, FAILED or SKIPPED."""
    match = re.search(rf"^  {gate}\s+(\w+)", output, flags=re.M)
    return match.group(1) if match else "missing"


def figure(output: str, label: str) -> str:
    match = re.search(rf"^{re.escape(label)}: .*$", output, flags=re.M)
    return match.group(0) if match else f"{label}: not printed"


# ------------------------------------------------------- the project passes


@pytest.fixture(scope="session")
def gates_run(demo_warehouse, tmp_path_factory):
    """Every gate on the repository, docs generated against the demo warehouse."""
    work_dir = tmp_path_factory.mktemp("gates")
    # dbt docs generate starts from the demo build's parse: the same project, vars and
    # warehouse (the profile's connection, its path included, is part of what dbt checks).
    (work_dir / "target").mkdir()
    shutil.copy(demo_warehouse.directory / "target" / "partial_parse.msgpack", work_dir / "target")
    # Other tests read the shared warehouse meanwhile: docs generate opens it read-only.
    with demo_warehouse.held_open():
        result = run_gates("--warehouse", str(demo_warehouse.path), "--work-dir", str(work_dir))
    output = result.stdout + result.stderr
    gates_report.record(
        figure(output, "documentation coverage"),
        figure(output, "dbt-bouncer checks"),
        figure(output, "models with a tested primary key"),
        figure(output, "column test coverage (dbt-coverage, informational)"),
    )
    return result, output, work_dir


@pytest.mark.parametrize("gate", quality_gates.GATES)
def test_project_passes_gate(gates_run, gate):
    _, output, _ = gates_run
    assert gate_status(output, gate) == "passed", output[-8000:]


def test_gate_runner_exits_zero_and_prints_full_coverage(gates_run):
    result, output, _ = gates_run
    assert result.returncode == 0, output[-8000:]
    assert re.search(r"^documentation coverage: 100\.0% \((\d+)/\1 columns\)$", output, re.M)
    assert "All quality gates passed." in output


def test_docs_generate_wrote_the_catalog(gates_run):
    _, _, work_dir = gates_run
    for artifact in ("manifest.json", "catalog.json", "index.html"):
        assert (work_dir / "target" / artifact).is_file(), artifact


# --------------------------------------------------- the gates catch breakage


@pytest.fixture(scope="session")
def broken_copy(tmp_path_factory):
    """Returns a function: a fresh copy of the project for one test to break."""

    def make(name: str) -> Path:
        return copy_project(tmp_path_factory.mktemp(name) / "project")

    return make


def edit_yaml(path: Path, edit) -> None:
    document = yaml.safe_load(path.read_text())
    edit(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def model_entry(document: dict, name: str) -> dict:
    return next(model for model in document["models"] if model["name"] == name)


def manifest_gates(project: Path, gates_run, tmp_path: Path) -> subprocess.CompletedProcess:
    """The manifest and catalog gates on a copy: `dbt parse` of the copy, with the
    repository's catalog (the warehouse is the same), then coverage, keys, bouncer."""
    _, _, work_dir = gates_run
    run_dbt(tmp_path, "parse", project=project)
    shutil.copy(work_dir / "target" / "catalog.json", tmp_path / "target" / "catalog.json")
    return run_gates(
        "--artifacts-dir",
        str(tmp_path / "target"),
        "--only",
        "coverage",
        "--only",
        "keys",
        "--only",
        "bouncer",
        project=project,
    )


def test_gates_fail_when_a_model_or_a_source_column_loses_its_description(
    broken_copy, gates_run, tmp_path
):
    """A model's description is dbt-bouncer's check; a source column's is the runner's own
    (no tool covers declared source columns)."""
    project = broken_copy("no_description")
    edit_yaml(
        project / "models" / "marts" / "_marts.yml",
        lambda document: model_entry(document, "segment_summary").pop("description"),
    )
    edit_yaml(
        project / "models" / "staging" / "_sources.yml",
        lambda document: document["sources"][0]["tables"][0]["columns"][0].pop("description"),
    )
    result = manifest_gates(project, gates_run, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-8000:]
    assert gate_status(output, "bouncer") == "FAILED", output[-8000:]
    assert re.search(r"check_model_description_populated: .*segment_summary", output)
    assert gate_status(output, "coverage") == "FAILED", output[-8000:]
    assert re.search(r"source \w+\.\w+: column \S+ has no description", output), output[-8000:]
    assert "FAILED: " in output


def test_gates_fail_when_a_model_has_no_data_test(broken_copy, gates_run, tmp_path):
    project = broken_copy("no_tests")

    def drop_tests(document: dict) -> None:
        model = model_entry(document, "cluster_profiles")
        model.pop("data_tests", None)
        for column in model["columns"]:
            column.pop("data_tests", None)

    edit_yaml(project / "models" / "marts" / "_marts.yml", drop_tests)
    result = manifest_gates(project, gates_run, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-8000:]
    assert "cluster_profiles has no primary key tested unique and not null" in output
    assert re.search(r"check_model_has_tests_by_type: .*cluster_profiles", output)


def test_sqlfluff_fails_on_uppercase_keyword_and_trailing_comma(broken_copy):
    project = broken_copy("bad_sql")
    uppercase = project / "models" / "marts" / "cluster_k_selection.sql"
    trailing_comma = project / "models" / "marts" / "clv_seasonality.sql"
    text = uppercase.read_text()
    uppercase.write_text(text.replace("    select * from {{ ref(", "    SELECT * from {{ ref("))
    text = trailing_comma.read_text()
    last_column = "        cast(flat_reason as {{ dbt.type_string() }}) as flat_reason\n"
    assert last_column in text
    trailing_comma.write_text(text.replace(last_column, last_column.replace("\n", ",\n")))

    result = run_gates(
        "--only",
        "sqlfluff",
        "--sql-path",
        "models/marts/cluster_k_selection.sql",
        "--sql-path",
        "models/marts/clv_seasonality.sql",
        project=project,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-8000:]
    assert gate_status(output, "sqlfluff") == "FAILED"
    assert re.search(r"models/marts/cluster_k_selection\.sql:\d+:\d+: CP01 ", output), output
    assert re.search(r"models/marts/clv_seasonality\.sql:\d+:\d+: CV03 ", output), output


# ------------------------------------------- the generic tests, pass and fail

PROBE_MODELS = {
    # id, v (5, 10, 15), grp (a twice), w (a null in the middle).
    "probe": (
        "select 1 as id, 5 as v, 'a' as grp, 1 as w\n"
        "union all select 2, 10, 'a', null\n"
        "union all select 3, 15, 'b', 3\n"
    ),
    # Not built from probe: a failing test on probe would make dbt build skip them.
    "probe_same_rows": "select 1 as id union all select 2 union all select 3\n",
    "probe_two_rows": "select 1 as id union all select 2\n",
    "probe_one_row": "select 1 as id\n",
    # Unique ids with a gap: not the positions 1..n.
    "probe_gap": "select 1 as id union all select 3\n",
    # 7 three times, 9 twice, null twice: dbt's unique test ignores nulls.
    "probe_repeats": (
        "select 7 as value union all select 7 union all select 7 union all select 8\n"
        "union all select 9 union all select 9 union all select null union all select null\n"
    ),
}


def probe_test(test: str, name: str, arguments: dict | None = None) -> dict:
    config = {"name": name}
    if arguments is not None:
        config["arguments"] = arguments
    return {test: config}


PROBE_YAML = {
    "version": 2,
    "models": [
        {
            "name": "probe",
            "description": "Three rows the generic tests are tried on.",
            "data_tests": [
                probe_test(
                    "expression_is_true", "probe_expression_pass", {"expression": "v = id * 5"}
                ),
                probe_test("expression_is_true", "probe_expression_fail", {"expression": "v > 5"}),
                probe_test(
                    "equal_row_count",
                    "probe_equal_row_count_pass",
                    {"compare_model": "ref('probe_same_rows')"},
                ),
                probe_test(
                    "equal_row_count",
                    "probe_equal_row_count_fail",
                    {"compare_model": "ref('probe_two_rows')"},
                ),
                probe_test(
                    "unique_combination_of_columns",
                    "probe_unique_combination_pass",
                    {"combination_of_columns": ["grp", "id"]},
                ),
                probe_test(
                    "unique_combination_of_columns",
                    "probe_unique_combination_fail",
                    {"combination_of_columns": ["grp"]},
                ),
                probe_test("exactly_one_row", "probe_exactly_one_row_fail"),
                probe_test(
                    "not_null_columns",
                    "probe_not_null_columns_pass",
                    {"columns": ["id", "v", "grp"]},
                ),
                {
                    "not_null_columns": {
                        "name": "probe_not_null_columns_fail",
                        "arguments": {"columns": ["id", "w", "v"]},
                        "config": {"store_failures": True},
                    }
                },
            ],
            "columns": [
                {
                    "name": "id",
                    "description": "Row id.",
                    "data_tests": [
                        probe_test("unique", "probe_unique_pass"),
                        probe_test(
                            "unique_line_ids",
                            "probe_line_ids_sequential_pass",
                            {"sequential": True},
                        ),
                    ],
                },
                {
                    "name": "v",
                    "description": "5, 10, 15.",
                    "data_tests": [
                        probe_test(
                            "accepted_range",
                            "probe_accepted_range_pass",
                            {"min_value": 5, "max_value": 15},
                        ),
                        probe_test(
                            "accepted_range",
                            "probe_accepted_range_exclusive_fail",
                            {"min_value": 5, "max_value": 15, "inclusive": False},
                        ),
                        probe_test(
                            "accepted_range", "probe_accepted_range_max_fail", {"max_value": 10}
                        ),
                        probe_test(
                            "expression_is_true",
                            "probe_column_expression_pass",
                            {"expression": ">= 5"},
                        ),
                    ],
                },
                {"name": "grp", "description": "a, a, b."},
                {
                    "name": "w",
                    "description": "1, null, 3.",
                    "data_tests": [
                        probe_test(
                            "accepted_range",
                            "probe_accepted_range_ignores_nulls_pass",
                            {"min_value": 1, "max_value": 3},
                        ),
                        probe_test(
                            "expression_is_true",
                            "probe_column_expression_null_fail",
                            {"expression": ">= 1"},
                        ),
                    ],
                },
            ],
        },
        {
            "name": "probe_one_row",
            "description": "One row.",
            "data_tests": [probe_test("exactly_one_row", "probe_exactly_one_row_pass")],
            "columns": [
                {
                    "name": "id",
                    "description": "1.",
                    "data_tests": [probe_test("unique", "probe_unique_one_row_pass")],
                }
            ],
        },
        {
            "name": "probe_gap",
            "description": "Ids 1 and 3.",
            "columns": [
                {
                    "name": "id",
                    "description": "1, 3.",
                    "data_tests": [
                        probe_test("unique_line_ids", "probe_line_ids_gap_pass"),
                        probe_test(
                            "unique_line_ids", "probe_line_ids_gap_fail", {"sequential": True}
                        ),
                    ],
                }
            ],
        },
        {
            "name": "probe_repeats",
            "description": "7, 7, 7, 8, 9, 9, null, null.",
            "columns": [
                {
                    "name": "value",
                    "description": "Repeated values and nulls.",
                    "data_tests": [
                        {
                            "unique": {
                                "name": "probe_unique_fail",
                                "config": {"store_failures": True},
                            }
                        },
                        probe_test("unique_line_ids", "probe_line_ids_repeats_fail"),
                    ],
                }
            ],
            "data_tests": [
                probe_test(
                    "not_null_columns", "probe_not_null_columns_count_fail", {"columns": ["value"]}
                ),
            ],
        },
    ],
}

# Failing rows each failing test must report.
EXPECTED_FAILURES = {
    "probe_expression_fail": 1,  # id 1: v = 5
    "probe_equal_row_count_fail": 1,  # 3 rows against 2
    "probe_unique_combination_fail": 1,  # grp a twice
    "probe_exactly_one_row_fail": 1,  # 3 rows
    "probe_accepted_range_exclusive_fail": 2,  # 5 and 15 are the bounds
    "probe_accepted_range_max_fail": 1,  # 15
    "probe_column_expression_null_fail": 1,  # null is not true
    "probe_unique_fail": 2,  # 7 and 9 (nulls are not values)
    "probe_line_ids_gap_fail": 1,  # one row of counts: 1 and 3 are not 1..2
    "probe_line_ids_repeats_fail": 1,  # one row of counts: repeats and nulls
    "probe_not_null_columns_fail": 1,  # w's one null (id and v have none)
    "probe_not_null_columns_count_fail": 2,  # the null values, not the columns holding them
}


def test_generic_test_macros_pass_and_fail_when_they_should(broken_copy, tmp_path):
    project = broken_copy("generic_tests")
    probe_dir = project / "models" / "generic_test_probe"
    probe_dir.mkdir()
    for name, sql in PROBE_MODELS.items():
        (probe_dir / f"{name}.sql").write_text(sql)
    (probe_dir / "_probe.yml").write_text(yaml.safe_dump(PROBE_YAML, sort_keys=False))

    result = run_dbt(
        tmp_path,
        "build",
        "--select",
        "path:models/generic_test_probe",
        project=project,
        check=False,
    )
    run_results = json.loads((tmp_path / "target" / "run_results.json").read_text())
    tests = {
        row["unique_id"].split(".")[2]: row
        for row in run_results["results"]
        if row["unique_id"].startswith("test.")
    }
    expected_names = {
        name
        for model in PROBE_YAML["models"]
        for entry in model.get("data_tests", [])
        + [t for column in model.get("columns", []) for t in column.get("data_tests", [])]
        for name in [next(iter(entry.values()))["name"]]
    }
    assert set(tests) == expected_names, result.stdout[-6000:]
    failed = {name: row["failures"] for name, row in tests.items() if row["status"] == "fail"}
    passed = {name for name, row in tests.items() if row["status"] == "pass"}
    assert failed == EXPECTED_FAILURES, result.stdout[-6000:]
    assert passed == expected_names - set(EXPECTED_FAILURES), result.stdout[-6000:]

    # dbt's `unique` runs as this project's duckdb__test_unique (sorted, not grouped)
    # and reports what dbt's own version would: each repeated value and its count.
    compiled = next((tmp_path / "target" / "compiled").rglob("probe_unique_fail.sql"))
    assert "lead(value) over (order by value)" in compiled.read_text()
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        stored = con.execute(
            "select unique_field, n_records from main_dbt_test__audit.probe_unique_fail"
        ).fetchall()
        assert sorted(stored) == [(7, 3), (9, 2)]
        # not_null_columns names the column that holds the nulls.
        named = con.execute(
            "select column_name, null_rows from main_dbt_test__audit.probe_not_null_columns_fail"
        ).fetchall()
    assert named == [("w", 1)]


# ------------------------------------------------ the runner's own functions


def test_macro_arguments_are_read_from_the_signature():
    assert quality_gates.macro_arguments(
        "{%- macro f(a, b=[1, 2], c='x, y', d={'k': (1, 2)}) -%} select 1 {%- endmacro %}"
    ) == ["a", "b", "c", "d"]
    assert quality_gates.macro_arguments("{% test t(model, column_name) %}") == [
        "model",
        "column_name",
    ]
    assert quality_gates.macro_arguments("{% macro nothing() %}{% endmacro %}") == []


def test_a_macro_with_no_argument_listed_is_reported():
    """The case dbt-bouncer's argument check lets through: no `arguments:` at all."""
    manifest = {
        "metadata": {"project_name": "p"},
        "macros": {
            "macro.p.f": {
                "unique_id": "macro.p.f",
                "package_name": "p",
                "name": "f",
                "macro_sql": "{% macro f(a, b) %}{% endmacro %}",
                "arguments": [],
            },
            "macro.p.g": {
                "unique_id": "macro.p.g",
                "package_name": "p",
                "name": "g",
                "macro_sql": "{% macro g(a) %}{% endmacro %}",
                "arguments": [{"name": "a", "description": "The input."}],
            },
        },
    }
    assert quality_gates.undocumented_macro_arguments(manifest) == [
        "macro f: argument a has no description",
        "macro f: argument b has no description",
    ]


def node_test(name: str, column: str | None = None, where: str | None = None, **kwargs) -> dict:
    return {
        "name": f"{name}_{column}",
        "column_name": column,
        "config": {"where": where},
        "test_metadata": {"name": name, "kwargs": {"column_name": column, **kwargs}},
    }


def model_node(
    contract: bool = False, not_null: tuple[str, ...] = (), meta: dict | None = None
) -> dict:
    columns = {
        name: {
            "name": name,
            "constraints": [{"type": "not_null"}] if name in not_null else [],
        }
        for name in ("id", "other")
    }
    config = {"contract": {"enforced": contract}, "meta": meta or {}}
    return {"config": config, "columns": columns}


@pytest.mark.parametrize(
    ("model", "tests", "expected"),
    [
        (model_node(), [node_test("unique", "id"), node_test("not_null", "id")], "id"),
        (model_node(contract=True, not_null=("id",)), [node_test("unique", "id")], "id"),
        # A constraint counts only where the contract makes dbt apply it.
        (model_node(not_null=("id",)), [node_test("unique", "id")], None),
        (model_node(), [node_test("unique", "id")], None),
        # A conditional test proves nothing about the whole table.
        (model_node(), [node_test("unique", "id", where="x"), node_test("not_null", "id")], None),
        # One not_null_columns test stands for a not_null test on each of its columns.
        (
            model_node(),
            [node_test("unique", "id"), node_test("not_null_columns", columns=["other", "id"])],
            "id (unique, not null)",
        ),
        (
            model_node(),
            [node_test("unique", "id"), node_test("not_null_columns", columns=["other"])],
            None,
        ),
        (
            model_node(),
            [
                node_test("unique", "id"),
                node_test("not_null_columns", where="x", columns=["id"]),
            ],
            None,
        ),
        (model_node(), [node_test("exactly_one_row")], "exactly one row"),
        # A singular test named by the model's meta, which reads the model.
        (
            model_node(meta={"primary_key": {"column": "id", "tested_by": "assert_lines"}}),
            [{"name": "assert_lines", "config": {}}],
            "id (unique and not null: assert_lines)",
        ),
        (
            model_node(meta={"primary_key": {"column": "id", "tested_by": "assert_lines"}}),
            [{"name": "assert_other", "config": {}}],
            None,
        ),
        # One scan for unique and not null.
        (model_node(), [node_test("unique_line_ids", "id")], "id (unique_line_ids"),
        (model_node(), [node_test("unique_line_ids", "id", where="x")], None),
        (
            model_node(contract=True, not_null=("id", "other")),
            [node_test("unique_combination_of_columns", combination_of_columns=["id", "other"])],
            "id, other",
        ),
        (
            model_node(contract=True, not_null=("id",)),
            [node_test("unique_combination_of_columns", combination_of_columns=["id", "other"])],
            None,
        ),
    ],
)
def test_primary_key_evidence(model, tests, expected):
    key = quality_gates.primary_key(model, tests)
    assert (key is None) if expected is None else (key is not None and expected in key), key


def test_artifact_gates_bring_the_docs_gate():
    assert quality_gates.selected_gates(["keys"], []) == ["docs", "keys"]
    assert quality_gates.selected_gates([], ["docs", "sqlfluff"])[:2] == ["ruff", "docs"]
    assert quality_gates.selected_gates(["sqlfluff"], []) == ["sqlfluff"]


def test_sqlfluff_json_becomes_file_line_rule(tmp_path):
    output = json.dumps(
        [
            {
                "filepath": str(tmp_path / "models" / "a.sql"),
                "violations": [
                    {
                        "start_line_no": 3,
                        "start_line_pos": 5,
                        "code": "CP01",
                        "description": "Keywords must be lower case.",
                    }
                ],
            },
            {"filepath": str(tmp_path / "models" / "b.sql"), "violations": []},
        ]
    )
    noise = "=== [dbt templater] Compiling dbt project...\n"
    assert quality_gates.parse_sqlfluff(noise + output + "\n", tmp_path) == [
        "models/a.sql:3:5: CP01 Keywords must be lower case."
    ]


def test_pre_commit_hooks_are_local_and_run_every_gate():
    """.pre-commit-config.yaml: local hooks on the project's venv (nothing to download),
    whose commands exist, and which between them run every gate `make test` runs."""
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert {repo["repo"] for repo in config["repos"]} == {"local"}
    assert {hook["language"] for hook in hooks} == {"system"}
    covered = set()
    for hook in hooks:
        command = hook["entry"].split()
        assert (ROOT / command[0]).is_file(), hook["id"]
        if command[1:3] == ["-m", "scripts.devtools.quality_gates"]:
            options = command[3:]
            named = set(options[1::2])
            assert named <= set(quality_gates.GATES), hook["id"]
            only = {v for k, v in zip(options[::2], options[1::2]) if k == "--only"}
            skipped = {v for k, v in zip(options[::2], options[1::2]) if k == "--skip"}
            covered |= only or set(quality_gates.GATES) - skipped
        elif Path(command[0]).name == "ruff":
            covered.add("ruff")
    assert covered == set(quality_gates.GATES)


# ------------------------------------------------ portable SQL (gate portable)

ENGINE_MACROS = """\
{#- isfinite( in a comment is fine. -#}
{% macro is_finite_probe(x) -%}
    {{ return(adapter.dispatch('is_finite_probe', 'customer_segmentation')(x)) }}
{%- endmacro %}

{% macro duckdb__is_finite_probe(x) -%}
    isfinite({{ x }}) and hash({{ x }}) is not null
{%- endmacro %}

{% macro default__is_finite_probe(x) -%}
    isfinite({{ x }})
{%- endmacro %}
"""


def test_portable_sql_skips_engine_macros_and_comments_but_not_default_ones():
    problems = quality_gates.duckdb_only_sql(Path("macros/cross_db/probe.sql"), ENGINE_MACROS)
    expected = "macros/cross_db/probe.sql:11: isfinite `isfinite(` (Spark has no isfinite)"
    assert problems == [expected + ": use is_finite()"]


@pytest.mark.parametrize(
    ("sql", "construct"),
    [
        ("select id::bigint as id from t", ":: cast"),
        ("select * from t qualify row_number() over (order by id) = 1", "qualify"),
        ("select regexp_replace(id, '\\.0+$', '') from t", "backslash in a string literal"),
        ("select cast(id as varchar) from t", "varchar"),
        ("select * from read_parquet('x.parquet')", "read_csv/read_parquet/read_json"),
        ("select try_strptime(d, '%d/%m/%Y') from t", "strptime/strftime"),
        ("select list_aggregate(xs, 'sum') from t", "list_/struct_ functions"),
        ("select datediff('day', a, b) from t", "datediff/date_diff"),
    ],
)
def test_portable_sql_finds_each_duckdb_construct(sql, construct):
    problems = quality_gates.duckdb_only_sql(Path("models/m.sql"), sql)
    assert [p.split(": ", 1)[1].split(" `")[0] for p in problems] == [construct], problems


@pytest.mark.parametrize(
    "sql",
    [
        "select {{ dbt.datediff('a', 'b', 'day') }} as days from t",
        "select regexp_replace(id, '[.]0+$', '') from t",
        "select cast(id as {{ dbt.type_string() }}), cast(c as varchar(10)) from t",
        "select {{ row_hash(['a', 'b']) }} as h from t  -- not hash(a, b)",
        "{%- set t = (data_type or 'varchar') | replace('\\\\', '') -%} select 1 as one",
    ],
)
def test_portable_sql_passes_portable_sql(sql):
    assert quality_gates.duckdb_only_sql(Path("models/m.sql"), sql) == []


def test_portable_gate_fails_on_a_model_with_a_duckdb_only_call(broken_copy):
    """The gate as `make lint` runs it: the repository passes; a model that calls
    DuckDB's isfinite() directly fails it, named with its line and the macro to use."""
    assert gate_status(run_gates("--only", "portable").stdout, "portable") == "passed"
    project = broken_copy("duckdb_only")
    model = project / "models" / "staging" / "stg_shop__transactions.sql"
    text = model.read_text()
    dispatched = "coalesce({{ is_finite('price_number') }}, false)"
    assert dispatched in text
    model.write_text(text.replace(dispatched, "coalesce(isfinite(price_number), false)"))
    line = model.read_text()[: model.read_text().index("isfinite(price_number)")].count("\n") + 1

    result = run_gates("--only", "portable", project=project)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-8000:]
    assert gate_status(output, "portable") == "FAILED", output[-8000:]
    assert (
        f"models/staging/stg_shop__transactions.sql:{line}: isfinite `isfinite(` "
        "(Spark has no isfinite): use is_finite()"
    ) in output, output[-8000:]


# ------------------------------------------- marts as the interface (gate interfaces)


def test_interfaces_finds_intermediate_models_named_outside_models(tmp_path):
    (tmp_path / "models" / "intermediate" / "rfm").mkdir(parents=True)
    (tmp_path / "models" / "intermediate" / "rfm" / "int_customer_totals.sql").write_text("")
    (tmp_path / "models" / "intermediate" / "rfm" / "int_scores.py").write_text("")
    (tmp_path / "models" / "marts").mkdir()
    (tmp_path / "models" / "marts" / "customers.sql").write_text("ref('int_customer_totals')")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "report.py").write_text(
        "QUERY = 'select * from customers'\n"
        "OLD = 'select * from int_customer_totals'\n"
        "# int_customer_totals_v2 is no model; int_scores is\n"
    )
    (tmp_path / "README.md").write_text("The marts: `customers`.\n")
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "manifest.py").write_text("int_scores")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.md").write_text("int_scores")
    problems = quality_gates.intermediate_model_mentions(tmp_path)
    assert [p.split(": names")[0] for p in problems] == [
        "scripts/report.py:2",
        "scripts/report.py:3",
    ], problems
    assert "int_customer_totals: read the mart" in problems[0]
    assert "int_scores: read the mart" in problems[1]
