"""``customer360 rotate-key``: key rotation as an operation (docs/privacy.md).

1. snapshot what must not change: every record's customer ID, every erased (tombstoned)
   ID, the erased raw rows per raw table;
2. optionally re-encrypt the build DB with a new database key (``COPY FROM DATABASE``
   into a new encrypted file, renamed over the old one);
3. re-key the erasure suppressions and the erasure requests' HMACs from the old HMAC key
   to the new one (dbt operation ``privacy_rekey_suppressions``: the clear values come from
   the raw exports, which keep the erased rows);
4. rebuild and republish with the new key (``run_build``);
5. prove: every record that had a customer ID has the same one, every erased ID is still
   erased and in no mart, and exactly the same raw rows are erased per table; otherwise
   :class:`RotationError` (the new build is then not trusted: see the message);
6. the mapping window: with ``mapping_days > 0`` (``C360_ROTATION_MAPPING_DAYS``) write
   ``<published>.pseudonym_map.duckdb`` beside the published file (0444): per pseudonymised
   column, old HMAC -> new HMAC (no clear values), with its expiry; ``0`` (the default)
   publishes no mapping: analysts' saved ``*_hmac`` values stop matching at once.
   Expired mappings are removed by the next build (:func:`remove_expired_mappings`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console

from customer360.dbt import DbtError, run_dbt
from customer360.keys import (
    DB_KEY_ENV,
    DB_KEY_FILE_ENV,
    HMAC_KEY_ENV,
    HMAC_KEY_FILE_ENV,
    ROLE_PRIVACY_OFFICER,
    PrivacyError,
    check_key_strength,
    load_db_key,
    load_hmac_key,
)
from customer360.privacy import OLD_HMAC_KEY_ENV, hmac_sql, register_hmac
from customer360.restricted_db import connect_build, rekey_database
from customer360.settings import Settings

MAPPING_DAYS_ENV = "C360_ROTATION_MAPPING_DAYS"
MAP_SUFFIX = ".pseudonym_map.duckdb"


class RotationError(PrivacyError):
    """The rotation failed or could not prove its invariants."""


@dataclass
class Snapshot:
    record_ids: dict[str, str]
    erased_ids: set[str]
    erased_rows: dict[str, int]


@dataclass
class RotationResult:
    records_checked: int
    erased_ids: int
    erased_rows: int
    suppressions: dict[str, int]
    db_key_rotated: bool
    mapping: Path | None = None
    problems: list[str] = field(default_factory=list)


def _erased_rows_table(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute(
        "select table_schema from information_schema.tables "
        "where table_name = 'privacy_erased_rows' order by 1 limit 1"
    ).fetchone()
    return f'"{row[0]}".privacy_erased_rows' if row else None


def snapshot(db: Path) -> Snapshot:
    con = connect_build(db, role=ROLE_PRIVACY_OFFICER)
    try:
        record_ids = dict(
            con.execute("select record_id, customer_id from marts.customer_source_map").fetchall()
        )
        erased = {
            r[0]
            for r in con.execute(
                "select customer_id from identity_state.identity_registry where status = 'erased'"
            ).fetchall()
        }
        table = _erased_rows_table(con)
        rows = dict(con.execute(f"select source_table, erased_rows from {table}").fetchall()) if (
            table
        ) else {}  # fmt: skip
        return Snapshot(record_ids, erased, {k: int(v) for k, v in rows.items()})
    finally:
        con.close()


def check(before: Snapshot, db: Path) -> list[str]:
    """What changed that must not: customer IDs, erased IDs, erased rows."""
    after = snapshot(db)
    problems = []
    changed = [r for r, c in before.record_ids.items() if after.record_ids.get(r) != c]
    if changed:
        problems.append(
            f"{len(changed)} records changed or lost their customer ID, e.g. "
            + ", ".join(
                f"{r}: {before.record_ids[r]} -> {after.record_ids.get(r)}" for r in changed[:3]
            )  # fmt: skip
        )
    new_records = set(after.record_ids) - set(before.record_ids)
    if new_records:
        problems.append(f"{len(new_records)} records appeared, e.g. {sorted(new_records)[:3]}")
    if not before.erased_ids <= after.erased_ids:
        problems.append(
            f"erased IDs no longer erased: {sorted(before.erased_ids - after.erased_ids)}"
        )
    back = sorted(set(after.record_ids.values()) & before.erased_ids)
    if back:
        problems.append(f"erased customer IDs are back in the source map: {back}")
    if before.erased_rows != after.erased_rows:
        problems.append(
            f"erased raw rows per table changed: before {before.erased_rows}, "
            f"after {after.erased_rows} (a suppression was not re-keyed)"
        )
    return problems


def _rekey_suppressions(settings: Settings, old_key: bytes, new_key: bytes) -> dict[str, int]:
    env = {
        HMAC_KEY_ENV: new_key.decode(),
        HMAC_KEY_FILE_ENV: "",
        OLD_HMAC_KEY_ENV: old_key.decode(),
    }
    try:
        out = run_dbt(["run-operation", "privacy_rekey_suppressions"], settings, extra_env=env)
    except DbtError as exc:
        raise RotationError(f"re-keying the erasure suppressions failed:\n{exc.output}") from exc
    match = re.search(r"rekey_suppressions: (\{.*?\})", out.stdout)
    if not match:
        raise RotationError(f"privacy_rekey_suppressions printed no counts:\n{out.stdout}")
    return {k: int(v) for k, v in json.loads(match.group(1)).items()}


def _pseudonym_columns(published: Path) -> list[tuple[str, str]]:
    """(table, column) of every ``*_hmac`` column of the published analyst file."""
    con = duckdb.connect(str(published), read_only=True)
    try:
        return con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'analyst' and column_name like '%\\_hmac' escape '\\' "
            "order by 1, 2"
        ).fetchall()
    finally:
        con.close()


def write_mapping(
    settings: Settings, old_key: bytes, new_key: bytes, days: int, previous: list[tuple[str, str]]
) -> Path:
    """old HMAC -> new HMAC of every value of every pseudonymised column, from the marts'
    clear values (computed in the restricted area; only HMACs leave it)."""
    target = settings.published_db.with_name(settings.published_db.stem + MAP_SUFFIX)
    tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    con = connect_build(settings.build_db, role=ROLE_PRIVACY_OFFICER)
    try:
        register_hmac(con, new_key)
        con.execute(f"attach '{tmp}' as m (storage_version 'v1.4.0')")
        con.execute(
            "create table m.pseudonym_map (table_name varchar, column_name varchar, "
            "old_hmac varchar, new_hmac varchar)"
        )
        old_expr = hmac_sql("v").replace("c360_hmac_", "c360_old_hmac_")
        old_ipad, old_opad = _pads(old_key)
        con.execute(f"set variable c360_old_hmac_ipad = unhex('{old_ipad}')")
        con.execute(f"set variable c360_old_hmac_opad = unhex('{old_opad}')")
        for table, column in previous:
            source = column.removesuffix("_hmac")
            exists = con.execute(
                "select count(*) from information_schema.columns where table_schema = 'marts' "
                "and table_name = ? and column_name = ?",
                [table, source],
            ).fetchone()
            if not exists or not exists[0]:
                continue
            con.execute(
                f"insert into m.pseudonym_map select distinct ?, ?, {old_expr}, {hmac_sql('v')} "
                f'from (select "{source}" as v from marts."{table}" where "{source}" is not null)',
                [table, column],
            )
        expires = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=days)
        con.execute("create table m._mapping as select ?::timestamp as expires_at", [expires])
        con.execute(
            "comment on table m.pseudonym_map is 'Old -> new pseudonym of every *_hmac value "
            f"after a key rotation; valid until {expires:%Y-%m-%d %H:%M} UTC.'"
        )
        con.execute("detach m")
    finally:
        con.close()
    tmp.chmod(0o444)
    os.replace(tmp, target)
    return target


def _pads(key: bytes) -> tuple[str, str]:
    from customer360.privacy import hmac_pads

    return hmac_pads(key)


def remove_expired_mappings(settings: Settings, now: datetime | None = None) -> list[Path]:
    """Delete ``*.pseudonym_map.duckdb`` files whose window has passed."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    removed = []
    for path in settings.published_db.parent.glob(f"*{MAP_SUFFIX}"):
        try:
            con = duckdb.connect(str(path), read_only=True)
            try:
                row = con.execute("select expires_at from _mapping").fetchone()
            finally:
                con.close()
        except duckdb.Error:
            continue
        if row and row[0] <= now:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def rotate_key(
    settings: Settings,
    new_hmac_key: str,
    console: Console,
    *,
    new_db_key: str | None = None,
    mapping_days: int | None = None,
) -> RotationResult:
    """Rotate the HMAC key (and optionally the database key); rebuild, republish, prove."""
    from customer360.pipeline import run_build

    old_key = load_hmac_key(ROLE_PRIVACY_OFFICER)
    check_key_strength(new_hmac_key, "the new HMAC key")
    new_key = new_hmac_key.encode()
    if new_key == old_key:
        raise RotationError("the new HMAC key is the current one")
    if mapping_days is None:
        mapping_days = int(os.environ.get(MAPPING_DAYS_ENV, "0") or 0)
    db = settings.build_db
    if not db.exists():
        raise RotationError(f"no build DB at {db}: nothing to rotate")
    before = snapshot(db)
    published_columns = (
        _pseudonym_columns(settings.published_db) if settings.published_db.exists() else []
    )
    rotated_db = False
    if new_db_key is not None:
        check_key_strength(new_db_key, "the new database key")
        rekey_database(db, load_db_key(ROLE_PRIVACY_OFFICER), new_db_key)
        os.environ[DB_KEY_ENV] = new_db_key
        os.environ.pop(DB_KEY_FILE_ENV, None)
        rotated_db = True
    counts = _rekey_suppressions(settings, old_key, new_key)
    os.environ[HMAC_KEY_ENV] = new_key.decode()
    os.environ.pop(HMAC_KEY_FILE_ENV, None)
    result = RotationResult(
        records_checked=len(before.record_ids),
        erased_ids=len(before.erased_ids),
        erased_rows=sum(before.erased_rows.values()),
        suppressions=counts,
        db_key_rotated=rotated_db,
    )
    if not run_build(settings, console):
        raise RotationError(
            "the rebuild with the new key failed: the suppressions are already re-keyed, so fix "
            "the cause and run `customer360 build` with the NEW key (the published file is "
            "still the old-key one)"
        )
    result.problems = check(before, db)
    if result.problems:
        raise RotationError("rotation finished but its proof failed: " + "; ".join(result.problems))
    if mapping_days > 0 and published_columns:
        result.mapping = write_mapping(settings, old_key, new_key, mapping_days,
                                       published_columns)  # fmt: skip
    return result


def summary(result: RotationResult) -> dict[str, Any]:
    return {
        "records_checked": result.records_checked,
        "erased_ids": result.erased_ids,
        "erased_rows": result.erased_rows,
        "suppressions": result.suppressions,
        "db_key_rotated": result.db_key_rotated,
        "mapping": str(result.mapping) if result.mapping else None,
    }
