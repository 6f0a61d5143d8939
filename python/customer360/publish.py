"""Atomic publish: copy the analyst-facing schemas of the build DB into a new DuckDB file and
rename it over the published warehouse.

Why: DuckDB allows one writer per file and a writer blocks readers. dbt therefore builds
into a working database (``Settings.build_db``, which also keeps the ID registry) that
analysts never open, and only after ``dbt build`` and validation succeed is the
analyst-facing file (``Settings.published_db``) replaced as a whole:

1. take the publisher lock (``<published>.lock``; it serialises publishers only, readers
   never touch it) and remove temp files left behind by a killed publish;
2. open the build DB read-only, ``ATTACH`` a temp file ``<published>.tmp-<pid>`` in the same
   directory (written with ``storage_compatibility_version`` v1.4.0 so duckdb 1.x clients
   can open it) and ``CREATE TABLE ... AS SELECT`` every published relation (views are
   materialised as tables), copying table and column comments (dbt ``persist_docs``);
3. write the ``_publish``, ``_publish_tables`` and ``_publish_sources`` metadata tables;
4. checkpoint, detach, ``fsync`` the file, make it read-only (0444) and ``os.replace`` it
   over the published path, then ``fsync`` the directory.

``os.replace`` is atomic on POSIX: a reader that holds the old file open keeps reading the
old inode until it closes its connection, and every new connection sees the new version
whole. A publish that fails removes its temp file; one that is killed leaves the old
published file untouched and its temp file is removed by the next publish.

What is published is an explicit allow-list (:class:`PublishConfig`): by default only the
pseudonymised ``analyst`` schema (docs/privacy.md: ``marts`` hold e-mails, phones and
names in clear). Schemas that hold raw personal data or internal state
(:data:`RESTRICTED_SCHEMAS`) can never be published.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from customer360.console import cell, literal
from customer360.keys import PrivacyError
from customer360.restricted_db import connect_build
from customer360.settings import Settings

#: Schemas published by default (missing ones are skipped): the pseudonymised analyst
#: layer, one table per mart. ``marts`` itself carries PII in clear and is published only
#: when asked for explicitly (``C360_PUBLISH_INCLUDE=marts``).
DEFAULT_PUBLISHED: tuple[str, ...] = ("analyst",)

#: Schemas that never leave the build DB: raw or lightly cleaned personal data, internal
#: state, rejected rows. Configuring one of them is an error, not a silent skip.
RESTRICTED_SCHEMAS: frozenset[str] = frozenset(
    {
        "staging",
        "intermediate",
        "identity_state",
        "identity_state_pending",
        "build_state",
        "quarantine",
        "pii",
        "restricted",
        "privacy",
    }
)

#: Metadata tables written into the ``main`` schema of the published file.
META_TABLES: tuple[str, ...] = ("_publish", "_publish_tables", "_publish_sources")

STORAGE_COMPATIBILITY_VERSION = "v1.4.0"
TEMP_MARKER = ".tmp-"
PUBLISH_ALIAS = "c360_publish_target"


class PublishError(RuntimeError):
    """Publishing failed; the previously published file is unchanged."""


# ------------------------------------------------------------------ configuration


@dataclass(frozen=True)
class PublishConfig:
    """Which relations of the build DB are published.

    ``include`` entries are ``schema`` (every table and view in it) or ``schema.relation``;
    ``exclude`` entries are ``schema.relation``. Schemas in :data:`RESTRICTED_SCHEMAS` are
    refused. Configured schemas that do not exist (yet) in the build DB are skipped.
    """

    include: tuple[str, ...] = DEFAULT_PUBLISHED
    exclude: tuple[str, ...] = ()

    @classmethod
    def from_env(cls) -> PublishConfig:
        """``C360_PUBLISH_INCLUDE`` / ``C360_PUBLISH_EXCLUDE``: comma-separated lists."""
        include = _split(os.environ.get("C360_PUBLISH_INCLUDE")) or DEFAULT_PUBLISHED
        return cls(include=include, exclude=_split(os.environ.get("C360_PUBLISH_EXCLUDE")))

    def __post_init__(self) -> None:
        for entry in (*self.include, *self.exclude):
            parts = entry.split(".")
            if len(parts) > 2 or not all(parts):
                raise PublishError(
                    f"publish config entry {entry!r} is not 'schema' or 'schema.table'"
                )
        bad = sorted({e.split(".")[0] for e in self.include} & RESTRICTED_SCHEMAS)
        if bad:
            raise PublishError(
                f"schema(s) {', '.join(bad)} hold personal or internal data and are never "
                f"published (restricted: {', '.join(sorted(RESTRICTED_SCHEMAS))})"
            )
        if any(e.startswith("main.") or e == "main" for e in self.include):
            raise PublishError("schema 'main' is reserved for the publish metadata tables")

    @property
    def schemas(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.split(".")[0] for e in self.include))

    def selects(self, schema: str, name: str) -> bool:
        if f"{schema}.{name}" in self.exclude:
            return False
        return schema in self.include or f"{schema}.{name}" in self.include


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (value or "").split(",") if p.strip())


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class PublishedTable:
    schema: str
    name: str
    source_kind: str  # 'table' or 'view' in the build DB
    rows: int
    columns: int


@dataclass(frozen=True)
class PublishResult:
    path: Path
    build_id: str
    published_at: datetime
    tables: tuple[PublishedTable, ...]
    size_bytes: int
    seconds: float
    removed_stale: tuple[Path, ...] = field(default_factory=tuple)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


@dataclass(frozen=True)
class _Relation:
    schema: str
    name: str
    kind: str
    comment: str | None
    column_comments: tuple[tuple[str, str], ...]


def new_build_id() -> str:
    """Sortable and unique: ``20261123T071500Z-1a2b3c4d``."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


# ------------------------------------------------------------------ publish


def publish(
    settings: Settings,
    *,
    config: PublishConfig | None = None,
    build_id: str | None = None,
    lock_timeout: float = 600.0,
    connect_timeout: float = 60.0,
) -> PublishResult:
    """Publish the configured schemas of ``settings.build_db`` atomically to
    ``settings.published_db``. Raises :class:`PublishError`; the old file then stays."""
    config = config or PublishConfig.from_env()
    build_id = build_id or new_build_id()
    started = time.perf_counter()
    target = settings.published_db
    if not settings.build_db.exists():
        raise PublishError(f"build database {settings.build_db} does not exist: run a build first")
    target.parent.mkdir(parents=True, exist_ok=True)

    with _publisher_lock(target, lock_timeout):
        removed = cleanup_stale_temps(target)
        tmp = target.with_name(f"{target.name}{TEMP_MARKER}{os.getpid()}")
        try:
            published_at = datetime.now(UTC).replace(tzinfo=None)
            tables = _write_published_copy(
                settings, config, build_id, published_at, tmp, connect_timeout
            )
            _fsync_file(tmp)
            tmp.chmod(0o444)  # analysts read; only the publisher replaces (needs dir access)
            os.replace(tmp, target)
            _fsync_dir(target.parent)
        except BaseException as exc:
            _remove_quietly(tmp)
            _remove_quietly(_wal(tmp))
            if isinstance(exc, PublishError):
                raise
            if isinstance(exc, duckdb.Error | OSError):
                raise PublishError(
                    f"publishing {target} failed, previous file kept: {exc}"
                ) from exc
            raise
    return PublishResult(
        path=target,
        build_id=build_id,
        published_at=published_at,
        tables=tables,
        size_bytes=target.stat().st_size,
        seconds=time.perf_counter() - started,
        removed_stale=tuple(removed),
    )


def _write_published_copy(
    settings: Settings,
    config: PublishConfig,
    build_id: str,
    published_at: datetime,
    tmp: Path,
    connect_timeout: float,
) -> tuple[PublishedTable, ...]:
    con = connect_read_only(settings.build_db, timeout=connect_timeout)
    try:
        relations = _relations_to_publish(con, config)
        con.execute(
            f"attach {_lit(str(tmp))} as {PUBLISH_ALIAS} "
            f"(storage_version {_lit(STORAGE_COMPATIBILITY_VERSION)}, read_only false)"
        )
        out: list[PublishedTable] = []
        for schema in dict.fromkeys(r.schema for r in relations):
            con.execute(f"create schema {PUBLISH_ALIAS}.{_ident(schema)}")
        for rel in relations:
            out.append(_copy_relation(con, rel))
        _write_metadata(con, settings, build_id, published_at, out)
        con.execute(f"checkpoint {PUBLISH_ALIAS}")
        con.execute(f"detach {PUBLISH_ALIAS}")
        return tuple(out)
    finally:
        con.close()


def _relations_to_publish(con: duckdb.DuckDBPyConnection, config: PublishConfig) -> list[_Relation]:
    db = con.execute("select current_database()").fetchone()[0]  # type: ignore[index]
    rows = con.execute(
        """
        select schema_name, table_name, 'table' as kind, comment
        from duckdb_tables() where database_name = $db and not internal and not temporary
        union all
        select schema_name, view_name, 'view', comment
        from duckdb_views() where database_name = $db and not internal and not temporary
        order by 1, 2
        """,
        {"db": db},
    ).fetchall()
    comments: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, name, column, comment in con.execute(
        """
        select schema_name, table_name, column_name, comment
        from duckdb_columns()
        where database_name = $db and comment is not null and comment <> ''
        order by schema_name, table_name, column_index
        """,
        {"db": db},
    ).fetchall():
        comments.setdefault((schema, name), []).append((column, comment))
    return [
        _Relation(schema, name, kind, comment, tuple(comments.get((schema, name), ())))
        for schema, name, kind, comment in rows
        if schema in config.schemas and config.selects(schema, name)
    ]


def _copy_relation(con: duckdb.DuckDBPyConnection, rel: _Relation) -> PublishedTable:
    src = f"{_ident(rel.schema)}.{_ident(rel.name)}"
    dst = f"{PUBLISH_ALIAS}.{src}"
    try:
        con.execute(f"create table {dst} as select * from {src}")
    except duckdb.Error as exc:
        raise PublishError(
            f"cannot publish {rel.schema}.{rel.name} ({rel.kind}) from the build DB: {exc}"
        ) from exc
    if rel.comment:
        con.execute(f"comment on table {dst} is {_lit(rel.comment)}")
    for column, comment in rel.column_comments:
        con.execute(f"comment on column {dst}.{_ident(column)} is {_lit(comment)}")
    rows = con.execute(f"select count(*) from {dst}").fetchone()[0]  # type: ignore[index]
    ncols = len(con.execute(f"select * from {dst} limit 0").description or ())
    return PublishedTable(rel.schema, rel.name, rel.kind, int(rows), ncols)


def _write_metadata(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    build_id: str,
    published_at: datetime,
    tables: list[PublishedTable],
) -> None:
    p = f"{PUBLISH_ALIAS}.main"
    invocation_id = _dbt_invocation_id(settings)
    con.execute(
        f"""
        create table {p}._publish as
        select
            $build_id::varchar as build_id,
            $published_at::timestamp as published_at,
            $invocation_id::varchar as dbt_invocation_id,
            $build_db::varchar as build_db,
            $duckdb_version::varchar as duckdb_version,
            $storage::varchar as storage_compatibility_version,
            $n_tables::integer as table_count
        """,
        {
            "build_id": build_id,
            "published_at": published_at,
            "invocation_id": invocation_id,
            "build_db": str(settings.build_db),
            "duckdb_version": duckdb.__version__,
            "storage": STORAGE_COMPATIBILITY_VERSION,
            "n_tables": len(tables),
        },
    )
    con.execute(
        f"create table {p}._publish_tables (schema_name varchar, table_name varchar, "
        "source_kind varchar, row_count bigint, column_count integer)"
    )
    if tables:
        con.executemany(
            f"insert into {p}._publish_tables values (?, ?, ?, ?, ?)",
            [(t.schema, t.name, t.source_kind, t.rows, t.columns) for t in tables],
        )
    con.execute(
        f"create table {p}._publish_sources (system varchar, table_name varchar, "
        "file varchar, row_count bigint)"
    )
    sources = source_row_counts(con, settings)
    if sources:
        con.executemany(f"insert into {p}._publish_sources values (?, ?, ?, ?)", sources)
    from customer360.coverage import write_coverage_tables

    write_coverage_tables(con, p, settings)  # systems used, marts skipped (for the report)
    for name, comment in (
        ("_publish", "One row: which build this file is (build_id), when it was published."),
        ("_publish_tables", "Every published table with its row and column count."),
        ("_publish_sources", "Rows per raw export file the published build was made from."),
    ):
        con.execute(f"comment on table {p}.{name} is {_lit(comment)}")


def source_row_counts(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> list[tuple[str, str, str, int]]:
    """(system, table, file, rows) for every raw export file of the tables the project
    config declares (customer360.config) that exists."""
    reader = "read_parquet" if settings.raw_format == "parquet" else "read_csv"
    out = []
    for t in settings.config.present_tables(settings.project_dir):
        path = Path(t.path(str(settings.raw_path), settings.raw_format))
        if not path.exists():
            continue
        n = con.execute(f"select count(*) from {reader}({_lit(str(path))})").fetchone()[0]  # type: ignore[index]
        out.append((t.system, t.name, str(path), int(n)))
    return out


def _dbt_invocation_id(settings: Settings) -> str | None:
    run_results = settings.dbt_target_path / "run_results.json"
    try:
        meta = json.loads(run_results.read_text())["metadata"]
        return str(meta["invocation_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


# ------------------------------------------------------------------ readers


def connect_read_only(path: Path, timeout: float = 60.0) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file read-only (attached as ``build``, the catalog its views name),
    waiting up to ``timeout`` s for a writer's lock; an encrypted build DB needs the
    database key (docs/privacy.md)."""
    if not path.exists():
        raise PublishError(f"DuckDB file {path} does not exist")
    try:
        return connect_build(path, timeout=timeout, what="the DuckDB file (is a build writing it?)")
    except PrivacyError as exc:
        raise PublishError(str(exc)) from exc


def read_publish_info(path: Path) -> dict[str, object]:
    """The ``_publish`` row of a published file (read-only)."""
    con = connect_read_only(path, timeout=5)
    try:
        cur = con.execute("select * from main._publish")
        names = [d[0] for d in cur.description or ()]
        row = cur.fetchone()
    finally:
        con.close()
    if row is None:
        raise PublishError(f"{path} has an empty _publish table")
    return dict(zip(names, row, strict=True))


def print_publish_result(result: PublishResult, console: Console) -> None:
    """What was published: tables with rows, size, time, build id."""
    table = Table(title=f"published {literal(result.path.name)} (build {literal(result.build_id)})")
    table.add_column("schema")
    table.add_column("table")
    table.add_column("from")
    table.add_column("rows", justify="right")
    table.add_column("columns", justify="right")
    for t in result.tables:
        table.add_row(
            cell(t.schema),
            cell(t.name),
            cell(t.source_kind),
            f"{t.rows:,}",
            str(t.columns),
        )
    if not result.tables:
        table.add_row("-", "(no configured schema exists in the build DB yet)", "", "0", "")
    console.print(table)
    console.print(
        f"published {len(result.tables)} tables, {result.rows:,} rows, "
        f"{result.size_bytes / 1e6:.1f} MB in {result.seconds:.1f} s -> {literal(result.path)}"
        + (
            f" (removed {len(result.removed_stale)} stale temp file(s))"
            if result.removed_stale
            else ""
        )
    )


# ------------------------------------------------------------------ files and locks


def temp_files(published_db: Path) -> list[Path]:
    """Temp files of (possibly killed) publishes beside ``published_db``."""
    return sorted(published_db.parent.glob(f"{published_db.name}{TEMP_MARKER}*"))


def cleanup_stale_temps(published_db: Path) -> list[Path]:
    """Remove temp files of earlier publishes. Only call with the publisher lock held: then
    no other publish is running, so every temp file is stale."""
    removed = []
    for path in temp_files(published_db):
        _remove_quietly(path)
        removed.append(path)
    return removed


@contextlib.contextmanager
def _publisher_lock(published_db: Path, timeout: float) -> Iterator[None]:
    lock_path = published_db.with_name(f"{published_db.name}.lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() >= deadline:
                    raise PublishError(
                        f"another publish of {published_db} holds {lock_path} for over "
                        f"{timeout:.0f} s"
                    ) from exc
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # releases the flock (also released by the kernel if we are killed)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
