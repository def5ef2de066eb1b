"""Pre-flight check of the shop's export, run by the dbt model stg_shop__source_files.

Before any line is staged, every file the source names is opened and read once, by
Python rather than by the warehouse: its header is checked against var('raw_columns'),
its encoding is validated, and its records are counted independently of DuckDB's CSV
reader (which, for one, stops silently at a flush point of a truncated .csv.gz). The
reconciliation test compares that count with the staged lines. Every problem found is
reported in one message that names the file, what was found and the setting to change.
"""

from __future__ import annotations

import bz2
import codecs
import glob
import gzip
import lzma
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

CHUNK_BYTES = 4 << 20
# Encodings DuckDB's CSV reader decodes itself (its latin-1 refuses the bytes 0x80-0x9f,
# which cp1252 uses for quotes, dashes and the euro sign); any other is copied as UTF-8.
NATIVE_ENCODINGS = {"utf-8", "utf8", "utf-16"}
ENCODING_HINT = (
    "set var raw_csv_encoding to the file's encoding (for example latin-1, cp1252 or utf-16)"
)
WHITESPACE = "whitespace"
# What a wrong delimiter usually is.
COMMON_DELIMITERS = [",", ";", "\t", "|"]
REPORTED_RECORDS = 5


class SourceError(Exception):
    """The export cannot be read as configured; the message says why and what to set."""


@dataclass
class FileAudit:
    """What one file of the source holds, as counted by Python."""

    path: str
    file_format: str
    size_bytes: int
    columns: list[str] = field(default_factory=list)
    records: int = 0
    problems: list[str] = field(default_factory=list)


def resolve_files(path: str) -> list[str]:
    """The files a path or glob names, in the order DuckDB reads them."""
    if any(character in path for character in "*?["):
        return sorted(glob.glob(path, recursive=True))
    return [path] if os.path.exists(path) else []


def file_format(path: str) -> str:
    return "parquet" if path.lower().endswith(".parquet") else "csv"


def _open_binary(path: str):
    lower = path.lower()
    if lower.endswith(".gz"):
        return gzip.open(path, "rb")
    if lower.endswith(".bz2"):
        return bz2.open(path, "rb")
    if lower.endswith((".xz", ".lzma")):
        return lzma.open(path, "rb")
    return open(path, "rb")


def read_chunks(path: str) -> Iterator[bytes]:
    """The decompressed bytes of a file; a truncated or corrupt archive raises SourceError."""
    try:
        with _open_binary(path) as handle:
            while chunk := handle.read(CHUNK_BYTES):
                yield chunk
    except (EOFError, zlib.error, gzip.BadGzipFile, lzma.LZMAError, OSError) as error:
        raise SourceError(
            f"{path} is damaged: {error}. The archive ends early or is corrupt (an interrupted "
            "download or copy); export or copy the file again"
        ) from error


def decoded_chunks(
    chunks: Iterator[bytes], encoding: str, path: str
) -> Iterator[tuple[bytes, str]]:
    """Each chunk with its text; a byte the encoding cannot decode raises SourceError."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    for chunk in chunks:
        try:
            yield chunk, decoder.decode(chunk)
        except UnicodeDecodeError as error:
            position = offset + error.start
            sample = chunk[max(0, error.start - 20) : error.start + 20]
            raise SourceError(
                f"{path} is not {encoding}: byte {position} ({chunk[error.start]:#04x}) cannot be "
                f"decoded, near {sample!r}; {ENCODING_HINT}"
            ) from error
        offset += len(chunk)
    try:
        yield b"", decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        message = f"{path} ends inside a character: not {encoding}; {ENCODING_HINT}"
        raise SourceError(message) from error


# A quoted field longer than this is taken for a quote that is never closed.
MAX_RECORD_BYTES = 64 << 20


@dataclass
class RecordCounter:
    """Counts CSV records in a stream of bytes, the way a CSV reader splits them.

    A record ends at a line break outside double quotes; empty lines are not records
    (DuckDB skips them). Fields are counted the same way, by delimiters outside quotes,
    so that a record with more or fewer fields than the header is found wherever it is.
    Vectorized with numpy: one pass over the bytes, no Python loop per line.
    """

    delimiter: bytes
    records: int = 0
    lines: int = 0
    header_fields: int | None = None
    ragged: list[tuple[int, int]] = field(default_factory=list)
    ragged_count: int = 0
    unclosed_quote: bool = False
    _tail: bytes = b""

    def feed(self, chunk: bytes, final: bool = False) -> None:
        # The tail starts after a line break outside quotes: each feed starts outside quotes.
        data = self._tail + chunk
        if final and data and not data.endswith(b"\n"):
            data += b"\n"
        if not data:
            return
        buffer = np.frombuffer(data, dtype=np.uint8)
        # Quotes are few: a position is outside quotes when an even number of them precede it.
        quotes = np.flatnonzero(buffer == ord('"'))

        def outside(positions: np.ndarray) -> np.ndarray:
            if quotes.size == 0:
                return positions
            return positions[(np.searchsorted(quotes, positions) & 1) == 0]

        breaks = outside(np.flatnonzero(buffer == ord("\n")))
        if breaks.size == 0:
            self._tail = data
            if len(data) > MAX_RECORD_BYTES or final:
                self.unclosed_quote = True
                self._tail = b""
            return
        starts = np.concatenate(([0], breaks[:-1] + 1))
        # A record's length without its line break (and a carriage return before it).
        lengths = breaks - starts
        lengths = lengths - ((lengths > 0) & (buffer[np.maximum(breaks - 1, 0)] == ord("\r")))
        if self.delimiter:
            delimiters = outside(np.flatnonzero(buffer == self.delimiter[0]))
            fields = np.diff(np.searchsorted(delimiters, np.concatenate(([0], breaks)))) + 1
        else:
            fields = np.ones(breaks.size, dtype=np.int64)
        nonempty = np.flatnonzero(lengths > 0)
        record_fields = fields[nonempty]
        if self.header_fields is None and record_fields.size:
            self.header_fields = int(record_fields[0])
        if self.delimiter and self.header_fields is not None:
            bad = np.flatnonzero(record_fields != self.header_fields)
            self.ragged_count += int(bad.size)
            for index in bad[: max(0, REPORTED_RECORDS - len(self.ragged))]:
                line = self.lines + int(nonempty[index]) + 1
                self.ragged.append((line, int(record_fields[index])))
        self.lines += int(breaks.size)
        self.records += int(record_fields.size)
        self._tail = data[breaks[-1] + 1 :]


def split_header(line: str, delimiter: str) -> list[str]:
    """Column names of a header line (quotes removed, a UTF-8 byte order mark dropped)."""
    line = line.lstrip("\ufeff").rstrip("\r\n")
    if delimiter == WHITESPACE:
        return line.split()
    import csv

    return next(csv.reader([line], delimiter=delimiter), [])


def mapping_problems(columns: list[str], raw_columns: dict[str, str | None]) -> list[str]:
    """Duplicate column names, and mapped columns the file lacks (compared as DuckDB binds them)."""
    problems = []
    seen: dict[str, str] = {}
    for column in columns:
        if column.lower() in seen:
            problems.append(
                f"the column {column!r} appears twice in the header; DuckDB would silently read "
                f"the first and rename the second: remove or rename one in the export"
            )
        seen[column.lower()] = column
    missing = [
        f"{canonical}: {name!r}"
        for canonical, name in raw_columns.items()
        if name is not None and name.lower() not in seen
    ]
    if missing:
        problems.append(
            "mapped columns missing (var raw_columns): "
            + ", ".join(missing)
            + "; map each canonical column to one of the columns found (or to null where allowed)"
        )
    return problems


def delimiter_hint(header: str, delimiter: str) -> str:
    """A suggestion when the header splits into one column: the delimiter it does contain."""
    for candidate in COMMON_DELIMITERS:
        if candidate != delimiter and candidate in header:
            return f"; the header contains {candidate!r}: set var raw_csv_delimiter: {candidate!r}"
    if len(header.split()) > 1:
        return f"; the header is separated by spaces: set var raw_csv_delimiter: {WHITESPACE}"
    return ""


def whitespace_to_csv(chunks: Iterator[tuple[bytes, str]], output) -> Iterator[tuple[bytes, str]]:
    """Rewrites whitespace-aligned text as CSV (one field per run of non-blanks), passing it on."""
    import csv

    writer = csv.writer(output, lineterminator="\n")
    tail = ""
    for chunk, text in chunks:
        lines = (tail + text).split("\n")
        tail = lines.pop()
        writer.writerows(line.split() for line in lines if line.strip())
        yield chunk, text
    if tail.strip():
        writer.writerow(tail.split())


def audit_csv(
    path: str, raw_columns: dict, delimiter: str, encoding: str, copy_to: str | None = None
) -> FileAudit:
    """Header, records and encoding of one CSV file, read once; optionally copied as UTF-8 CSV
    (the copy DuckDB then reads, for encodings it cannot decode and whitespace-aligned files)."""
    audit = FileAudit(path, "csv", os.path.getsize(path))
    if audit.size_bytes == 0:
        audit.problems.append("the file is empty (0 bytes): not even a header")
        return audit
    counter = RecordCounter(b"" if delimiter == WHITESPACE else delimiter.encode())
    first_line = None
    output = open(copy_to, "w", encoding="utf-8", newline="") if copy_to else None  # noqa: SIM115
    try:
        chunks = decoded_chunks(read_chunks(path), encoding, path)
        if output is not None and delimiter == WHITESPACE:
            chunks = whitespace_to_csv(chunks, output)
        # Counted on the bytes where delimiters and quotes are single bytes as in ASCII.
        as_bytes = encoding.lower().replace("_", "-") in {"utf-8", "utf8", "latin-1", "cp1252"}
        for chunk, text in chunks:
            if first_line is None:
                first_line = text[:65536].lstrip("\ufeff").split("\n", 1)[0]
            if output is not None and delimiter != WHITESPACE:
                output.write(text)
            counter.feed(chunk if as_bytes else text.encode("utf-8"))
        counter.feed(b"", final=True)
    except SourceError as error:
        audit.problems.append(str(error))
        return audit
    finally:
        if output is not None:
            output.close()
    audit.columns = split_header(first_line or "", delimiter)
    audit.records = max(counter.records - 1, 0)
    if not audit.columns or audit.columns == [""]:
        audit.problems.append("the first line is empty: the file has no header")
        return audit
    problems = mapping_problems(audit.columns, raw_columns)
    if problems and len(audit.columns) == 1:
        problems[-1] += delimiter_hint(first_line, delimiter)
    audit.problems += problems
    if counter.unclosed_quote:
        audit.problems.append(
            "a double quote is opened and never closed: the rest of the file would be one value"
        )
    elif counter.ragged_count and not problems:
        shown = ", ".join(f"line {line} has {fields}" for line, fields in counter.ragged)
        audit.problems.append(
            f"{counter.ragged_count} line(s) do not have the header's {counter.header_fields} "
            f"fields ({shown}): a value holds the delimiter {delimiter!r} without quotes, a "
            "quote is not closed, or the delimiter is wrong (var raw_csv_delimiter)"
        )
    return audit


def audit_parquet(path: str, raw_columns: dict) -> FileAudit:
    """Columns and row count of a Parquet file, from its footer."""
    import pyarrow.parquet as parquet

    audit = FileAudit(path, "parquet", os.path.getsize(path))
    try:
        metadata = parquet.ParquetFile(path).metadata
    except Exception as error:  # pyarrow raises several types for a damaged footer
        audit.problems.append(f"not a readable Parquet file: {error}")
        return audit
    audit.columns = list(metadata.schema.names)
    audit.records = metadata.num_rows
    audit.problems += mapping_problems(audit.columns, raw_columns)
    return audit


def needs_copy(encoding: str, delimiter: str) -> bool:
    """Whether DuckDB reads a UTF-8 CSV copy instead of the files themselves."""
    return delimiter == WHITESPACE or encoding.lower() not in NATIVE_ENCODINGS


def copied_path(directory: str, index: int, path: str) -> str:
    """Where the UTF-8 copy of the index-th file goes: numbered so a glob keeps the order."""
    name = os.path.basename(path)
    for suffix in (".gz", ".bz2", ".xz", ".lzma"):
        name = name.removesuffix(suffix)
    return os.path.join(directory, f"{index:06d}_{name}")


def audit_source(
    path: str,
    raw_columns: dict,
    delimiter: str = ",",
    encoding: str = "utf-8",
    copy_directory: str | None = None,
) -> list[FileAudit]:
    """Audits every file of the source; raises SourceError naming every problem found."""
    files = resolve_files(path)
    if not files:
        raise SourceError(
            f"raw_transactions_path {path!r} matches no file (from the directory "
            f"{os.getcwd()}); set var raw_transactions_path or env RAW_TRANSACTIONS_PATH to "
            "a CSV or Parquet file or a glob, and run dbt from the project root"
        )
    try:
        codecs.lookup(encoding)
    except LookupError as error:
        message = f"raw_csv_encoding {encoding!r} is not an encoding Python knows"
        raise SourceError(message) from error
    copy = needs_copy(encoding, delimiter)
    if copy:
        os.makedirs(copy_directory, exist_ok=True)
        for stale in glob.glob(os.path.join(copy_directory, "*")):
            os.remove(stale)
    audits = []
    for index, file in enumerate(files):
        if file_format(file) == "parquet":
            audits.append(audit_parquet(file, raw_columns))
        else:
            target = copied_path(copy_directory, index, file) if copy else None
            audits.append(audit_csv(file, raw_columns, delimiter, encoding, target))
    formats = {audit.file_format for audit in audits}
    if len(formats) > 1:
        raise SourceError(
            f"raw_transactions_path {path!r} mixes CSV and Parquet files; point it at one kind"
        )
    failed = [audit for audit in audits if audit.problems]
    if failed or sum(audit.records for audit in audits) == 0:
        raise SourceError(problem_report(path, audits, delimiter, encoding))
    return audits


def problem_report(path: str, audits: list[FileAudit], delimiter: str, encoding: str) -> str:
    """One message: every file with a problem, what was found, and the settings used."""
    lines = [
        f"The shop's export cannot be read as configured (raw_transactions_path {path!r}, "
        f"{len(audits)} file(s), raw_csv_delimiter {delimiter!r}, raw_csv_encoding {encoding!r}):"
    ]
    for audit in audits:
        if audit.problems or len(audits) == 1:
            found = ", ".join(repr(column) for column in audit.columns) or "none"
            lines.append(f"- {audit.path}: columns found: {found}; {audit.records} line(s)")
            lines += [f"    {problem}" for problem in audit.problems]
    if not any(audit.problems for audit in audits):
        lines.append("- no file holds any line (headers only): there is nothing to segment")
    return "\n".join(lines)
