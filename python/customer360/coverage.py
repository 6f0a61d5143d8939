"""Which systems a build used, and which marts it skipped for want of their inputs.

The project config (:mod:`customer360.config`) declares the raw tables a user has; every
other contract table reads as an empty relation. A mart is *skipped* when none of the raw
tables it is built from is declared: it exists, with the right columns and no rows (its
reason says which tables would fill it). The raw tables behind a mart come from dbt's
manifest, walking up its parents; the walk does not pass through the identity and privacy
models (every record of every system flows through those, so they would make every mart
depend on everything), except for the identity marts themselves.

The build summary prints both lists and ``customer360 publish`` stores them in the
published file (``_publish_systems``, ``_publish_skipped``), where the report reads them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from customer360.contracts import RAW_TABLES
from customer360.raw_reader import reader_sql
from customer360.settings import Settings

#: folders whose models every record passes through (not followed, see the module doc):
#: top-level folders, and second-level ones (intermediate/identity, marts/identity)
HUB_TOP_FOLDERS = ("privacy", "audit", "identity_state")
HUB_AREA_FOLDERS = ("identity", "identity_state")


@dataclass(frozen=True)
class SystemTable:
    system: str
    table: str
    status: str  # used | not declared
    rows: int | None  # rows in the raw file (None: not declared)


@dataclass(frozen=True)
class SkippedMart:
    model: str
    schema: str
    reason: str


def system_tables(settings: Settings) -> list[SystemTable]:
    """Every contract table (and declared eighth-system table): used or not declared."""
    config = settings.config
    present = config.present_tables(settings.project_dir)
    present_keys = {(t.system, t.name) for t in present}
    out: list[SystemTable] = []
    con = duckdb.connect()
    try:
        for t in [*RAW_TABLES, *[t for t in present if t not in RAW_TABLES]]:
            if (t.system, t.name) not in present_keys:
                out.append(SystemTable(t.system, t.name, "not declared", None))
                continue
            path = settings.raw_path / t.system / f"{t.name}.{settings.raw_format}"
            rows: int | None = None
            if path.is_file():
                # the shared reader (nothing sniffed); a file it cannot read has no count
                # here - the raw contract check right after names what is wrong with it
                try:
                    row = con.execute(
                        f"select count(*) from {reader_sql(path, settings.raw_format)}"
                    ).fetchone()
                    rows = int(row[0]) if row else 0
                except duckdb.Error:
                    rows = None
            out.append(SystemTable(t.system, t.name, "used", rows))
    finally:
        con.close()
    return out


def _is_hub(node: dict) -> bool:
    folders = node.get("fqn", [])[1:-1]
    return bool(folders) and (
        folders[0] in HUB_TOP_FOLDERS or (len(folders) > 1 and folders[1] in HUB_AREA_FOLDERS)
    )


def upstream_sources(manifest: dict, unique_id: str) -> set[tuple[str, str]]:
    """(system, table) of every source a model reads, not through hub models."""
    nodes, sources = manifest["nodes"], manifest["sources"]
    start = nodes[unique_id]
    follow_hubs = _is_hub(start)
    seen: set[str] = set()
    found: set[tuple[str, str]] = set()
    stack = list(start.get("depends_on", {}).get("nodes", []))
    while stack:
        uid = stack.pop()
        if uid in seen:
            continue
        seen.add(uid)
        if uid in sources:
            found.add((sources[uid]["source_name"], sources[uid]["name"]))
            continue
        node = nodes.get(uid)
        if node is None or node.get("resource_type") != "model":
            continue
        if _is_hub(node) and not follow_hubs:
            continue
        stack.extend(node.get("depends_on", {}).get("nodes", []))
    return found


def skipped_marts(settings: Settings) -> list[SkippedMart]:
    """Marts (models under models/marts) none of whose raw tables is declared."""
    path = settings.dbt_target_path / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    config = settings.config
    out = []
    for uid, node in sorted(manifest["nodes"].items()):
        if node.get("resource_type") != "model" or node.get("package_name") != "customer360":
            continue
        if not str(node.get("original_file_path", "")).startswith("models/marts/"):
            continue
        if not node.get("config", {}).get("enabled", True):
            continue
        needs = upstream_sources(manifest, uid)
        if not needs or any(config.has(s, t) for s, t in needs):
            continue
        wanted = ", ".join(f"{s}.{t}" for s, t in sorted(needs))
        out.append(
            SkippedMart(
                node["name"],
                str(node.get("schema") or "marts"),
                f"empty: needs one of {wanted}, not declared in the project config",
            )
        )
    return out


#: marts that exist but hold null predictions when their model had not enough data: the
#: status rows of their fit tables say why (docs/clv-and-churn.md, "not enough data")
DEGRADED_STATUS_QUERIES: tuple[tuple[str, str], ...] = (
    (
        "customer_clv",
        "select name, detail from marts.clv_model_fit where record_type = 'status' and value = 0",
    ),
    (
        "customer_churn",
        "select score_name, detail from marts.churn_model_metrics "
        "where metric = 'status' and value = 0",
    ),
)


def degraded_marts(con: duckdb.DuckDBPyConnection) -> list[SkippedMart]:
    """Marts built with null predictions ("not enough data"), from their status rows; a fit
    table that was not built is left out (dbt's own output names that failure)."""
    out = []
    for mart, sql in DEGRADED_STATUS_QUERIES:
        try:
            rows = con.execute(sql).fetchall()
        except duckdb.Error:
            continue
        out.extend(SkippedMart(mart, "marts", f"not enough data ({p}): {d}") for p, d in rows)
    return out


def build_degraded_marts(settings: Settings) -> list[SkippedMart]:
    """:func:`degraded_marts` of the build DB (opened read-only)."""
    from customer360.publish import PublishError, connect_read_only

    try:
        con = connect_read_only(settings.build_db)
    except PublishError:
        return []
    try:
        return degraded_marts(con)
    finally:
        con.close()


def print_systems(settings: Settings, console: Console) -> None:
    tables = system_tables(settings)
    used = sorted({t.system for t in tables if t.status == "used"})
    absent = [f"{t.system}.{t.table}" for t in tables if t.status != "used"]
    source = settings.config.path or "default config: the seven demo systems"
    console.print(f"systems used ({source}): [bold]{', '.join(used) or 'none'}[/bold]")
    if absent:
        console.print(f"not declared (read as empty): {', '.join(absent)}")


def print_skipped(
    skipped: list[SkippedMart],
    console: Console,
    title: str = "marts skipped: none of their inputs is declared",
) -> None:
    if not skipped:
        return
    grid = Table(title=title)
    grid.add_column("mart")
    grid.add_column("why", overflow="fold")
    for s in skipped:
        grid.add_row(s.model, s.reason)
    console.print(grid)


def write_coverage_tables(con: duckdb.DuckDBPyConnection, schema: str, settings: Settings) -> None:
    """``<schema>._publish_systems`` and ``<schema>._publish_skipped`` for the report."""
    con.execute(
        f"create or replace table {schema}._publish_systems (system varchar, table_name varchar, "
        "status varchar, row_count bigint)"
    )
    rows = [(t.system, t.table, t.status, t.rows) for t in system_tables(settings)]
    if rows:
        con.executemany(f"insert into {schema}._publish_systems values (?, ?, ?, ?)", rows)
    con.execute(
        f"create or replace table {schema}._publish_skipped (model_name varchar, "
        "schema_name varchar, reason varchar)"
    )
    skipped = [(s.model, s.schema, s.reason) for s in skipped_marts(settings) + degraded_marts(con)]
    if skipped:
        con.executemany(f"insert into {schema}._publish_skipped values (?, ?, ?)", skipped)
    for name, comment in (
        ("_publish_systems", "Every raw table: used by this build or not declared in its config."),
        (
            "_publish_skipped",
            "Marts that are empty because none of their raw tables is declared, and marts "
            "whose predictions are null for want of data (reason: not enough data ...).",
        ),
    ):
        con.execute(f"comment on table {schema}.{name} is '{comment}'")


def read_coverage(con: duckdb.DuckDBPyConnection) -> tuple[list[SystemTable], list[SkippedMart]]:
    """What write_coverage_tables stored (empty lists for a file published before it)."""
    names = {
        r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()
    }
    systems: list[SystemTable] = []
    skipped: list[SkippedMart] = []
    if "_publish_systems" in names:
        systems = [
            SystemTable(*r) for r in con.execute("select * from main._publish_systems").fetchall()
        ]
    if "_publish_skipped" in names:
        skipped = [
            SkippedMart(*r) for r in con.execute("select * from main._publish_skipped").fetchall()
        ]
    return systems, skipped


def manifest_path(settings: Settings) -> Path:
    return settings.dbt_target_path / "manifest.json"
