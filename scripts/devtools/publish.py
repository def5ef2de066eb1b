"""Builds the warehouse into a new file and publishes it in one atomic step.

    python -m scripts.devtools.publish [--keep N] [-- DBT_BUILD_ARGS...]

Readers (marketing, the report, the dashboard, BI tools) connect to the *published*
path, `$SEGMENTATION_DUCKDB_PATH` or `segmentation.duckdb`, read-only. A build never
opens that file:

1. `dbt build` (every model, seed and data test; the unit tests run in `make test`)
   writes `<store>/building/<name>`, a file of its own; `<store>` is
   `$SEGMENTATION_WAREHOUSE_DIR`, else `warehouse/` next to the published path. Readers
   of the published file hold no lock the build needs, and the build holds none they
   need.
2. Every mart is exported to Parquet in `<store>/building/parquet/`, and
   `publication.json` records the build id and each mart's row count.
3. The whole directory is renamed to `<store>/publications/<build id>/`, then the
   published path, a symbolic link, is swapped to point at the new file with one
   `rename` (atomic on POSIX). `<stem>_parquet` next to it is swapped the same way.
4. Publications beyond the newest `--keep` (`$SEGMENTATION_KEEP_PUBLICATIONS`, default
   3) are deleted, never the published one.

A reader that opened the old publication keeps reading it (the file stays, or its inode
does, until it closes); a reader that connects after the swap gets the new one. A symlink
swap rather than a rename over a regular file, because DuckDB caches one database
instance per path and process: a long-running reader (the dashboard) that kept any
connection open would otherwise be handed the old, unlinked file on every new connect,
while the link resolves to a new path and so to a new instance.

A failed test, a killed build or a full disk stops before step 3: the published
warehouse is untouched and the script says so (a killed build's leftover `building/` is
removed by the next build). One build at a time: a second one fails on the lock file.

Incremental models (the segment history, frozen campaign audiences, line tables that only
add new lines) need the previous state: the build starts from a copy of the current
publication's file, so dbt finds their tables and adds only what is new, exactly as a
`dbt build` run by hand in one file does. The published file is only read (readers keep
their shared lock on it) and never modified. `-- --full-refresh` starts from an empty file
instead and recomputes everything. Tables the copy carries that the project no longer
makes (a model deleted since) are dropped before publishing. The build's environment also
carries the previous file's real path in `SEGMENTATION_PREVIOUS_PATH` (empty on the first
build) for a model that wants to compare with it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from scripts import marts

DEFAULT_PUBLISHED = Path("segmentation.duckdb")


def published_path(environ=os.environ) -> Path:
    """Where readers find the published warehouse: $SEGMENTATION_DUCKDB_PATH, else the default.
    The report, the summary and the dashboard read it from here."""
    return Path(environ.get("SEGMENTATION_DUCKDB_PATH") or DEFAULT_PUBLISHED)


DEFAULT_KEEP = 3
DBT = Path(sys.executable).with_name("dbt")
# Test and debugging hook: pause before the named step (see STEPS) until killed.
PAUSE_ENV = "SEGMENTATION_PUBLISH_PAUSE_BEFORE"
STEPS = ("dbt", "export", "export-half", "promote", "link", "cleanup")
DISK_FULL_MARKERS = ("No space left on device", "ENOSPC", "disk is full", "Disk full")


class PublishError(Exception):
    """A build that must not be published; the message says why and what to change."""


@dataclass(frozen=True)
class Store:
    published: Path  # the symlink readers open
    root: Path  # builds and publications

    @property
    def building(self) -> Path:
        return self.root / "building"

    @property
    def publications(self) -> Path:
        return self.root / "publications"

    @property
    def parquet_link(self) -> Path:
        return parquet_path(self.published)

    def current(self) -> Path | None:
        """The publication directory the published path points at, if any."""
        if not self.published.exists():
            return None
        target = self.published.resolve()
        if target.parent.parent == self.publications.resolve():
            return target.parent
        return None


def parquet_path(published: Path) -> Path:
    """Where the Parquet export of a published warehouse is: `<stem>_parquet/` beside it."""
    return published.with_name(f"{published.stem}_parquet")


def store_for(published: Path) -> Store:
    root = os.environ.get("SEGMENTATION_WAREHOUSE_DIR")
    return Store(published, Path(root) if root else published.parent / "warehouse")


def say(message: str) -> None:
    print(f"publish: {message}", flush=True)


def pause_point(step: str) -> None:
    if os.environ.get(PAUSE_ENV) == step:
        say(f"paused before {step} ({PAUSE_ENV}); waiting to be killed")
        while True:
            time.sleep(1)


def new_build_id(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%S%fZ")


@contextlib.contextmanager
def build_lock(store: Store) -> Iterator[None]:
    store.root.mkdir(parents=True, exist_ok=True)
    path = store.root / ".build.lock"
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PublishError(
                f"another build is running on {store.root} (it holds {path}); wait for it, "
                "or set SEGMENTATION_WAREHOUSE_DIR to build elsewhere"
            ) from None
        yield


# ---------------------------------------------------------------- steps


def target_path(dbt_args: list[str]) -> Path:
    for i, arg in enumerate(dbt_args):
        if arg == "--target-path" and i + 1 < len(dbt_args):
            return Path(dbt_args[i + 1])
        if arg.startswith("--target-path="):
            return Path(arg.split("=", 1)[1])
    return Path(os.environ.get("DBT_TARGET_PATH", "target"))


def dbt_environment(database: Path, previous: Path | None, environ=os.environ) -> dict[str, str]:
    """The environment of the publishing `dbt build`.

    Unit tests are left out unless `DBT_EXCLUDE_RESOURCE_TYPES` says otherwise (set it
    empty to run them too): their inputs are fixed in YAML, so a shop's export cannot
    change their outcome, and `make test` runs every one of them on each change, as dbt
    Labs recommends for production builds. Every data test still runs and still blocks
    the publication."""
    return {
        "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test",
        **environ,
        "SEGMENTATION_DUCKDB_PATH": str(database),
        "SEGMENTATION_PREVIOUS_PATH": str(previous or ""),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def run_dbt(database: Path, previous: Path | None, dbt_args: list[str]) -> None:
    """`dbt build` into `database`; its output is passed through line by line."""
    env = dbt_environment(database, previous)
    command = [str(DBT), "build", *dbt_args]
    tail: deque[str] = deque(maxlen=400)
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            tail.append(line)
            sys.stdout.write(line)
            sys.stdout.flush()
        returncode = process.wait()
    finally:
        # Interrupted (SIGTERM/SIGINT): stop dbt too, or it would keep writing.
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    if returncode != 0:
        output = "".join(tail)
        if any(marker in output for marker in DISK_FULL_MARKERS):
            raise PublishError(
                f"dbt build ran out of disk space in {database.parent}: free space there, or "
                "set SEGMENTATION_WAREHOUSE_DIR to a larger disk"
            )
        raise PublishError(f"dbt build failed (exit {returncode}); see its output above")


def mart_names(manifest_path: Path) -> list[str]:
    """The models in models/marts (tables the build made for users), from dbt's manifest."""
    try:
        return marts.mart_names(marts.load_manifest(manifest_path))
    except marts.ManifestError as error:
        raise PublishError(str(error)) from None


def drop_orphans(database: Path, manifest_path: Path) -> list[str]:
    """Drop the tables and views of `main` that no model or seed of the project makes any
    more (a copied publication can carry them); returns their names."""
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as error:
        raise PublishError(f"cannot read dbt's manifest {manifest_path}: {error}") from None
    made = {
        (node.get("alias") or node["name"]).lower()
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed", "snapshot")
    }
    with duckdb.connect(str(database)) as connection:
        relations = connection.sql(
            "select table_name, table_type from information_schema.tables"
            " where table_schema = 'main'"
        ).fetchall()
        orphans = [(name, kind) for name, kind in relations if name.lower() not in made]
        for name, kind in orphans:
            connection.execute(f'drop {"view" if kind == "VIEW" else "table"} "{name}"')
    for name, _ in orphans:
        say(f"dropped {name}: no model makes it any more")
    return [name for name, _ in orphans]


def export(database: Path, marts: list[str], directory: Path, build_id: str) -> dict:
    """Parquet of every mart, and publication.json; checkpoints the DuckDB file first."""
    parquet = directory / "parquet"
    parquet.mkdir()
    counts = {}
    with duckdb.connect(str(database)) as connection:
        existing = {
            name
            for (name,) in connection.sql(
                "select table_name from information_schema.tables where table_schema = 'main'"
            ).fetchall()
        }
        missing = [mart for mart in marts if mart not in existing]
        if missing:
            raise PublishError(f"the build made no table for the marts {', '.join(missing)}")
        for i, mart in enumerate(marts):
            if i == len(marts) // 2:
                pause_point("export-half")
            connection.execute(f"copy {mart} to '{parquet / mart}.parquet' (format parquet)")
            counts[mart] = connection.sql(f"select count(*) from {mart}").fetchone()[0]
        # Everything in the main file: a read-only reader never needs a WAL.
        connection.execute("checkpoint")
    info = {
        "build_id": build_id,
        "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "database": database.name,
        "rows": counts,
    }
    (directory / "publication.json").write_text(json.dumps(info, indent=2) + "\n")
    (parquet / "publication.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def fsync_tree(directory: Path) -> None:
    """Flushes the files and directories to disk before the swap makes them visible."""
    for path in sorted(directory.rglob("*"), reverse=True) + [directory]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def swap_link(link: Path, target: Path) -> None:
    """Points `link` at `target` in one rename (a relative link: the tree may move)."""
    relative = os.path.relpath(target, link.parent)
    temporary = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    os.symlink(relative, temporary)
    if link.is_dir() and not link.is_symlink():
        raise PublishError(f"{link} is a directory, not a link a build can swap: move it away")
    os.replace(temporary, link)


def unpublished(store: Store) -> list[Path]:
    """Publication directories newer than the published one: builds killed between their
    rename and their link swap (build ids sort by time). Only safe under the build lock."""
    current = store.current()
    if current is None or not store.publications.is_dir():
        return []
    return sorted(p for p in store.publications.iterdir() if p.is_dir() and p.name > current.name)


def cleanup(store: Store, keep: int) -> list[Path]:
    """Deletes publications beyond the newest `keep`, never the published one."""
    current = store.current()
    if current is None or not store.publications.is_dir():
        return []
    names = sorted(p.name for p in store.publications.iterdir() if p.is_dir())
    kept = set(names[-max(keep, 1) :]) | {current.name}
    removed = []
    for name in names:
        if name not in kept:
            shutil.rmtree(store.publications / name, ignore_errors=True)
            removed.append(store.publications / name)
    return removed


def publish(store: Store, dbt_args: list[str], keep: int = DEFAULT_KEEP) -> dict:
    with build_lock(store):
        previous = store.current()
        if store.building.exists():
            say(f"removing {store.building}, left by a build that did not finish")
            shutil.rmtree(store.building)
        for orphan in unpublished(store):
            say(f"removing {orphan}, built but never published (killed before its link swap)")
            shutil.rmtree(orphan)
        build_id = new_build_id()
        store.building.mkdir(parents=True)
        database = store.building / store.published.name
        previous_file = previous / store.published.name if previous else None
        say(f"building {build_id} into {database}")
        try:
            if previous_file is not None and "--full-refresh" not in dbt_args:
                say(f"starting from a copy of {previous_file} (incremental models add what is new)")
                shutil.copyfile(previous_file, database)
            pause_point("dbt")
            run_dbt(database, previous_file, dbt_args)
            drop_orphans(database, target_path(dbt_args) / "manifest.json")
            # The pre-flight's UTF-8 copy of the export (var raw_copy_directory's default
            # place, beside the build's file) is the build's input, not part of what it
            # publishes.
            shutil.rmtree(database.with_name(database.name + ".source"), ignore_errors=True)
            pause_point("export")
            info = export(
                database,
                mart_names(target_path(dbt_args) / "manifest.json"),
                store.building,
                build_id,
            )
            fsync_tree(store.building)
            pause_point("promote")
            store.publications.mkdir(exist_ok=True)
            publication = store.publications / build_id
            os.rename(store.building, publication)
        except BaseException:
            shutil.rmtree(store.building, ignore_errors=True)
            raise
        pause_point("link")
        store.published.parent.mkdir(parents=True, exist_ok=True)
        # Both links or neither: no SIGTERM/SIGINT between the two renames.
        blocked = {signal.SIGTERM, signal.SIGINT}
        signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
        try:
            swap_link(store.published, publication / store.published.name)
            swap_link(store.parquet_link, publication / "parquet")
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)
        say(
            f"published {build_id}: {store.published} and {store.parquet_link} "
            f"({', '.join(f'{n} {c:,}' for n, c in info['rows'].items() if n == 'customers')})"
        )
        pause_point("cleanup")
        for path in cleanup(store, keep):
            say(f"removed old publication {path.name}")
        return info


def describe_current(store: Store) -> str:
    current = store.current()
    if current is None:
        return f"nothing was published at {store.published} before either"
    return f"the published warehouse is untouched: {store.published} is still {current.name}"


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    own, dbt_args = (
        (argv[: argv.index("--")], argv[argv.index("--") + 1 :])
        if "--" in argv
        else (
            argv,
            [],
        )
    )
    parser = argparse.ArgumentParser(
        prog="python -m scripts.devtools.publish", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--published",
        type=Path,
        default=published_path(),
        help="the path readers open (default: $SEGMENTATION_DUCKDB_PATH or %(default)s)",
    )
    parser.add_argument(
        "--keep",
        type=int,
        default=int(os.environ.get("SEGMENTATION_KEEP_PUBLICATIONS") or DEFAULT_KEEP),
        help="publications to keep, the published one included "
        "(default: $SEGMENTATION_KEEP_PUBLICATIONS or %(default)s)",
    )
    return parser.parse_args(own), dbt_args


def main(argv: list[str] | None = None) -> int:
    args, dbt_args = parse_args(sys.argv[1:] if argv is None else argv)
    store = store_for(args.published)

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, interrupted)
    try:
        publish(store, dbt_args, args.keep)
    except KeyboardInterrupt as stop:
        say(f"interrupted ({stop or 'SIGINT'}): nothing published; {describe_current(store)}")
        return 130
    except PublishError as error:
        say(f"error: {error}; nothing published; {describe_current(store)}")
        return 1
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            say(
                f"error: no space left on the disk of {store.root} ({error}); free space or set "
                f"SEGMENTATION_WAREHOUSE_DIR to a larger disk; nothing published; "
                f"{describe_current(store)}"
            )
        else:
            say(f"error: {error}; nothing published; {describe_current(store)}")
        return 1
    except duckdb.Error as error:
        hint = (
            "; free space or set SEGMENTATION_WAREHOUSE_DIR to a larger disk"
            if any(marker in str(error) for marker in DISK_FULL_MARKERS)
            else ""
        )
        say(
            f"error: exporting the marts failed: {error}{hint}; nothing published; "
            f"{describe_current(store)}"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
