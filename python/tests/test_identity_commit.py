"""The ID registry commits with the build, not before it (issue 14; docs/identity.md,
"Committing the ID registry").

* a dbt run of the identity chain SIGKILLed at every model boundary (after 0, 1, ... of
  its models finished) leaves the committed identity_state (registry, record
  assignments, ID events) exactly as the last good build left it; the same run left to
  finish does advance it (new IDs minted), so the comparison can fail;
* `customer360 build` whose validation fails leaves it unchanged too, marks the build
  failed, and `customer360 publish` refuses that build;
* one build at a time per build DB: a second build, or a plain dbt run, fails at once.

One small warehouse (300 people) serves every case; each kill is one `dbt run --select`
of the chain with one thread (deterministic boundaries).
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from customer360.build_state import BuildLock, read_status
from customer360.dbt import dbt_executable, run_dbt
from customer360.settings import Settings

pytestmark = pytest.mark.warehouse  # real dbt builds

PEOPLE = 300
# the scenario's days lie in the past (records after the build time are quarantined)
END = datetime.now(UTC).date() - timedelta(days=7)
SEED = 5
CHAIN = [
    "--select",
    "path:models/intermediate/identity/ids path:models/identity_state "
    "path:models/marts/identity path:models/intermediate/customer",
    "--threads",
    "1",
]
STATE_TABLES = ("identity_registry", "identity_record_assignments", "identity_id_events")


def committed_state(db: Path) -> dict[str, str]:
    """A digest of every committed identity_state table (order-independent)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for name in STATE_TABLES:
            rows = con.execute(f"select * from identity_state.{name}").fetchall()
            digest = hashlib.sha256()
            for row in sorted(map(repr, rows)):
                digest.update(row.encode())
            out[name] = f"{len(rows)}:{digest.hexdigest()[:16]}"
        return out
    finally:
        con.close()


def add_new_person(raw: Path, key: str) -> None:
    """Append a shop account of a person no other record knows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = raw / "shop" / "customers.parquet"
    table = pq.read_table(path)
    row = table.slice(0, 1).to_pylist()[0]
    row.update(
        customer_id=key,
        email=f"{key.lower()}@brand-new-person.org",
        phone=None,
        first_name="Nova",
        last_name=f"Newcomer{key[-2:]}",
    )
    pq.write_table(pa.concat_tables([table, pa.Table.from_pylist([row], table.schema)]), path)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Day 0 built and committed (plain `dbt build`, on-run-end commit); then the exports
    of day 1 (new people: the next build would mint IDs), staged but not resolved."""
    from customer360.generate import generate

    settings = Settings.for_directory(tmp_path_factory.mktemp("id-commit"))
    generate(settings.data_dir, people=PEOPLE, seed=SEED, end_date=END)
    run_dbt(["build", "--exclude", "resource_type:test", "resource_type:unit_test"], settings)
    generate(settings.data_dir, people=PEOPLE, seed=SEED, day=1, end_date=END)
    add_new_person(settings.raw_path, "SCNEW00001")  # the next build must mint an ID
    upstream = ["--select", "+path:models/intermediate/identity/graph"]
    run_dbt(["run", *upstream], settings)
    return settings


def _start_chain(settings: Settings) -> subprocess.Popen[str]:
    env = settings.dbt_env()
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("C360_BUILD_LOCK_TOKEN", None)
    return subprocess.Popen(
        [dbt_executable(), "run", *CHAIN],
        cwd=settings.project_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _run_and_kill_after(settings: Settings, finished: int) -> tuple[int, list[str]]:
    """Start the chain and SIGKILL it (with its process group) as soon as ``finished``
    models have completed; returns the number of models of the run and its output."""
    proc = _start_chain(settings)
    assert proc.stdout is not None
    done = 0
    total = 0
    lines: list[str] = []
    for line in proc.stdout:
        lines.append(line)
        m = re.search(r"(\d+) of (\d+) START (sql|python) ", line)
        if m:
            total = int(m.group(2))
            if done == finished:  # the next model starts: kill at this boundary
                break
        if re.search(r"\d+ of \d+ OK created", line):
            done += 1
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(60)
    assert proc.returncode == -signal.SIGKILL, "".join(lines[-30:])
    return total, lines


def test_kill_at_every_model_boundary_leaves_the_registry(warehouse: Settings) -> None:
    before = committed_state(warehouse.build_db)
    total, lines = _run_and_kill_after(warehouse, 0)
    assert total >= 15, "".join(lines[-40:])  # the chain: ids, identity_state, marts
    assert committed_state(warehouse.build_db) == before
    for finished in range(1, total):
        _, lines = _run_and_kill_after(warehouse, finished)
        assert committed_state(warehouse.build_db) == before, (finished, "".join(lines[-20:]))
        assert (read_status(warehouse.build_db) or {}).get("status") == "building"
    # left alone, the same run commits: new IDs for day 1's new people
    run_dbt(["run", *CHAIN], warehouse)
    after = committed_state(warehouse.build_db)
    assert after["identity_registry"] != before["identity_registry"]
    assert int(after["identity_id_events"].split(":")[0]) > int(
        before["identity_id_events"].split(":")[0]
    )
    assert (read_status(warehouse.build_db) or {}).get("status") == "dbt_passed"


def test_failed_validation_keeps_the_registry_and_publish_refuses(
    warehouse: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from customer360.generate import generate
    from customer360.pipeline import run_build

    generate(warehouse.data_dir, people=PEOPLE, seed=SEED, day=2, end_date=END)
    add_new_person(warehouse.raw_path, "SCNEW00002")
    before = committed_state(warehouse.build_db)
    monkeypatch.setenv("C360_ID_REGEX", "^NEVER$")  # every customer_id fails validation
    ok = run_build(warehouse, Console(width=200), source_freshness=False)
    assert not ok
    assert committed_state(warehouse.build_db) == before
    status = read_status(warehouse.build_db) or {}
    assert status.get("status") == "failed" and "validation" in str(status.get("detail"))
    env = {**warehouse.dbt_env(), "C360_PUBLISHED_DB": str(warehouse.published_db)}
    proc = subprocess.run(
        [sys.executable, "-m", "customer360.cli", "publish"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1
    said = " ".join(proc.stdout.split())  # rich wraps long lines
    assert "not publishing it" in said and "Traceback" not in proc.stdout + proc.stderr
    assert not warehouse.published_db.exists()


def test_second_build_fails_at_once(warehouse: Settings) -> None:
    from customer360.pipeline import run_build

    with BuildLock(warehouse.build_db, "customer360 build (test holder)"):
        os.environ.pop("C360_BUILD_LOCK_TOKEN", None)  # as if from another terminal
        started = time.perf_counter()
        console = Console(width=200, record=True)
        assert not run_build(warehouse, console, source_freshness=False)
        assert time.perf_counter() - started < 10
        text = console.export_text()
        assert "another customer360 build is running" in text
        assert "customer360 build (test holder)" in text
        started = time.perf_counter()
        proc = run_dbt(["run", "--select", "stg_app__users"], warehouse, check=False)
        assert proc.returncode != 0
        assert "another customer360 build is running" in proc.stdout
        assert time.perf_counter() - started < 60  # no 79 s of connection retries
