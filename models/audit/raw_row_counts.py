"""Rows per raw export file, counted by an independent reader (pyarrow, not DuckDB).

The reconciliation raw = staged + quarantined + erased (quarantine_summary and the
raw_rows_reconcile tests) takes its raw side from here, so a row that DuckDB's reader
skips (a comment-like line, a quote it reads differently) cannot vanish from both sides
of the equation. CSV: pyarrow's streaming parser with the same dialect (no comment
character); Parquet: the file footer. See customer360.raw_reader.
"""

import ast
import os
from pathlib import Path


def _resolved(value, env, default):
    # dbt does not render the Jinja default of a dbt_project.yml var: resolve it here
    # the way the sources' external_location does; `--vars` values win.
    if value is None or str(value).startswith("{" * 2):
        return os.environ.get(env, default)
    return str(value)


def model(dbt, session):
    import pyarrow as pa

    from customer360.contracts import RAW_TABLES
    from customer360.raw_reader import count_rows

    dbt.config(materialized="table")
    raw_path = Path(_resolved(dbt.config.get("raw_path"), "C360_RAW_PATH", "data/raw"))
    raw_format = _resolved(dbt.config.get("raw_format"), "C360_RAW_FORMAT", "parquet")
    # a table the project config does not declare reads as an empty relation (sources):
    # its file is not opened here either, and it counts 0 raw rows
    systems = dbt.config.get("systems")  # dbt renders the var natively: a dict, or None
    if isinstance(systems, str):  # ... or, rendered as text, its literal
        systems = ast.literal_eval(systems) if systems.strip() else None
    tables, files, rows = [], [], []
    for t in RAW_TABLES:
        path = Path(t.path(str(raw_path), raw_format))
        declared = systems.get(t.system) if systems is not None else "all"
        if declared != "all" and t.name not in (declared or []):
            tables.append(f"{t.system}.{t.name}")
            files.append(None)
            rows.append(0)
            continue
        try:
            n = count_rows(path, raw_format)
        except (ValueError, OSError) as exc:
            raise RuntimeError(
                f"raw_row_counts: {t.system}.{t.name} ({path}) cannot be counted: {exc}. "
                "Run `customer360 check-raw` for the line and the cause."
            ) from exc
        tables.append(f"{t.system}.{t.name}")
        files.append(str(path))
        rows.append(n)
    return pa.table(
        {
            "source_table": pa.array(tables, pa.string()),
            "raw_file": pa.array(files, pa.string()),
            "raw_rows": pa.array(rows, pa.int64()),
        }
    )
