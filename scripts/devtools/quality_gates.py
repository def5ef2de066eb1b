"""The project's quality gates, in one command: lint, documentation, tests, conventions.

    .venv/bin/python -m scripts.devtools.quality_gates              # every gate (make gates)
    make lint                     # --only ruff --only sqlfluff --only portable

Gates, in order (each names what failed):

- ruff: `ruff check` and `ruff format --check` (Python models, scripts, tests).
- sqlfluff: `sqlfluff lint models analyses tests` (.sqlfluff: dbt templater, DuckDB).
- docs: `dbt docs generate` must succeed (manifest.json + catalog.json), with an
  __overview__ page and every model in its layer's group and colour.
- coverage: dbt-coverage documentation coverage must be 100% (every column the
  warehouse holds, per model and seed, described), and every declared source column
  and every macro argument described. dbt-coverage's own test coverage is per column and
  printed for information.
- keys: every model's primary key tested unique and not null (a column with a
  unique test and a not_null or not_null_columns test or a constraint, a
  unique_combination_of_columns test over not-null columns, or an exactly_one_row
  test).
- bouncer: the project conventions in dbt-bouncer.yml (layer naming, lineage
  between layers, contracts, access, descriptions of models, columns, seeds, sources,
  macros and macro arguments, a data test on every model).
- portable: no DuckDB-only SQL (DUCKDB_ONLY: functions and syntax Spark lacks or reads
  otherwise) in models, macros and singular tests outside the macros dbt dispatches to
  one engine (duckdb__x, spark__x); each finding names the file, the line, the
  construct and the macro to use instead.

Only what no tool checks is written here: the layer groups and colours of the docs
site, the __overview__ page, source column and macro argument descriptions, and tested primary keys
(including keys a singular test checks, named in the model's meta).

dbt needs a built warehouse for the catalog: `--artifacts-dir` takes a target
directory that already holds manifest.json and catalog.json; otherwise `dbt docs
generate` runs against `--warehouse` (default: $SEGMENTATION_DUCKDB_PATH, else
segmentation.duckdb when `make build` made it), else against a warehouse built
from the demo data in a temporary directory. dbt, sqlfluff and dbt-bouncer write
only to a temporary directory (`--work-dir` to keep it): nothing in the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GATES = ("ruff", "sqlfluff", "docs", "coverage", "keys", "bouncer", "portable", "interfaces")
SQL_PATHS = ("models", "analyses", "tests")
LAYERS = ("staging", "intermediate", "marts")
KEY_TESTS = ("unique_combination_of_columns", "exactly_one_row")


# ---------------------------------------------------------------- results


@dataclass
class Coverage:
    """covered of total items; `missing` names the items not covered."""

    covered: int
    total: int
    missing: list[str] = field(default_factory=list)

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 100.0

    @property
    def complete(self) -> bool:
        return self.covered == self.total

    def line(self, label: str, unit: str) -> str:
        return f"{label}: {self.percent:.1f}% ({self.covered}/{self.total} {unit})"


@dataclass
class GateResult:
    name: str
    problems: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    skipped: str | None = None

    @property
    def passed(self) -> bool:
        return not self.problems


# ------------------------------------------------------ manifest: helpers


def project_nodes(manifest: dict, resource_type: str) -> list[dict]:
    """The project's own nodes of one resource type (no installed packages)."""
    project = manifest["metadata"].get("project_name")
    return sorted(
        (
            node
            for node in manifest["nodes"].values()
            if node["resource_type"] == resource_type
            and (project is None or node["package_name"] == project)
        ),
        key=lambda node: node["unique_id"],
    )


def data_tests(manifest: dict) -> list[dict]:
    return [node for node in manifest["nodes"].values() if node["resource_type"] == "test"]


def data_test_name(test: dict) -> str:
    """The generic test's name (`unique`, `accepted_range`...), or the singular test's."""
    metadata = test.get("test_metadata") or {}
    return metadata.get("name") or test["name"]


def data_test_column(test: dict) -> str | None:
    metadata = test.get("test_metadata") or {}
    return test.get("column_name") or (metadata.get("kwargs") or {}).get("column_name")


def tests_by_model(manifest: dict) -> dict[str, list[dict]]:
    """Data tests of each model: generic tests attached to it, singular tests reading it.

    A relationships test belongs to the model it is declared on, not to the model it
    points to; unit tests are not data tests.
    """
    by_model: dict[str, list[dict]] = {}
    for test in data_tests(manifest):
        if test.get("test_metadata"):
            owners = [test.get("attached_node")]
        else:
            owners = test["depends_on"]["nodes"]
        for owner in owners:
            if owner and owner.startswith("model."):
                by_model.setdefault(owner, []).append(test)
    return by_model


def short_name(unique_id: str) -> str:
    return unique_id.split(".")[-1]


# ------------------------------------------------- manifest: the checks


def not_null_columns(model: dict, tests: Iterable[dict]) -> set[str]:
    """Columns guaranteed not null: an unconditional not_null test, a column of an
    unconditional not_null_columns test, or a not_null or primary_key constraint on a
    model whose contract is enforced."""
    unconditional = [test for test in tests if not test["config"].get("where")]
    columns = {
        data_test_column(test).lower()
        for test in unconditional
        if data_test_name(test) == "not_null" and data_test_column(test)
    }
    for test in unconditional:
        if data_test_name(test) == "not_null_columns":
            columns.update(c.lower() for c in test["test_metadata"]["kwargs"].get("columns") or [])
    if (model["config"].get("contract") or {}).get("enforced"):
        for column in model["columns"].values():
            if any(c["type"] in ("not_null", "primary_key") for c in column.get("constraints", [])):
                columns.add(column["name"].lower())
        for constraint in model.get("constraints", []):
            if constraint["type"] in ("not_null", "primary_key"):
                columns.update(name.lower() for name in constraint.get("columns") or [])
    return columns


def primary_key(model: dict, tests: list[dict]) -> str | None:
    """How the model's primary key is tested, or None when it is not.

    A model may name, in `meta: {primary_key: {column: ..., tested_by: <singular test>}}`,
    a test that checks its key with others in one scan (the line views, where
    each separate test would classify every line again); the test must read the model."""
    declared = (model["config"].get("meta") or model.get("meta") or {}).get("primary_key")
    if (
        declared
        and declared.get("column")
        and declared.get("tested_by")
        and any(test["name"] == declared["tested_by"] for test in tests)
    ):
        return f"{declared['column']} (unique and not null: {declared['tested_by']})"
    unconditional = [test for test in tests if not test["config"].get("where")]
    not_null = not_null_columns(model, tests)
    contract = (model["config"].get("contract") or {}).get("enforced")
    for column in model["columns"].values():
        if contract and any(c["type"] == "primary_key" for c in column.get("constraints", [])):
            return f"{column['name']} (primary_key constraint)"
    for test in unconditional:
        column = data_test_column(test)
        if data_test_name(test) == "unique" and column and column.lower() in not_null:
            return f"{column} (unique, not null)"
        if data_test_name(test) == "unique_line_ids" and column:
            return f"{column} (unique_line_ids: unique and not null in one scan)"
    for test in unconditional:
        name = data_test_name(test)
        if name == "exactly_one_row":
            return "exactly one row"
        if name == "unique_combination_of_columns":
            kwargs = test["test_metadata"]["kwargs"]
            columns = kwargs.get("combination_of_columns") or []
            if columns and all(c.lower() in not_null for c in columns):
                return f"({', '.join(columns)}) (unique combination, not null)"
    return None


def primary_key_coverage(manifest: dict) -> Coverage:
    tests = tests_by_model(manifest)
    missing = [
        f"{model['name']} has no primary key tested unique and not null"
        for model in project_nodes(manifest, "model")
        if primary_key(model, tests.get(model["unique_id"], [])) is None
    ]
    total = len(project_nodes(manifest, "model"))
    return Coverage(total - len(missing), total, missing)


def is_described(text: str | None) -> bool:
    return bool(text and text.strip())


def undocumented_source_columns(manifest: dict) -> list[str]:
    """Declared source columns without a description: neither dbt-bouncer (descriptions of
    models, columns, seeds, source tables, macros: dbt-bouncer.yml) nor dbt-coverage (the
    columns the warehouse holds) checks them."""
    project = manifest["metadata"].get("project_name")
    problems = []
    for source in sorted(manifest["sources"].values(), key=lambda source: source["unique_id"]):
        if project is not None and source["package_name"] != project:
            continue
        name = f"{source['source_name']}.{source['name']}"
        problems += [
            f"source {name}: column {column['name']} has no description"
            for column in source["columns"].values()
            if not is_described(column.get("description"))
        ]
    return problems


def macro_arguments(macro_sql: str) -> list[str]:
    """Argument names in a macro's or generic test's signature: `{% macro name(a, b=1) %}`."""
    match = re.search(r"{%-?\s*(?:macro|test)\s+\w+\s*\(", macro_sql)
    if not match:
        return []
    depth, start, names, quote = 0, match.end(), [], None
    for position in range(start, len(macro_sql)):
        character = macro_sql[position]
        if quote:
            quote = None if character == quote else quote
        elif character in "'\"":
            quote = character
        elif character in "([{":
            depth += 1
        elif character in ")]}" and depth:
            depth -= 1
        elif character in ",)" and depth == 0:
            names.append(macro_sql[start:position].split("=")[0].strip())
            start = position + 1
            if character == ")":
                break
    return [name for name in names if name]


def undocumented_macro_arguments(manifest: dict) -> list[str]:
    """Arguments of a macro's signature without a description. dbt-bouncer's
    check_macro_arguments_description_populated checks only macros whose yml lists some
    arguments: a macro with none listed passes it, so the runner checks every one."""
    project = manifest["metadata"].get("project_name")
    problems = []
    for macro in sorted(manifest["macros"].values(), key=lambda macro: macro["unique_id"]):
        if project is not None and macro["package_name"] != project:
            continue
        described = {
            a["name"] for a in macro.get("arguments", []) if is_described(a.get("description"))
        }
        for argument in macro_arguments(macro["macro_sql"]):
            if argument not in described:
                problems.append(f"macro {macro['name']}: argument {argument} has no description")
    return problems


def model_layer(model: dict) -> str | None:
    parts = Path(model["original_file_path"]).parts
    return parts[1] if len(parts) > 2 and parts[0] == "models" else None


def layer_problems(manifest: dict) -> list[str]:
    """Every model in a layer folder, in that layer's group, in that layer's colour;
    and an __overview__ page for the docs site."""
    problems = []
    colours: dict[str, set[str]] = {}
    for model in project_nodes(manifest, "model"):
        layer = model_layer(model)
        if layer not in LAYERS:
            problems.append(f"model {model['name']} is not in models/{{{','.join(LAYERS)}}}/")
            continue
        if model.get("group") != layer:
            problems.append(f"model {model['name']} is in group {model.get('group')}, not {layer}")
        colour = (model["config"].get("docs") or {}).get("node_color")
        if not colour:
            problems.append(f"model {model['name']} has no docs node_color")
        colours.setdefault(layer, set()).add(colour or "")
    for layer, layer_colours in sorted(colours.items()):
        if len(layer_colours) > 1:
            problems.append(f"layer {layer} has several node colours: {sorted(layer_colours)}")
    used = [next(iter(c)) for c in colours.values() if len(c) == 1]
    if len(set(used)) < len(used):
        problems.append("two layers share a node colour")
    overview = [
        doc
        for doc in manifest.get("docs", {}).values()
        if doc["name"] == "__overview__"
        and doc["package_name"] == manifest["metadata"].get("project_name")
    ]
    if not overview or not is_described(overview[0].get("block_contents")):
        problems.append("no __overview__ docs block in the project")
    return problems


# ------------------------------------------ portable SQL: DuckDB-only syntax

# Where the SQL that runs on every engine lives (singular tests included).
PORTABLE_PATHS = ("models", "macros", "tests")


@dataclass(frozen=True)
class DuckdbOnly:
    """A DuckDB-only construct: the pattern that finds it, why another engine (Spark)
    cannot run it as written, and what the model uses instead."""

    name: str
    pattern: str
    why: str
    instead: str


# Checked against Spark SQL's function registry (pyspark 4.3) and reference: each
# construct is missing from Spark or means something else there.
DUCKDB_ONLY = (
    DuckdbOnly(
        "read_csv/read_parquet/read_json",
        r"\bread_(csv|csv_auto|parquet|json|json_auto)\s*\(",
        "a DuckDB table function; Spark reads files through tables of its catalog",
        "source('shop', 'transactions') (spark_register_raw_source on Spark)",
    ),
    DuckdbOnly("isfinite", r"\bisfinite\s*\(", "Spark has no isfinite", "is_finite()"),
    DuckdbOnly(
        "hash",
        r"\bhash\s*\(",
        "DuckDB's hash is 64-bit, Spark's a 32-bit murmur3 (many more collisions)",
        "row_hash() (or hash_to_unit_interval() for a stable bucket)",
    ),
    DuckdbOnly(
        ":: cast",
        r"::",
        "Spark before 4.0 has no :: cast",
        "cast(x as type)",
    ),
    DuckdbOnly(
        "qualify",
        r"\bqualify\b",
        "Apache Spark has QUALIFY only from 4.2",
        "a where on the window's column in the next CTE",
    ),
    DuckdbOnly(
        "list_/struct_ functions",
        r"\b(list|struct)_[a-z_]+\s*\(",
        "DuckDB's nested-type functions; Spark's are array_*, struct, named_struct",
        "a dispatched macro in macros/cross_db/",
    ),
    DuckdbOnly(
        "strptime/strftime",
        r"\b(try_)?(strptime|strftime)\s*\(",
        "strptime formats are DuckDB's; Spark parses with Java patterns (to_timestamp)",
        "parse_timestamp()",
    ),
    DuckdbOnly(
        "epoch functions",
        r"\bepoch(_ms|_us|_ns)?\s*\(",
        "Spark has unix_millis/timestamp_millis instead",
        "a dispatched macro in macros/cross_db/",
    ),
    DuckdbOnly(
        "to_timestamp",
        r"\bto_timestamp\s*\(",
        "DuckDB's to_timestamp reads epoch seconds, Spark's parses text",
        "parse_timestamp() (text) or a dispatched macro (epoch)",
    ),
    DuckdbOnly(
        "regexp_matches/regexp_full_match",
        r"\bregexp_(matches|full_match)\s*\(",
        "Spark has rlike/regexp_like instead",
        "a dispatched macro in macros/cross_db/",
    ),
    DuckdbOnly(
        "regexp_extract",
        r"\bregexp_extract(_all)?\s*\(",
        "the default group differs (DuckDB 0, the whole match; Spark 1)",
        "a dispatched macro in macros/cross_db/ that passes the group",
    ),
    DuckdbOnly(
        "datediff/date_diff",
        r"\bdate_?diff\s*\(",
        "DuckDB's takes (part, start, end), Spark's (end, start) in days",
        "dbt.datediff()",
    ),
    DuckdbOnly(
        "timezone",
        r"\btimezone\s*\(",
        "Spark has no timezone(); it converts with from_utc_timestamp",
        "local_time()",
    ),
    DuckdbOnly(
        "range/generate_series",
        r"\b(generate_series\s*\(|from\s+range\s*\()",
        "DuckDB's date ranges; Spark's range() counts integers only",
        "date_spine()",
    ),
    DuckdbOnly(
        "bitstring_agg",
        r"\bbitstring_agg\s*\(",
        "a DuckDB aggregate",
        "distinct_id_count()",
    ),
    DuckdbOnly(
        "unnest", r"\bunnest\s*\(", "Spark explodes arrays with explode()", "a dispatched macro"
    ),
    DuckdbOnly(
        "materialized CTE",
        r"\bas\s+(not\s+)?materialized\s*\(",
        "a DuckDB (and Postgres) CTE hint",
        "a dispatched macro (numbered_by_position shows how)",
    ),
    DuckdbOnly(
        "star modifiers",
        r"\*\s*(exclude|replace)\s*\(|\bcolumns\s*\(",
        "DuckDB's * exclude/replace and columns() have no Spark equivalent",
        "the columns listed (select_contract_columns())",
    ),
    DuckdbOnly(
        "union by name",
        r"\bunion\s+(all\s+)?by\s+name\b",
        "Spark has no union by name in SQL",
        "the columns listed in each branch",
    ),
    DuckdbOnly(
        "varchar",
        r"\bvarchar\b(?!\s*\()",
        "Spark needs a length for varchar",
        "{{ dbt.type_string() }} in SQL, string in YAML types",
    ),
    DuckdbOnly(
        "backslash in a string literal",
        r"'[^'\n]*\\[^'\n]*'",
        "Spark reads a backslash in a literal as an escape ('\\.' is '.')",
        "a character class ([.]) in a pattern, text_literal() for a value",
    ),
)

# The implementations dbt dispatches to one engine (duckdb__x, spark__x): the only place
# an engine's own SQL belongs. default__ versions must be portable and are scanned.
ENGINE_MACRO = re.compile(
    r"{%-?\s*macro\s+(?!default__)[a-z0-9]+__\w+.*?{%-?\s*endmacro\s*-?%}", re.S
)
SQL_TEXT_ONLY = ("varchar", "backslash in a string literal")
JINJA_COMMENT = re.compile(r"{#.*?#}", re.S)
SQL_COMMENT = re.compile(r"--[^\n]*")
JINJA_TAG = re.compile(r"{{.*?}}|{%.*?%}", re.S)


def blank(match: re.Match) -> str:
    """The matched text with everything but line breaks blanked (line numbers kept)."""
    return re.sub(r"[^\n]", " ", match.group(0))


def duckdb_only_sql(path: Path, text: str) -> list[str]:
    """`path:line: construct (why): use instead` for each DuckDB-only construct in the
    SQL of one file, outside comments and engine-specific macros."""
    text = JINJA_COMMENT.sub(blank, text)
    text = ENGINE_MACRO.sub(blank, text)
    text = SQL_COMMENT.sub(blank, text)
    sql_only = JINJA_TAG.sub(blank, text)
    problems = []
    for construct in DUCKDB_ONLY:
        # Types and escapes are checked in the SQL text only (Jinja has its own strings);
        # functions in Jinja too, where it writes SQL, but not a macro call (dbt.datediff).
        haystack = sql_only if construct.name in SQL_TEXT_ONLY else text
        for match in re.finditer(construct.pattern, haystack, flags=re.I):
            if haystack[max(match.start() - 1, 0)] == ".":
                continue
            line = haystack.count("\n", 0, match.start()) + 1
            problems.append(
                f"{path}:{line}: {construct.name} `{match.group(0).strip()}` "
                f"({construct.why}): use {construct.instead}"
            )
    return problems


def portable_sql_problems(project_dir: Path) -> list[str]:
    problems: list[str] = []
    for folder in PORTABLE_PATHS:
        for path in sorted((project_dir / folder).rglob("*.sql")):
            relative = path.relative_to(project_dir)
            problems += duckdb_only_sql(relative, path.read_text())
    return problems


# ------------------------------------- marts as the interface (gate interfaces)

INTERMEDIATE_DIR = Path("models") / "intermediate"
# What a reader of the project writes outside models/: code, docs, configuration. Data files
# and build output are not read.
INTERFACE_SUFFIXES = {
    ".py",
    ".md",
    ".sql",
    ".yml",
    ".yaml",
    ".toml",
    ".cfg",
    ".j2",
    ".html",
    ".js",
    ".css",
    ".sh",
    ".txt",
}
INTERFACE_NAMES = {"Makefile", "run"}
NOT_INTERFACE_DIRS = {
    ".git",
    "models",
    "target",
    "logs",
    "data",
    "bench-data",
    "reports",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    "dbt_packages",
}


def intermediate_models(project_dir: Path) -> set[str]:
    """The names of the models under models/intermediate/ (SQL and Python)."""
    folder = project_dir / INTERMEDIATE_DIR
    return {p.stem for p in folder.rglob("*") if p.suffix in (".sql", ".py")}


def interface_files(project_dir: Path) -> list[Path]:
    found = []
    for folder, subfolders, files in os.walk(project_dir):
        subfolders[:] = sorted(
            d for d in subfolders if d not in NOT_INTERFACE_DIRS and not d.startswith(".venv")
        )
        found += [
            Path(folder) / name
            for name in sorted(files)
            if Path(name).suffix in INTERFACE_SUFFIXES or name in INTERFACE_NAMES
        ]
    return found


def intermediate_model_mentions(project_dir: Path) -> list[str]:
    """Every place outside models/ that names an intermediate model: everything outside dbt
    reads the marts (scripts/marts.py), so a model of models/intermediate/ can be renamed,
    split or merged without breaking a reader. A test that must look at one asks the
    manifest for it (tests/python/test_segment_history_incremental.py)."""
    names = intermediate_models(project_dir)
    if not names:
        return []
    pattern = re.compile(r"\b(" + "|".join(sorted(names, key=len, reverse=True)) + r")\b")
    problems = []
    for path in interface_files(project_dir):
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for match in pattern.finditer(line):
                problems.append(
                    f"{path.relative_to(project_dir)}:{number}: names the intermediate model "
                    f"{match.group(1)}: read the mart that publishes it (scripts/marts.py), "
                    "or find the model in dbt's manifest"
                )
    return problems


# ------------------------------------------- tool output: pure parsers


def parse_dbt_coverage(report: dict) -> Coverage:
    """A dbt-coverage JSON report (compute --cov-report) as covered/total columns."""
    missing = []
    for table in report.get("tables", []):
        for column in table.get("columns", []):
            if not column["covered"]:
                missing.append(f"{table['name']}.{column['name']}")
    return Coverage(report["covered"], report["total"], sorted(missing))


def parse_sqlfluff(output: str, project_dir: Path) -> list[str]:
    """`sqlfluff lint --format json` output as `path:line:col: CODE description` lines."""
    lines = [line for line in output.splitlines() if line.startswith("[{") or line == "[]"]
    if not lines:
        raise ValueError("no JSON report in sqlfluff's output")
    records = json.loads(lines[-1])
    problems = []
    for record in records:
        path = Path(record["filepath"])
        if path.is_absolute() and path.is_relative_to(project_dir):
            path = path.relative_to(project_dir)
        for violation in record.get("violations", []):
            line = violation.get("start_line_no", violation.get("line_no"))
            column = violation.get("start_line_pos", violation.get("line_pos"))
            problems.append(
                f"{path}:{line}:{column}: {violation['code']} {violation['description']}"
            )
    return problems


def bouncer_config(config_text: str, artifacts_dir: Path) -> str:
    """dbt-bouncer.yml with dbt_artifacts_dir pointed at the generated artifacts."""
    config = yaml.safe_load(config_text)
    config["dbt_artifacts_dir"] = str(artifacts_dir)
    return yaml.safe_dump(config, sort_keys=False)


def parse_bouncer_failures(results: list[dict]) -> list[str]:
    return [
        f"{result['check_run_id'].split(':')[0]}: {result['failure_message']}"
        for result in results
        if result.get("outcome") == "failed" and result.get("severity", "error") == "error"
    ]


# ------------------------------------------------------------- running


@dataclass
class Context:
    project_dir: Path
    work_dir: Path
    artifacts_dir: Path | None
    warehouse: Path | None
    sql_paths: list[str]
    sql_processes: int
    verbose: bool

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DBT_PROFILES_DIR": str(self.project_dir),
            "DO_NOT_TRACK": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "SEGMENTATION_DUCKDB_PATH": str(self.work_dir / "scratch.duckdb"),
            **extra,
        }


def run(command: list[str], context: Context, **env: str) -> subprocess.CompletedProcess:
    if context.verbose:
        print("$", " ".join(command), flush=True)
    return subprocess.run(
        command,
        cwd=context.project_dir,
        env=context.env(**env),
        capture_output=True,
        text=True,
    )


def tail(result: subprocess.CompletedProcess, lines: int = 30) -> str:
    text = (result.stdout or "") + (result.stderr or "")
    return "\n".join(text.strip().splitlines()[-lines:])


def gate_ruff(context: Context) -> GateResult:
    gate = GateResult("ruff")
    for command in (["check", "."], ["format", "--check", "."]):
        result = run([str(BIN / "ruff"), *command, "--no-cache"], context)
        if result.returncode != 0:
            gate.problems.append(f"ruff {' '.join(command)}:\n{tail(result)}")
    return gate


def gate_sqlfluff(context: Context) -> GateResult:
    gate = GateResult("sqlfluff")
    result = run(
        [
            str(BIN / "sqlfluff"),
            "lint",
            *context.sql_paths,
            "--format",
            "json",
            "--processes",
            str(context.sql_processes),
            "--disable-progress-bar",
            "--nofail",
        ],
        context,
        DBT_TARGET_PATH=str(context.work_dir / "sqlfluff-target"),
        DBT_LOG_PATH=str(context.work_dir / "sqlfluff-logs"),
    )
    try:
        gate.problems = parse_sqlfluff(result.stdout, context.project_dir)
    except (ValueError, KeyError) as error:
        gate.problems = [f"sqlfluff output unreadable ({error}):\n{tail(result)}"]
    if result.returncode != 0 and not gate.problems:
        gate.problems = [f"sqlfluff exited {result.returncode}:\n{tail(result)}"]
    return gate


def dbt(
    context: Context, *args: str, warehouse: Path, read_only: bool = False
) -> subprocess.CompletedProcess:
    """dbt into the work directory; `read_only` for commands that only read the warehouse,
    so that they run while the report, the dashboard or another gate run has it open."""
    return run(
        [
            str(BIN / "dbt"),
            *args,
            "--target-path",
            str(context.work_dir / "target"),
            "--log-path",
            str(context.work_dir / "logs"),
        ],
        context,
        SEGMENTATION_DUCKDB_PATH=str(warehouse),
        SEGMENTATION_DUCKDB_ACCESS_MODE="read_only" if read_only else "automatic",
    )


def gate_docs(context: Context) -> GateResult:
    """dbt docs generate into the work directory (building the demo first if no
    warehouse is available); the artifacts the later gates read."""
    gate = GateResult("docs")
    if context.artifacts_dir is None:
        warehouse = context.warehouse
        if warehouse is None:
            warehouse = context.work_dir / "demo.duckdb"
            gate.figures.append("warehouse: demo data built with `dbt build` in the work directory")
            build = dbt(context, "build", warehouse=warehouse)
            if build.returncode != 0:
                gate.problems.append(f"dbt build failed:\n{tail(build)}")
                return gate
        result = dbt(context, "docs", "generate", warehouse=warehouse, read_only=True)
        if result.returncode != 0:
            gate.problems.append(f"dbt docs generate failed:\n{tail(result)}")
            return gate
        context.artifacts_dir = context.work_dir / "target"
    missing = [
        name
        for name in ("manifest.json", "catalog.json")
        if not (context.artifacts_dir / name).is_file()
    ]
    if missing:
        gate.problems.append(f"{context.artifacts_dir} holds no {', '.join(missing)}")
        return gate
    catalog = json.loads((context.artifacts_dir / "catalog.json").read_text())
    if catalog.get("errors"):
        gate.problems.append(f"catalog errors: {catalog['errors']}")
    if not catalog.get("nodes"):
        gate.problems.append(
            f"the catalog is empty: {context.warehouse or 'the warehouse'} holds no tables "
            "(run `make build`, or pass --warehouse PATH or --build-demo)"
        )
    gate.problems += layer_problems(load_manifest(context))
    return gate


def load_manifest(context: Context) -> dict:
    return json.loads((context.artifacts_dir / "manifest.json").read_text())


def dbt_coverage(context: Context, kind: str) -> Coverage:
    report_path = context.work_dir / f"coverage-{kind}.json"
    result = run(
        [
            str(BIN / "dbt-coverage"),
            "compute",
            kind,
            "--project-dir",
            str(context.project_dir),
            "--run-artifacts-dir",
            str(context.artifacts_dir),
            "--cov-report",
            str(report_path),
        ],
        context,
    )
    if result.returncode != 0 or not report_path.is_file():
        raise RuntimeError(f"dbt-coverage compute {kind} failed:\n{tail(result)}")
    return parse_dbt_coverage(json.loads(report_path.read_text()))


def gate_coverage(context: Context) -> GateResult:
    """dbt-coverage: every column the warehouse holds described (models and seeds)."""
    gate = GateResult("coverage")
    try:
        documentation = dbt_coverage(context, "doc")
        column_tests = dbt_coverage(context, "test")
    except RuntimeError as error:
        gate.problems.append(str(error))
        return gate
    gate.figures += [
        documentation.line("documentation coverage", "columns"),
        column_tests.line("column test coverage (dbt-coverage, informational)", "columns"),
    ]
    gate.problems += [f"column {name} has no description" for name in documentation.missing]
    manifest = load_manifest(context)
    gate.problems += undocumented_source_columns(manifest)
    gate.problems += undocumented_macro_arguments(manifest)
    return gate


def gate_keys(context: Context) -> GateResult:
    gate = GateResult("keys")
    keys = primary_key_coverage(load_manifest(context))
    gate.figures.append(keys.line("models with a tested primary key", "models"))
    gate.problems += keys.missing
    return gate


def gate_portable(context: Context) -> GateResult:
    gate = GateResult("portable")
    gate.problems = portable_sql_problems(context.project_dir)
    return gate


def gate_interfaces(context: Context) -> GateResult:
    gate = GateResult("interfaces")
    gate.problems = intermediate_model_mentions(context.project_dir)
    return gate


def gate_bouncer(context: Context) -> GateResult:
    gate = GateResult("bouncer")
    config_path = context.work_dir / "dbt-bouncer.yml"
    config_text = (context.project_dir / "dbt-bouncer.yml").read_text()
    config_path.write_text(bouncer_config(config_text, context.artifacts_dir))
    results_path = context.work_dir / "dbt-bouncer-results.json"
    result = run(
        [
            str(BIN / "dbt-bouncer"),
            "run",
            "--config-file",
            str(config_path),
            "--output-file",
            str(results_path),
            "--output-format",
            "json",
        ],
        context,
    )
    if results_path.is_file():
        results = json.loads(results_path.read_text())
        gate.problems = parse_bouncer_failures(results)
        gate.figures.append(f"dbt-bouncer checks: {len(results)} run, {len(gate.problems)} failed")
    if result.returncode != 0 and not gate.problems:
        gate.problems.append(f"dbt-bouncer exited {result.returncode}:\n{tail(result)}")
    return gate


GATE_FUNCTIONS = {
    "ruff": gate_ruff,
    "sqlfluff": gate_sqlfluff,
    "docs": gate_docs,
    "coverage": gate_coverage,
    "keys": gate_keys,
    "bouncer": gate_bouncer,
    "portable": gate_portable,
    "interfaces": gate_interfaces,
}
NEEDS_ARTIFACTS = ("coverage", "keys", "bouncer")


def selected_gates(only: list[str], skip: list[str]) -> list[str]:
    chosen = [gate for gate in GATES if (not only or gate in only) and gate not in skip]
    if any(gate in chosen for gate in NEEDS_ARTIFACTS) and "docs" not in chosen:
        chosen.insert(chosen.index(next(g for g in chosen if g in NEEDS_ARTIFACTS)), "docs")
    return chosen


def run_gates(context: Context, gates: list[str]) -> list[GateResult]:
    results = []
    for name in gates:
        if name in NEEDS_ARTIFACTS and any(r.name == "docs" and not r.passed for r in results):
            results.append(GateResult(name, skipped="no dbt artifacts (docs gate failed)"))
            continue
        print(f"[gates] {name} ...", flush=True)
        started = time.monotonic()
        result = GATE_FUNCTIONS[name](context)
        result.seconds = time.monotonic() - started
        results.append(result)
    return results


def report(results: list[GateResult], limit: int = 40) -> str:
    lines = ["", "Quality gates"]
    for result in results:
        if result.skipped:
            status = f"SKIPPED ({result.skipped})"
        else:
            status = "passed" if result.passed else f"FAILED ({len(result.problems)} problems)"
        lines.append(f"  {result.name:<9} {status:<30} {result.seconds:6.1f}s")
    figures = [figure for result in results for figure in result.figures]
    if figures:
        lines += ["", *figures]
    failed = [result for result in results if not result.passed or result.skipped]
    for result in failed:
        lines += ["", f"{result.name} failed:" if not result.skipped else f"{result.name} skipped"]
        lines += [f"  - {problem}" for problem in result.problems[:limit]]
        if len(result.problems) > limit:
            lines.append(f"  ... and {len(result.problems) - limit} more")
    lines.append("")
    names = [result.name for result in failed]
    lines.append(f"FAILED: {', '.join(names)}" if failed else "All quality gates passed.")
    return "\n".join(lines)


def default_warehouse(project_dir: Path) -> Path | None:
    configured = os.environ.get("SEGMENTATION_DUCKDB_PATH")
    if configured:
        return Path(configured).resolve()
    built = project_dir / "segmentation.duckdb"
    return built if built.is_file() else None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project-dir", type=Path, default=ROOT)
    parser.add_argument(
        "--artifacts-dir",
        type=Path,
        help="a dbt target directory holding manifest.json and catalog.json (skips docs generate)",
    )
    parser.add_argument(
        "--warehouse",
        type=Path,
        help="a built DuckDB file for dbt docs generate (default: $SEGMENTATION_DUCKDB_PATH, "
        "else segmentation.duckdb if it exists, else the demo built in the work directory)",
    )
    parser.add_argument(
        "--build-demo",
        action="store_true",
        help="build the demo data in the work directory for dbt docs generate",
    )
    parser.add_argument("--work-dir", type=Path, help="keep dbt/sqlfluff output here")
    parser.add_argument("--only", action="append", choices=GATES, default=[])
    parser.add_argument("--skip", action="append", choices=GATES, default=[])
    parser.add_argument("--skip-sql-lint", action="store_true", help="same as --skip sqlfluff")
    parser.add_argument("--skip-python-lint", action="store_true", help="same as --skip ruff")
    parser.add_argument(
        "--sql-path",
        action="append",
        default=[],
        help=f"files or folders for sqlfluff (default: {' '.join(SQL_PATHS)})",
    )
    parser.add_argument("--sql-processes", type=int, default=1)
    parser.add_argument("--verbose", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    skip = list(args.skip)
    skip += ["sqlfluff"] if args.skip_sql_lint else []
    skip += ["ruff"] if args.skip_python_lint else []
    gates = selected_gates(args.only, skip)
    project_dir = args.project_dir.resolve()
    work_dir = Path(args.work_dir or tempfile.mkdtemp(prefix="quality-gates-")).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    warehouse = args.warehouse.resolve() if args.warehouse else default_warehouse(project_dir)
    context = Context(
        project_dir=project_dir,
        work_dir=work_dir,
        artifacts_dir=args.artifacts_dir.resolve() if args.artifacts_dir else None,
        warehouse=None if args.build_demo else warehouse,
        sql_paths=args.sql_path or list(SQL_PATHS),
        sql_processes=args.sql_processes,
        verbose=args.verbose,
    )
    try:
        results = run_gates(context, gates)
    finally:
        if not args.work_dir:
            shutil.rmtree(work_dir, ignore_errors=True)
    print(report(results), flush=True)
    return 0 if all(result.passed and not result.skipped for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
