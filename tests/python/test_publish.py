"""Atomic publishing (scripts/devtools/publish.py): readers never fail and never see half a build.

One store is shared by the whole module, in order: a first publication (the small dirty
fixture), then the demo published by `make build` (the README's command) while one process
reads in a loop and another holds the published file open, then builds killed at five
points and one on a full disk, each of which must leave the demo publication in place, and
finally a build that cleans up. The demo publication is also the second build of the demo
that shows rebuilding gives the same tables (the first is the session's).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import DIRTY_VARS
from dbt_project_runner import ROOT, selecting

from scripts.devtools import publish

CONSISTENCY_SQL = (
    "select (select count(*) from customers),"
    " (select sum(customers) from segment_summary where segment_type = 'rfm_segment')"
)

# Reads `customers` and `segment_summary` in one query per connection, 0.1 s apart, until
# the stop file exists and at least `minimum` reads were made; one JSON line per read.
READER = r"""
import duckdb, json, os, sys, time
published, log, stop, minimum = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sql = sys.argv[5]
reads = 0
with open(log, "w") as out:
    while reads < minimum or not os.path.exists(stop):
        started = time.time()
        try:
            with duckdb.connect(published, read_only=True) as connection:
                customers, total = connection.sql(sql).fetchone()
            row = {"t": started, "customers": customers, "total": int(total)}
        except Exception as error:
            row = {"t": started, "error": repr(error)}
        out.write(json.dumps(row) + "\n")
        out.flush()
        reads += 1
        time.sleep(0.1)
"""

# Opens the published file before the build and keeps the connection until the stop file.
HOLDER = r"""
import duckdb, json, os, sys, time
published, log, stop, sql = sys.argv[1:5]
connection = duckdb.connect(published, read_only=True)
before = connection.sql(sql).fetchone()
open(log, "w").write(json.dumps({"before": before}) + "\n")
while not os.path.exists(stop):
    time.sleep(0.1)
after = connection.sql(sql).fetchone()
open(log, "a").write(json.dumps({"after": after}) + "\n")
"""


class Run:
    """One `python -m scripts.devtools.publish` in a process group of its own; with `make`,
    `make build` as the README says."""

    def __init__(
        self,
        published: Path,
        work: Path,
        vars: dict | None = None,
        full_refresh: bool = False,
        select: str | None = None,
        make: bool = False,
        **env: str,
    ):
        # Another dataset than the publication's: its incremental state does not apply.
        refresh = ["--full-refresh"] if full_refresh else []
        if make:
            assert not vars and not select
            command = ["make", "build", *([f"DBT_ARGS={refresh[0]}"] if refresh else [])]
            env = {
                "DBT_TARGET_PATH": str(work / "target"),
                "DBT_LOG_PATH": str(work / "logs"),
                **env,
            }
        else:
            command = [sys.executable, "-m", "scripts.devtools.publish", "--keep", "2", "--"]
            command += ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
            command += [*(selecting(select) if select else []), *refresh]
            if vars:
                command += ["--vars", json.dumps(vars)]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={
                **os.environ,
                "DBT_PROFILES_DIR": str(ROOT),
                "DO_NOT_TRACK": "1",
                "SEGMENTATION_DUCKDB_PATH": str(published),
                **env,
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []

    def wait_for(self, pattern: str, count: int = 1) -> str:
        """Reads output until the `count`-th line matching `pattern`; fails if the run ends."""
        seen = 0
        for line in self.process.stdout:
            self.lines.append(line)
            if re.search(pattern, line):
                seen += 1
                if seen == count:
                    return line
        raise AssertionError(f"the build ended before {pattern!r}:\n{self.output[-4000:]}")

    def finish(self, timeout: float = 900) -> int:
        rest, _ = self.process.communicate(timeout=timeout)
        self.lines.append(rest)
        return self.process.returncode

    def kill(self, sig: int = signal.SIGKILL, group: bool = True) -> int:
        if group:
            os.killpg(self.process.pid, sig)
        else:
            self.process.send_signal(sig)
        code = self.finish(timeout=120)
        # Nothing of the build may survive it (a dbt left running would keep writing).
        deadline = time.monotonic() + 30
        while _group_alive(self.process.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _group_alive(self.process.pid), "a process of the killed build is still running"
        return code

    @property
    def output(self) -> str:
        return "".join(self.lines)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def consistent_read(published: Path) -> tuple[int, int]:
    with duckdb.connect(str(published), read_only=True) as connection:
        customers, total = connection.sql(CONSISTENCY_SQL).fetchone()
    assert customers == total, "customers and segment_summary come from different builds"
    return customers, int(total)


def publication_of(published: Path) -> str:
    """The build id the published DuckDB file and its Parquet export belong to."""
    database_id = published.resolve().parent.name
    info = json.loads((publish.parquet_path(published) / "publication.json").read_text())
    assert info["build_id"] == database_id, "the Parquet export and the DuckDB file disagree"
    return database_id


def assert_intact(published: Path, expected: dict) -> None:
    """The demo publication, whole: same id, consistent marts, Parquet equal to the file."""
    assert publication_of(published) == expected["build_id"]
    assert consistent_read(published) == (expected["customers"],) * 2
    parquet = publish.parquet_path(published)
    with duckdb.connect() as connection:
        for mart, rows in expected["rows"].items():
            assert (
                connection.sql(f"select count(*) from '{parquet}/{mart}.parquet'").fetchone()[0]
                == rows
            ), mart


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> dict:
    directory = tmp_path_factory.mktemp("publish")
    return {"published": directory / "segmentation.duckdb", "work": directory}


@pytest.fixture(scope="module")
def first(store) -> dict:
    """The first publication: the dirty fixture (few customers, quick)."""
    run = Run(store["published"], store["work"], DIRTY_VARS)
    assert run.finish() == 0, run.output[-6000:]
    assert "nothing was published" not in run.output
    return {"build_id": publication_of(store["published"]), "output": run.output}


def test_a_publication_is_a_link_to_a_complete_build(store, first):
    published = store["published"]
    assert published.is_symlink() and not os.path.isabs(os.readlink(published))
    directory = published.resolve().parent
    assert directory.parent.name == "publications"
    assert not (store["work"] / "warehouse" / "building").exists()
    info = json.loads((directory / "publication.json").read_text())
    assert info["build_id"] == first["build_id"]
    # Every mart is exported, and each Parquet file holds the table's rows.
    marts = publish.mart_names(store["work"] / "target" / "manifest.json")
    assert {"customers", "segment_summary", "cleaning_summary", "campaign_audience"} <= set(marts)
    assert sorted(info["rows"]) == marts
    with duckdb.connect(str(published), read_only=True) as connection:
        for mart in marts:
            table = connection.sql(f"select * from {mart} order by all").fetchall()
            exported = connection.sql(
                f"select * from '{directory}/parquet/{mart}.parquet' order by all"
            ).fetchall()
            assert exported == table, mart
            assert len(table) == info["rows"][mart]
    # Nothing left for a reader to replay: the file was checkpointed.
    assert not Path(f"{published.resolve()}.wal").exists()


@pytest.fixture(scope="module")
def demo(store, first, tmp_path_factory) -> dict:
    """The demo published while a reader loops and another reader holds the file open."""
    published, work = store["published"], store["work"]
    logs = tmp_path_factory.mktemp("readers")
    stop = logs / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published), str(logs / "reads.jsonl"), str(stop)]
        + ["200", CONSISTENCY_SQL]
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(published), str(logs / "held.jsonl"), str(stop)]
        + [CONSISTENCY_SQL]
    )
    deadline = time.monotonic() + 60

    def started_reading(log: Path) -> bool:
        # Either reader may be the first to create its log: wait for both, without racing.
        return log.exists() and log.stat().st_size > 0

    while not (started_reading(logs / "held.jsonl") and started_reading(logs / "reads.jsonl")):
        assert time.monotonic() < deadline, "the readers did not start"
        time.sleep(0.1)
    started = time.time()
    run = Run(published, work, full_refresh=True, make=True)
    code = run.finish()
    finished = time.time()
    time.sleep(1)  # a few reads of the new publication
    stop.touch()
    assert reader.wait(timeout=120) == 0
    assert holder.wait(timeout=60) == 0
    assert code == 0, run.output[-6000:]
    reads = [json.loads(line) for line in (logs / "reads.jsonl").read_text().splitlines()]
    held = [json.loads(line) for line in (logs / "held.jsonl").read_text().splitlines()]
    info = json.loads((published.resolve().parent / "publication.json").read_text())
    return {
        "build_id": info["build_id"],
        "rows": info["rows"],
        "customers": info["rows"]["customers"],
        "reads": reads,
        "held": held,
        "build_window": (started, finished),
        "output": run.output,
    }


def test_reads_during_a_build_never_fail_and_are_consistent(demo, first, record_property):
    reads = demo["reads"]
    failures = [read for read in reads if "error" in read]
    started, finished = demo["build_window"]
    during = [read for read in reads if started <= read["t"] <= finished]
    print(
        f"reader loop: {len(reads)} reads, {len(failures)} failed, {len(during)} during the "
        f"{finished - started:.0f} s build"
    )
    record_property("reads", len(reads))
    assert len(reads) >= 200
    assert failures == []
    assert all(read["customers"] == read["total"] for read in reads)
    # The loop ran through the whole build and saw the swap exactly once: old, then new.
    assert reads[0]["t"] < started and reads[-1]["t"] > finished
    assert len(during) >= 100
    counts = [read["customers"] for read in reads]
    first_count = counts[0]
    assert first_count != demo["customers"]
    switch = counts.index(demo["customers"])
    assert set(counts[:switch]) == {first_count}
    assert set(counts[switch:]) == {demo["customers"]}


def test_a_reader_holding_the_file_open_neither_blocks_the_build_nor_sees_it(demo):
    before, after = demo["held"][0]["before"], demo["held"][1]["after"]
    # Its connection stays on the publication it opened, whole, after the swap.
    assert before == after
    assert before[0] == before[1] != demo["customers"]


def test_the_build_command_builds_and_prints_a_summary(demo, store):
    output = demo["output"]
    for heading in (
        "Lines read:",
        "Where the lines went",
        "Customers:",
        "RFM segments",
        "K-Means clusters: k =",
    ):
        assert heading in output
    customers = consistent_read(store["published"])[0]
    assert f"Customers: {customers:,}" in output
    assert customers == demo["customers"] > 100


# Every mart a user reads about customers, segments, clusters and lines.
MARTS = [
    "customers",
    "campaign_audience",
    "segment_summary",
    "cluster_profiles",
    "cluster_k_selection",
    "cluster_model_comparison",
    "cluster_assignment_quality",
    "segment_cluster_crosstab",
    "cleaning_summary",
    "purchase_lines",
    "return_lines",
    "quarantined_lines",
]


def test_building_twice_gives_the_same_tables_and_labels(demo, store, demo_warehouse):
    """The demo publication (`make build`) and the session's demo build (conftest.py) are
    two builds of the same lines from scratch."""
    with duckdb.connect(str(store["published"].resolve()), read_only=True) as connection:
        for table in MARTS:
            rebuilt = connection.sql(f"select * from {table} order by all").fetchall()
            assert rebuilt == demo_warehouse.rows(f"select * from {table} order by all"), table


# Where each kill happens: (name, signal, whole process group?, output line to wait for,
# its occurrence, pause hook). SIGTERM to the script alone checks it stops dbt itself.
KILLS = [
    ("seeds", signal.SIGKILL, True, r"OK loaded seed file", 1, None),
    (
        "models",
        signal.SIGTERM,
        False,
        r"OK created sql table model main\.cleaning_summary",
        1,
        None,
    ),
    ("data tests", signal.SIGKILL, True, r"\bPASS\b", 40, None),
    ("export", signal.SIGKILL, True, r"paused before export-half", 1, "export-half"),
    ("link", signal.SIGKILL, True, r"paused before link", 1, "link"),
]


@pytest.mark.parametrize(("point", "sig", "group", "pattern", "count", "pause"), KILLS)
def test_a_killed_build_leaves_the_publication_intact(
    store, demo, point, sig, group, pattern, count, pause
):
    published = store["published"]
    env = {publish.PAUSE_ENV: pause} if pause else {}
    # A build paused after dbt (export, link) is killed the same whatever dbt built: it
    # rebuilds one mart on its copy of the publication, not all of them, to get there.
    run = Run(published, store["work"], select="cleaning_summary" if pause else None, **env)
    run.wait_for(pattern, count)
    code = run.kill(sig, group)
    assert code != 0
    # The same data again: the build started from the publication's state, and left it whole.
    assert "starting from a copy of" in run.output
    assert_intact(published, demo)
    if not group:
        # The script caught the signal, stopped dbt and said what it left.
        assert "interrupted (SIGTERM): nothing published; the published warehouse is untouched" in (
            run.output
        ), run.output[-3000:]
        assert not (store["work"] / "warehouse" / "building").exists()


def test_the_next_build_cleans_up_after_killed_builds(store, demo):
    published = store["published"]
    publications = store["work"] / "warehouse" / "publications"
    # The build killed before its link swap left a complete but unpublished directory.
    orphans = [p.name for p in publications.iterdir() if p.name > demo["build_id"]]
    assert len(orphans) == 1
    run = Run(published, store["work"], DIRTY_VARS, full_refresh=True)
    assert run.finish() == 0, run.output[-6000:]
    assert "starting from a copy" not in run.output
    assert f"removing {publications / orphans[0]}, built but never published" in run.output
    latest = publication_of(published)
    # --keep 2: the new publication and the demo; the first one and the orphan are gone.
    assert sorted(p.name for p in publications.iterdir()) == [demo["build_id"], latest]
    consistent_read(published)


@pytest.fixture
def small_disk(store, demo, tmp_path):
    """A tmpfs holding a copy of the demo publication and a few MB more: too small a build."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mount = tmp_path / "disk"
    mount.mkdir()
    source = store["work"] / "warehouse" / "publications" / demo["build_id"]
    size = sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
    megabytes = size // 2**20 + 4
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}M", "tmpfs", str(mount)], check=True
    )
    try:
        target = mount / "warehouse" / "publications" / demo["build_id"]
        shutil.copytree(source, target)
        published = mount / "segmentation.duckdb"
        publish.swap_link(published, target / "segmentation.duckdb")
        publish.swap_link(publish.parquet_path(published), target / "parquet")
        yield published, megabytes
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_build_on_a_full_disk_leaves_the_publication_intact(store, demo, small_disk):
    published, megabytes = small_disk
    assert_intact(published, demo)
    run = Run(published, store["work"])
    assert run.finish() == 1, run.output[-6000:]
    print(f"build on a {megabytes} MB disk: {run.output.strip().splitlines()[-1]}")
    assert re.search(r"(out of disk space|no space left)", run.output, re.I), run.output[-3000:]
    assert "SEGMENTATION_WAREHOUSE_DIR" in run.output
    assert "the published warehouse is untouched" in run.output
    assert_intact(published, demo)
    # The failed build's files are gone: the disk is usable again.
    assert not (published.parent / "warehouse" / "building").exists()


def test_a_second_build_at_the_same_time_is_refused(store, tmp_path):
    with publish.build_lock(publish.store_for(store["published"])):
        run = Run(store["published"], tmp_path)
        assert run.finish() == 1
    assert "another build is running" in run.output
    assert "SEGMENTATION_WAREHOUSE_DIR" in run.output


def test_tables_no_model_makes_are_dropped_from_a_copied_build(tmp_path):
    database = tmp_path / "copy.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("create table customers as select 1 as customer_id")
        connection.execute("create table rfm_segments as select 'x' as rfm_segment")
        connection.execute("create table customer_segments_v0 as select 1 as customer_id")
        connection.execute("create view old_view as select 1 as one")
    manifest = tmp_path / "manifest.json"
    nodes = {
        "model.p.customers": {"resource_type": "model", "name": "customers", "alias": None},
        "seed.p.rfm_segments": {"resource_type": "seed", "name": "rfm_segments", "alias": None},
        "test.p.x": {"resource_type": "test", "name": "customer_segments_v0", "alias": None},
    }
    manifest.write_text(json.dumps({"nodes": nodes}))
    assert sorted(publish.drop_orphans(database, manifest)) == ["customer_segments_v0", "old_view"]
    with duckdb.connect(str(database), read_only=True) as connection:
        left = connection.sql("select table_name from information_schema.tables").fetchall()
    assert sorted(name for (name,) in left) == ["customers", "rfm_segments"]


def test_cleanup_keeps_the_newest_and_never_the_published_one(tmp_path):
    published = tmp_path / "segmentation.duckdb"
    store = publish.store_for(published)
    for name in ("20240101T000000Z", "20240102T000000Z", "20240103T000000Z", "20240104T000000Z"):
        (store.publications / name).mkdir(parents=True)
        (store.publications / name / "segmentation.duckdb").touch()
    publish.swap_link(published, store.publications / "20240103T000000Z" / "segmentation.duckdb")
    removed = publish.cleanup(store, keep=2)
    assert sorted(p.name for p in removed) == ["20240101T000000Z", "20240102T000000Z"]
    assert sorted(p.name for p in store.publications.iterdir()) == [
        "20240103T000000Z",
        "20240104T000000Z",
    ]
    # keep 1 and a published one that is not the newest: both stay.
    assert [p.name for p in publish.cleanup(store, keep=1)] == []
    assert [p.name for p in publish.unpublished(store)] == ["20240104T000000Z"]


def test_the_publishing_build_leaves_unit_tests_to_make_test(tmp_path):
    database, previous = tmp_path / "building.duckdb", tmp_path / "published.duckdb"
    env = publish.dbt_environment(database, previous, environ={"PATH": "/bin"})
    assert env["DBT_EXCLUDE_RESOURCE_TYPES"] == "unit_test"
    assert env["SEGMENTATION_DUCKDB_PATH"] == str(database)
    assert env["SEGMENTATION_PREVIOUS_PATH"] == str(previous)
    # A user who wants them in the publishing build too says so in the environment.
    env = publish.dbt_environment(database, None, environ={"DBT_EXCLUDE_RESOURCE_TYPES": ""})
    assert env["DBT_EXCLUDE_RESOURCE_TYPES"] == ""
    assert env["SEGMENTATION_PREVIOUS_PATH"] == ""
