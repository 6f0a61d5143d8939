"""BI access: the published warehouse through SQLAlchemy + duckdb-engine (the driver Superset
and other Python BI tools use), read-only, while dbt is building the working database.

The demo warehouse's build DB is copied so that a real `dbt build` can run on the copy
while this test reflects and queries the published file; the build is stopped afterwards
(test_publish.py covers builds that run to the end with readers attached).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
from pathlib import Path

import duckdb
import pytest
from conftest import BuiltWarehouse
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from customer360.dbt import dbt_executable
from customer360.publish import publish
from customer360.settings import Settings


@pytest.fixture(scope="module")
def building_copy(
    demo_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """Settings whose build DB is a private copy of the demo build DB, published once."""
    root = tmp_path_factory.mktemp("bi")
    shutil.copyfile(demo_warehouse.db, root / "build.duckdb")
    settings = dataclasses.replace(
        demo_warehouse.settings,
        build_db=root / "build.duckdb",
        published_db=root / "customer360.duckdb",
        dbt_target_path=root / "target",
        dbt_log_path=root / "logs",
    )
    publish(settings)
    return settings


def read_only_engine(path: Path) -> Engine:
    return create_engine(f"duckdb:///{path}", connect_args={"read_only": True})


def published_tables(path: Path) -> dict[tuple[str, str], int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        listed = con.execute(
            "select schema_name, table_name, row_count from _publish_tables"
        ).fetchall()
    finally:
        con.close()
    return {(s, t): n for s, t, n in listed}


def build_comments(db: Path) -> dict[tuple[str, str], str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            """
            select schema_name, table_name, comment from duckdb_tables() where comment <> ''
            union all
            select schema_name, view_name, comment from duckdb_views() where comment <> ''
            """
        ).fetchall()
    finally:
        con.close()
    return {(s, t): c for s, t, c in rows}


def test_bi_reflects_and_queries_every_published_table_during_a_build(
    building_copy: Settings,
) -> None:
    settings = building_copy
    expected = published_tables(settings.published_db)
    comments = build_comments(settings.build_db)  # before dbt takes the build DB's lock
    build = subprocess.Popen(
        [dbt_executable(), "build"],
        cwd=settings.project_dir,
        env=settings.dbt_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert build.stdout is not None
        output = []
        for line in build.stdout:  # wait until dbt is writing the build DB
            output.append(line)
            if " START " in line:
                break
        assert build.poll() is None, "dbt build ended before the BI queries:\n" + "".join(output)

        engine = read_only_engine(settings.published_db)
        inspector = inspect(engine)
        schemas = {s for s, _ in expected} | {"main"}
        queried = set()
        with engine.connect() as conn:
            for schema in sorted(schemas):
                tables = set(inspector.get_table_names(schema=schema))
                assert tables == {t for s, t in expected if s == schema} or schema == "main"
                for table in sorted(tables):
                    columns = inspector.get_columns(table, schema=schema)
                    assert columns, f"{schema}.{table} reflected without columns"
                    q = f'"{schema}"."{table}"'
                    n = conn.execute(text(f"select count(*) from {q}")).scalar_one()
                    sample = conn.execute(text(f"select * from {q} limit 5")).fetchall()
                    assert len(sample) == min(n, 5)
                    assert all(len(row) == len(columns) for row in sample)
                    if (schema, table) in expected:
                        assert n == expected[(schema, table)], f"{schema}.{table}"
                    if (schema, table) in comments:  # persist_docs reaches the BI tool
                        got = inspector.get_table_comment(table, schema=schema)["text"]
                        assert got == comments[(schema, table)]
                    queried.add((schema, table))
            # read-only: a BI tool cannot change the warehouse
            with pytest.raises(DBAPIError, match="read-only"):
                conn.execute(text("create table main.scratch (i integer)"))
        engine.dispose()
        still_building = build.poll() is None
    finally:
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
        rest, _ = build.communicate(timeout=60)
    assert set(expected) <= queried
    assert {("main", "_publish"), ("main", "_publish_tables")} <= queried
    # dbt was writing the build DB for the whole session, or finished it without error
    assert still_building or build.returncode == 0, "".join(output) + rest


def test_url_form_read_only(building_copy: Settings) -> None:
    """The URL form BI tools take in a single field (Superset's SQLAlchemy URI)."""
    engine = create_engine(f"duckdb:///{building_copy.published_db}?access_mode=read_only")
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from main._publish")).scalar_one() == 1
        with pytest.raises(DBAPIError, match="read-only"):
            conn.execute(text("create table main.scratch (i integer)"))
    engine.dispose()
