"""One build at a time per build DB, what state the last build left, and the identity
state that commits with a good build (docs/identity.md, "Committing the ID registry").

* **Lock** (:class:`BuildLock`): ``<build db>.lock``, an exclusive ``flock`` held by
  ``customer360 build``/``demo``/``publish``/``erase``/``reset-ids`` for their whole run,
  and by every plain dbt process that opens the build DB (the dbt-duckdb plugin calls
  :func:`lock_for_dbt`). A second one fails at once with who holds it; the kernel drops
  the lock when its holder dies (also on SIGKILL). dbt started by a lock holder inherits
  the holder's token (``C360_BUILD_LOCK_TOKEN``) and runs under its lock.
* **Status** (``build_state.build_status`` in the build DB, one row): ``building`` from
  the on-run-start hook of a writing dbt command, ``dbt_passed`` or ``failed`` from its
  on-run-end hook, ``passed`` when ``customer360 build`` finished freshness, validation
  and the identity commit. ``publish`` refuses anything but ``passed``; a killed build
  leaves ``building``.
* **Identity commit** (:func:`commit_identity_state`): dbt writes the new ID registry,
  record assignments and this build's ID events to ``identity_state_pending``; the
  decision models read the committed ``identity_state``. Committing copies pending over
  committed (events appended once per invocation) in one DuckDB transaction, so a
  failure or kill at any point before or during it leaves the committed state exactly as
  the last good build left it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import duckdb

LOCK_TOKEN_ENV = "C360_BUILD_LOCK_TOKEN"
DEFER_COMMIT_ENV = "C360_DEFER_ID_COMMIT"  # dbt leaves the identity commit to the pipeline

COMMITTED_SCHEMA = "identity_state"
PENDING_SCHEMA = "identity_state_pending"
STATUS_SCHEMA = "build_state"
STATE_TABLES = ("identity_registry", "identity_record_assignments")  # replaced as a whole
EVENTS_TABLE = "identity_id_events"  # appended: this build's events


class BuildLockError(RuntimeError):
    """Another build holds the lock of this build DB."""


class BuildNotPassedError(RuntimeError):
    """The build DB's last build did not pass (or is still running)."""


# ------------------------------------------------------------------ lock


def lock_path(build_db: Path) -> Path:
    return build_db.with_name(build_db.name + ".lock")


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return "another process"
    return (
        f"pid {info.get('pid', '?')} (`{info.get('command', '?')}`, since "
        f"{info.get('started_at', '?')} UTC)"
    )


class BuildLock:
    """Exclusive, non-blocking lock of one build DB for the lifetime of the object's
    ``with`` block (see the module docstring)."""

    def __init__(self, build_db: Path, command: str) -> None:
        self.build_db = build_db
        self.path = lock_path(build_db)
        self.command = command
        self.token = uuid.uuid4().hex
        self._fh: IO[str] | None = None
        self._previous_token: str | None = None

    def __enter__(self) -> BuildLock:
        inherited = os.environ.get(LOCK_TOKEN_ENV)
        if inherited and _token_of(self.path) == inherited:
            return self  # started by the holder (e.g. erase inside a build): its lock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise BuildLockError(
                f"another customer360 build is running on {self.build_db}: "
                f"{_holder(self.path)}. Wait for it to finish (or stop it); one build "
                "at a time per build database."
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "command": self.command,
                    "started_at": f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S}",
                    "token": self.token,
                }
            )
        )
        fh.flush()
        self._fh = fh
        self._previous_token = os.environ.get(LOCK_TOKEN_ENV)
        os.environ[LOCK_TOKEN_ENV] = self.token  # dbt subprocesses run under this lock
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is None:
            return
        if self._previous_token is None:
            os.environ.pop(LOCK_TOKEN_ENV, None)
        else:
            os.environ[LOCK_TOKEN_ENV] = self._previous_token
        with contextlib.suppress(OSError):
            self._fh.seek(0)
            self._fh.truncate()
        self._fh.close()  # releases the flock
        self._fh = None


def _token_of(path: Path) -> str | None:
    try:
        return json.loads(path.read_text() or "{}").get("token")
    except (OSError, ValueError):
        return None


_DBT_LOCK: BuildLock | None = None  # held for the life of a dbt process


def lock_for_dbt(build_db: str | Path) -> None:
    """Called by the dbt-duckdb plugin when dbt opens the build DB: take the build lock
    for the rest of the process unless dbt runs under a customer360 command's lock.
    Raises BuildLockError (dbt stops at once) when another build holds it."""
    global _DBT_LOCK
    if _DBT_LOCK is not None or str(build_db) in ("", ":memory:"):
        return
    lock = BuildLock(Path(build_db).resolve(), "dbt " + " ".join(sys.argv[1:3]))
    _DBT_LOCK = lock.__enter__()


# ------------------------------------------------------------------ status


def _connect(build_db: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """The build DB through the one seam that decrypts it (customer360.restricted_db)."""
    from customer360.keys import ROLE_OPERATOR
    from customer360.restricted_db import connect_build

    return connect_build(Path(build_db), read_only=read_only, role=ROLE_OPERATOR)


def read_status(build_db: Path) -> dict[str, Any] | None:
    """The last build's status row of ``build_db`` (read-only), or None."""
    if not build_db.is_file():
        return None
    con = _connect(build_db, read_only=True)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = 'build_status'",
            [STATUS_SCHEMA],
        ).fetchall()[0][0]
        if not exists:
            return None
        cur = con.execute(f"select * from {STATUS_SCHEMA}.build_status limit 1")
        names = [d[0] for d in cur.description or ()]
        rows = cur.fetchall()
        return dict(zip(names, rows[0], strict=True)) if rows else None
    finally:
        con.close()


def _write_status(con: duckdb.DuckDBPyConnection, status: str, detail: str = "") -> None:
    """Set the one status row (inside the caller's transaction, if any)."""
    con.execute(f"create schema if not exists {STATUS_SCHEMA}")
    con.execute(
        f"create table if not exists {STATUS_SCHEMA}.build_status ("
        "status varchar, invocation_id varchar, command varchar, detail varchar, "
        "updated_at timestamp)"
    )
    row = con.execute(
        f"select invocation_id, command from {STATUS_SCHEMA}.build_status limit 1"
    ).fetchall()
    invocation, command = row[0] if row else (None, None)
    con.execute(f"delete from {STATUS_SCHEMA}.build_status")
    con.execute(
        f"insert into {STATUS_SCHEMA}.build_status "
        "values (?, ?, ?, ?, current_timestamp::timestamp)",
        [status, invocation, command, detail],
    )


def require_passed(build_db: Path) -> dict[str, Any]:
    """The status row when the last build of ``build_db`` passed; else BuildNotPassedError
    naming what happened."""
    status = read_status(build_db)
    if status is None:
        raise BuildNotPassedError(
            f"{build_db} has no build status: it was not built by this version of "
            "customer360; run `customer360 build`"
        )
    state = status.get("status")
    if state == "passed":
        return status
    why = {
        "building": "is still running or was killed before it finished",
        "failed": "failed",
        "dbt_passed": "passed dbt but was not validated (plain `dbt build`)",
    }.get(str(state), f"has status {state!r}")
    raise BuildNotPassedError(
        f"the last build of {build_db} ({status.get('command') or 'dbt'}, "
        f"invocation {status.get('invocation_id')}) {why}: not publishing it. "
        "Run `customer360 build` (it validates and publishes)."
    )


# ------------------------------------------------------------------ identity commit


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchall()[0][0]
    )


def commit_identity_state(build_db: Path, *, mark_passed: bool = True) -> bool:
    """Copy the pending identity state over the committed one and (``mark_passed``) set
    the build status to ``passed``, in one transaction. Returns False when there is
    nothing pending (the build did not touch identity). Idempotent: events of an
    invocation already committed are not appended again."""
    con = _connect(build_db, read_only=False)
    try:
        pending = all(_table_exists(con, PENDING_SCHEMA, t) for t in (*STATE_TABLES, EVENTS_TABLE))
        con.execute("begin transaction")
        if pending:
            con.execute(f"create schema if not exists {COMMITTED_SCHEMA}")
            for name in STATE_TABLES:
                con.execute(
                    f"create or replace table {COMMITTED_SCHEMA}.{name} as "
                    f"select * from {PENDING_SCHEMA}.{name}"
                )
            if not _table_exists(con, COMMITTED_SCHEMA, EVENTS_TABLE):
                con.execute(
                    f"create table {COMMITTED_SCHEMA}.{EVENTS_TABLE} as "
                    f"select * from {PENDING_SCHEMA}.{EVENTS_TABLE} limit 0"
                )
            con.execute(
                f"insert into {COMMITTED_SCHEMA}.{EVENTS_TABLE} "
                f"select * from {PENDING_SCHEMA}.{EVENTS_TABLE} "
                f"where invocation_id not in (select distinct invocation_id from "
                f"{COMMITTED_SCHEMA}.{EVENTS_TABLE})"
            )
        if mark_passed:
            _write_status(con, "passed", "freshness, validation and identity commit done")
        con.execute("commit")
        return pending
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        raise
    finally:
        con.close()


def mark_passed(build_db: Path, detail: str) -> None:
    """Record that the current build passed (its identity state is already committed)."""
    con = _connect(build_db, read_only=False)
    try:
        _write_status(con, "passed", detail)
    finally:
        con.close()


def mark_building(build_db: Path, command: str) -> None:
    """Record, before dbt starts, that ``command`` is building: a kill at any moment from
    here on (also while dbt starts up or runs its first hooks) leaves ``building``, which
    `customer360 publish` refuses. Nothing is written for a build DB that does not exist
    yet (a first build: there is nothing to publish either)."""
    if not build_db.is_file():
        return
    con = _connect(build_db, read_only=False)
    try:
        con.execute("begin transaction")
        _write_status(con, "building", f"{command} started")
        con.execute(f"update {STATUS_SCHEMA}.build_status set invocation_id = null, command = ?",
                    [command])  # fmt: skip
        con.execute("commit")
    finally:
        con.close()


def mark_failed(build_db: Path, detail: str) -> None:
    """Record that the current build failed after dbt (freshness or validation)."""
    if not build_db.is_file():
        return
    con = _connect(build_db, read_only=False)
    try:
        _write_status(con, "failed", detail)
    finally:
        con.close()
