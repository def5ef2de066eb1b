"""One row per file of the shop's export, read once before anything is staged.

The pre-flight step: fails the build, in one message naming the file, the columns
found, the mapped columns missing and the delimiter and encoding used, when the
export cannot be read as configured. Its record counts, made by Python and not by
the warehouse's CSV reader, are the raw side of the reconciliation test.
"""

import pandas as pd

from customer_segmentation.source_audit import (
    SourceError,
    audit_source,
    mapping_problems,
)


def table_audit(session, table, raw_columns):
    """A warehouse table: its columns checked, its rows counted."""
    columns = [row[0] for row in session.sql(f"describe select * from {table}").fetchall()]
    problems = mapping_problems(columns, raw_columns)
    if problems:
        raise SourceError(
            f"raw_transactions_table {table!r}: columns found: {', '.join(columns)}\n"
            + "\n".join(problems)
        )
    records = session.sql(f"select count(*) from {table}").fetchone()[0]
    return [(table, "table", None, columns, records)]


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt.config.get("source_settings")
    raw_columns = settings["raw_columns"]
    if settings["table"]:
        rows = table_audit(session, settings["table"], raw_columns)
    else:
        audits = audit_source(
            settings["path"],
            raw_columns,
            delimiter=settings["delimiter"],
            encoding=settings["encoding"],
            copy_directory=settings["copy_directory"],
        )
        rows = [
            (audit.path, audit.file_format, audit.size_bytes, audit.columns, audit.records)
            for audit in audits
        ]
    columns = ["file_path", "file_format", "size_bytes", "columns", "records"]
    frame = pd.DataFrame(rows, columns=columns)
    frame.insert(0, "file_number", range(1, len(frame) + 1))
    frame["column_names"] = frame.pop("columns").map(", ".join)
    return frame.astype({"size_bytes": "Int64", "records": "int64"})
