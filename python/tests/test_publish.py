"""Atomic publish: what is published, that failures keep the old file, and that real reader
processes never see an error or a half-built warehouse while dbt builds and publishes.

The content tests publish a copy of the shared demo warehouse's build DB to temp files; the
kill and concurrency tests rebuild, kill and publish another private copy (same raw
exports, which dbt only reads).
"""

from __future__ import annotations

import dataclasses
import io
import json
import multiprocessing as mp
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
from conftest import BuiltWarehouse
from rich.console import Console

from customer360.pipeline import RunReport, run_build
from customer360.publish import (
    DEFAULT_PUBLISHED,
    RESTRICTED_SCHEMAS,
    PublishConfig,
    PublishError,
    publish,
    read_publish_info,
    temp_files,
)
from customer360.settings import Settings

# ------------------------------------------------------------------ helpers


def published_to(settings: Settings, path: Path) -> Settings:
    return dataclasses.replace(settings, published_db=path)


def relations(db: Path) -> dict[tuple[str, str], dict[str, object]]:
    """(schema, name) -> kind, comment, columns [(name, type, comment)], rows."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        dbname = con.execute("select current_database()").fetchone()[0]
        rels = con.execute(
            """
            select schema_name, table_name, 'table', comment from duckdb_tables()
            where database_name = $db
            union all
            select schema_name, view_name, 'view', comment from duckdb_views()
            where database_name = $db and not internal
            """,
            {"db": dbname},
        ).fetchall()
        out: dict[tuple[str, str], dict[str, object]] = {}
        for schema, name, kind, comment in rels:
            cols = con.execute(
                """
                select column_name, data_type, comment from duckdb_columns()
                where database_name = $db and schema_name = $s and table_name = $t
                order by column_index
                """,
                {"db": dbname, "s": schema, "t": name},
            ).fetchall()
            rows = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
            out[(schema, name)] = {"kind": kind, "comment": comment, "columns": cols, "rows": rows}
        return out
    finally:
        con.close()


def check_consistent(con: duckdb.DuckDBPyConnection) -> str:
    """Every published table has the row count the publish recorded; returns build_id."""
    build_id = con.execute("select build_id from main._publish").fetchone()[0]
    listed = con.execute(
        "select schema_name, table_name, row_count from main._publish_tables"
    ).fetchall()
    for schema, name, rows in listed:
        n = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
        if n != rows:
            raise AssertionError(f"{schema}.{name}: {n} rows, _publish_tables says {rows}")
    return build_id


def add_analyst_schema(db: Path, parquet_dir: Path) -> None:
    """A non-dbt schema in a *copy* of a build DB, so the content checks mean something
    whatever dbt has built so far: a commented table, a view, a view that breaks later."""
    parquet_dir.mkdir(parents=True, exist_ok=True)
    pq = parquet_dir / "will_vanish.parquet"
    con = duckdb.connect(str(db))
    try:
        con.execute("create schema if not exists analyst")
        con.execute(
            "create table analyst.segments as "
            "select range::integer as segment_id, 'seg-' || range as label from range(7)"
        )
        con.execute("comment on table analyst.segments is 'Customer segments, it''s a test.'")
        con.execute("comment on column analyst.segments.label is 'Readable label.'")
        con.execute("create view analyst.small_segments as select * from analyst.segments "
                    "where segment_id < 3")  # fmt: skip
        con.execute("comment on view analyst.small_segments is 'First three segments.'")
        con.execute(f"copy (select 1 as x) to '{pq}' (format parquet)")
        con.execute(f"create view analyst.broken_later as select * from read_parquet('{pq}')")
    finally:
        con.close()


# ------------------------------------------------------------------ content


@pytest.fixture(scope="module")
def extended_build(demo_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("publish-content")
    db = root / "build.duckdb"
    shutil.copyfile(demo_warehouse.db, db)
    add_analyst_schema(db, root / "files")
    settings = dataclasses.replace(
        demo_warehouse.settings, build_db=db, published_db=root / "pub" / "customer360.duckdb"
    )
    return settings, root


def test_publishes_allow_listed_schemas_with_data_and_comments(extended_build) -> None:
    settings, root = extended_build
    config = PublishConfig(include=(*DEFAULT_PUBLISHED,), exclude=("analyst.broken_later",))
    result = publish(settings, config=config)

    build = relations(settings.build_db)
    pub = relations(settings.published_db)
    expected = {k for k in build if k[0] in DEFAULT_PUBLISHED and k != ("analyst", "broken_later")}
    assert {k for k in pub if k[0] != "main"} == expected
    assert {k[1] for k in pub if k[0] == "main"} == {
        "_publish",
        "_publish_tables",
        "_publish_sources",
        "_publish_systems",  # raw tables used / not declared (customer360.coverage)
        "_publish_skipped",  # marts left empty for want of their inputs
    }
    assert not {k[0] for k in pub} & RESTRICTED_SCHEMAS
    # the marts hold PII in clear: by default only the pseudonymised copies are published
    assert "marts" not in {k[0] for k in pub}
    assert len(expected) >= 2  # at least the test's own analyst table and view
    for key in expected:
        b, p = build[key], pub[key]
        assert p["kind"] == "table", key  # views are materialised
        assert p["rows"] == b["rows"], key
        assert [(c[0], c[1]) for c in p["columns"]] == [(c[0], c[1]) for c in b["columns"]]
        assert p["comment"] == b["comment"], key
        assert [c[2] for c in p["columns"]] == [c[2] for c in b["columns"]], key
    assert pub[("analyst", "segments")]["comment"] == "Customer segments, it's a test."
    assert pub[("analyst", "small_segments")]["rows"] == 3

    info = read_publish_info(settings.published_db)
    assert info["build_id"] == result.build_id
    assert info["table_count"] == len(expected) == len(result.tables)
    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        check_consistent(con)
        sources = dict(
            ((s, t), n)
            for s, t, n in con.execute(
                "select system, table_name, row_count from _publish_sources"
            ).fetchall()
        )
        # written with the storage version duckdb 1.x clients can open
        tags = con.execute(
            "select tags from duckdb_databases() where database_name = current_database()"
        ).fetchone()[0]
    finally:
        con.close()
    assert tags["storage_version"].startswith("v1.4.0"), tags
    raw = duckdb.connect()
    orders = settings.raw_path / "shop" / "orders.parquet"
    assert (
        sources[("shop", "orders")]
        == raw.execute(f"select count(*) from read_parquet('{orders}')").fetchone()[0]
    )
    assert os.stat(settings.published_db).st_mode & 0o222 == 0  # read-only file
    assert temp_files(settings.published_db) == []


def test_table_level_include_and_exclude(extended_build, tmp_path: Path) -> None:
    settings, _ = extended_build
    settings = published_to(settings, tmp_path / "c.duckdb")
    publish(settings, config=PublishConfig(include=("analyst.segments",)))
    pub = relations(settings.published_db)
    assert {k for k in pub if k[0] != "main"} == {("analyst", "segments")}

    publish(
        settings,
        config=PublishConfig(
            include=("analyst",), exclude=("analyst.segments", "analyst.broken_later")
        ),
    )
    excluded = {("analyst", "segments"), ("analyst", "broken_later")}
    expected = {k for k in relations(settings.build_db) if k[0] == "analyst"} - excluded
    assert ("analyst", "small_segments") in expected
    assert {k for k in relations(settings.published_db) if k[0] != "main"} == expected


@pytest.mark.parametrize(
    "include", [("staging",), ("marts", "identity_state"), ("quarantine.rows",), ("main",)]
)
def test_restricted_schemas_are_refused(include: tuple[str, ...]) -> None:
    with pytest.raises(PublishError, match=include[-1].split(".")[0]):
        PublishConfig(include=include)


def test_env_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C360_PUBLISH_INCLUDE", "marts, analyst.audiences")
    monkeypatch.setenv("C360_PUBLISH_EXCLUDE", "marts.dim_customer_pii")
    config = PublishConfig.from_env()
    assert config.schemas == ("marts", "analyst")
    assert config.selects("marts", "fct_orders")
    assert not config.selects("marts", "dim_customer_pii")
    assert config.selects("analyst", "audiences") and not config.selects("analyst", "other")
    monkeypatch.setenv("C360_PUBLISH_INCLUDE", "intermediate")
    with pytest.raises(PublishError, match="intermediate"):
        PublishConfig.from_env()


def test_failed_publish_keeps_previous_file_and_removes_temp(extended_build) -> None:
    settings, root = extended_build
    settings = published_to(settings, root / "fail" / "customer360.duckdb")
    first = publish(settings, config=PublishConfig(include=("analyst",)))
    (root / "files" / "will_vanish.parquet").unlink()  # the view now fails when read
    try:
        with pytest.raises(PublishError, match=r"analyst\.broken_later"):
            publish(settings, config=PublishConfig(include=("analyst",)))
    finally:
        add_analyst_parquet(root / "files" / "will_vanish.parquet")
    assert read_publish_info(settings.published_db)["build_id"] == first.build_id
    assert temp_files(settings.published_db) == []
    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        assert check_consistent(con) == first.build_id
    finally:
        con.close()


def add_analyst_parquet(path: Path) -> None:
    duckdb.connect().execute(f"copy (select 1 as x) to '{path}' (format parquet)")


def test_stale_temp_files_of_a_killed_publish_are_removed(extended_build) -> None:
    settings, root = extended_build
    settings = published_to(settings, root / "stale" / "customer360.duckdb")
    settings.published_db.parent.mkdir(parents=True)
    stale = settings.published_db.with_name("customer360.duckdb.tmp-999999")
    stale.write_bytes(b"half a database")
    stale.with_name(stale.name + ".wal").write_bytes(b"wal")
    result = publish(settings, config=PublishConfig(include=("analyst.segments",)))
    assert set(result.removed_stale) == {stale, stale.with_name(stale.name + ".wal")}
    assert temp_files(settings.published_db) == []


def test_missing_build_db_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings.for_directory(tmp_path)
    with pytest.raises(PublishError, match="build database .* does not exist"):
        publish(settings)


# ------------------------------------------------------------------ concurrency


@pytest.fixture(scope="module")
def own_warehouse(
    demo_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """A private copy of the demo build DB (same raw exports, read-only) that these tests
    rebuild, kill and publish; published once as 'v1-initial'."""
    root = tmp_path_factory.mktemp("publish-conc")
    (root / "warehouse").mkdir()
    settings = dataclasses.replace(
        demo_warehouse.settings,
        build_db=root / "warehouse" / "build.duckdb",
        published_db=root / "warehouse" / "customer360.duckdb",
        dbt_target_path=root / "target",
        dbt_log_path=root / "logs",
    )
    shutil.copyfile(demo_warehouse.db, settings.build_db)
    publish(settings, build_id="v1-initial")
    return settings


def _cli(settings: Settings, *args: str) -> subprocess.Popen[str]:
    env = settings.dbt_env()
    env.update(
        {
            "C360_DATA_DIR": str(settings.data_dir),
            "C360_PUBLISHED_DB": str(settings.published_db),
            "PYTHONUNBUFFERED": "1",
            "COLUMNS": "120",
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "customer360.cli", *args],
        cwd=settings.project_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the kill also takes dbt
    )


def _kill_group(proc: subprocess.Popen[str]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(60)


def _assert_intact(settings: Settings, build_id: str) -> None:
    assert read_publish_info(settings.published_db)["build_id"] == build_id
    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        assert check_consistent(con) == build_id
    finally:
        con.close()


def test_killed_build_or_publish_leaves_published_file_intact(
    own_warehouse: Settings, demo_warehouse: BuiltWarehouse
) -> None:
    settings = own_warehouse
    before = read_publish_info(settings.published_db)["build_id"]

    # 1. `customer360 build` killed (with its dbt) in the middle of dbt build
    proc = _cli(settings, "build")
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if re.search(r"\d+ of \d+ START", line):
            break
    else:
        pytest.fail("build ended before dbt started a node:\n" + "".join(lines[-40:]))
    _kill_group(proc)
    assert proc.returncode == -signal.SIGKILL
    _assert_intact(settings, before)

    # a killed build did not pass: `customer360 publish` refuses it (issue 14)
    refused = _cli(settings, "publish")
    out = refused.communicate()[0]
    assert refused.returncode == 1 and "not publishing it" in out, out[-2000:]
    _assert_intact(settings, before)
    settings.build_db.with_name(settings.build_db.name + ".wal").unlink(missing_ok=True)
    shutil.copyfile(demo_warehouse.db, settings.build_db)  # back to the last good build

    # 2. `customer360 publish` killed while it writes its temp file
    for _ in range(3):  # the copy is short: retry if the kill came after the rename
        proc = _cli(settings, "publish")
        while proc.poll() is None and not temp_files(settings.published_db):
            time.sleep(0.002)
        if proc.poll() is None:
            _kill_group(proc)
            break
        proc.wait()
        before = read_publish_info(settings.published_db)["build_id"]
    else:
        pytest.fail("publish always finished before its temp file was seen")
    assert proc.returncode == -signal.SIGKILL
    assert temp_files(settings.published_db), "a killed publish leaves its temp file"
    _assert_intact(settings, before)

    # 3. the next publish removes the stale temp file and replaces the published file
    result = publish(settings)
    assert result.removed_stale and temp_files(settings.published_db) == []
    _assert_intact(settings, result.build_id)


def _reader(path: str, hold: bool, stop, ready, out: str) -> None:  # pragma: no cover
    """Reader process: read-only queries in a loop until ``stop``; results to ``out``.

    ``hold``: one connection for the whole run (must keep seeing the old version);
    otherwise a new connection per iteration (must switch to the new version)."""
    seen: list[str] = []
    errors: list[str] = []
    iterations = 0
    con = duckdb.connect(path, read_only=True) if hold else None
    ready.set()
    while not stop.is_set():
        try:
            c = con or duckdb.connect(path, read_only=True)
            try:
                build_id = check_consistent(c)
            finally:
                if con is None:
                    c.close()
            if not seen or seen[-1] != build_id:
                seen.append(build_id)
            iterations += 1
        except Exception as exc:  # every error is a test failure
            errors.append(f"{type(exc).__name__}: {exc}")
        time.sleep(0.01)
    if con is not None:
        con.close()
    Path(out).write_text(json.dumps({"seen": seen, "errors": errors, "n": iterations}))


def test_readers_keep_working_during_build_and_publish(
    own_warehouse: Settings, tmp_path: Path
) -> None:
    """Runs after the kill test on purpose: this build also proves the build DB recovers
    from a dbt killed mid-run."""
    settings = own_warehouse
    before = read_publish_info(settings.published_db)["build_id"]
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    procs = []
    for hold in (False, True):
        ready = ctx.Event()
        out = tmp_path / f"reader-{hold}.json"
        p = ctx.Process(
            target=_reader, args=(str(settings.published_db), hold, stop, ready, str(out))
        )
        p.start()
        assert ready.wait(60), "reader process did not start"
        procs.append((p, out))

    run = RunReport()
    console = Console(file=io.StringIO(), width=120)
    try:
        ok = run_build(settings, console, run=run)
        time.sleep(1.0)  # let the looping reader open the new file a few times
    finally:
        stop.set()
        for p, _ in procs:
            p.join(60)
    assert ok, console.file.getvalue()[-3000:]
    assert all(p.exitcode == 0 for p, _ in procs)

    looping, holding = (json.loads(out.read_text()) for _, out in procs)
    assert looping["errors"] == [] and holding["errors"] == []
    # a new connection sees the old version whole, then the new one whole, never back
    assert looping["seen"] == [before, run.build_id]
    # a reader that keeps its connection keeps reading the old file throughout
    assert holding["seen"] == [before] and holding["n"] > 10
    assert read_publish_info(settings.published_db)["build_id"] == run.build_id
    assert "published" in console.file.getvalue()
