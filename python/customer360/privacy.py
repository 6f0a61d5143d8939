"""Privacy and compliance: the HMAC key, right of access, right to erasure, audit log.

What lives where (docs/privacy.md):

* the **build DB** (restricted, never opened by analysts) holds raw personal data in
  ``staging``/``intermediate``/``marts``/``quarantine``, the ID registry in
  ``identity_state`` and the erasure requests in ``privacy``;
* the **published warehouse** holds only the ``analyst`` schema: every mart with direct
  identifiers replaced by keyed HMAC-SHA256 pseudonyms (``<column>_hmac``) and names,
  addresses and birth dates dropped or coarsened, following each column's ``meta.pii`` tag;
* the **HMAC key** and the **database key** that encrypts the build DB come from the
  environment or key files (:mod:`customer360.keys`; only ``customer360 demo`` generates
  local demo keys). A non-demo build without them fails;
* the **audit log** is a hash-chained JSONL file (:mod:`customer360.audit_log`,
  ``C360_AUDIT_LOG``, default ``privacy_audit.jsonl`` beside the build DB): one entry per
  CLI access to personal data, verified by ``customer360 audit verify``.

Erasure: :func:`erase` stores the request with HMACs of every record key and every
identifier of the person (identifiers another customer also uses are not suppressed) in
``privacy.erasure_requests`` / ``privacy.erasure_suppressions`` (created outside dbt, so
``--full-refresh`` never drops them), tombstones the customer ID (status ``erased``) in the
registry and forgets the person's record assignments. The staging base models filter every
raw row matching a suppression (macro ``privacy_is_erased``), counted as ``erased`` in the
reconciliation, so from the next build on the person leaves no row behind.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import hmac
import json
import os
import re
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from customer360 import audit_log, keys
from customer360.keys import (
    DB_KEY_ENV,
    DB_KEY_FILE_ENV,
    HMAC_KEY_ENV,
    HMAC_KEY_FILE_ENV,
    ROLE_OPERATOR,
    ROLE_PRIVACY_OFFICER,
    PrivacyError,
    PrivacyKeyError,
    ensure_key_file,
)
from customer360.restricted_db import connect_build
from customer360.settings import Settings

__all__ = [
    "DB_KEY_ENV",
    "DB_KEY_FILE_ENV",
    "HMAC_KEY_ENV",
    "HMAC_KEY_FILE_ENV",
    "PrivacyError",
    "PrivacyKeyError",
    "ensure_key_file",
]

AUDIT_LOG_ENV = "C360_AUDIT_LOG"
#: the previous HMAC key during ``customer360 rotate-key`` (read by the dbt plugin)
OLD_HMAC_KEY_ENV = "C360_HMAC_KEY_OLD"

PRIVACY_SCHEMA = "privacy"
STATE_SCHEMA = "identity_state"
PENDING_STATE_SCHEMA = "identity_state_pending"  # customer360.build_state

#: Restricted tables the erase command writes (also created by the on-run-start hook
#: ``create_privacy_state``; keep both in step).
PRIVACY_DDL: tuple[str, ...] = (
    f"create schema if not exists {PRIVACY_SCHEMA}",
    f"""create table if not exists {PRIVACY_SCHEMA}.erasure_requests (
        request_id varchar primary key,
        requested_at timestamp not null,
        requested_by varchar not null,
        subject_kind varchar not null,
        subject_hmac varchar not null,
        customer_id_hmac varchar,
        n_records integer not null,
        n_identifiers integer not null
    )""",
    f"""create table if not exists {PRIVACY_SCHEMA}.erasure_suppressions (
        request_id varchar not null,
        suppression_kind varchar not null,
        scope varchar not null,
        value_hmac varchar not null
    )""",
)

# staged identifier type -> which child tables hang off a record of this table
_CHILD_TABLES = {
    "shop.orders": ("staging.stg_shop__order_lines", "order_id"),
    "newsletter.subscribers": ("staging.stg_newsletter__email_events", "subscriber_id"),
    "app.devices": ("staging.stg_app__events", "device_id"),
}


# ------------------------------------------------------------------ key and HMAC


def load_hmac_key(role: str = ROLE_OPERATOR) -> bytes:
    """The HMAC key (``C360_HMAC_KEY`` / ``C360_HMAC_KEY_FILE``; demo: a local key file,
    only through ``customer360 demo``). See :mod:`customer360.keys`."""
    return keys.load_hmac_key(role)


def hmac_sha256(value: str, key: bytes | None = None) -> str:
    """Hex HMAC-SHA256 of ``value`` (UTF-8): what the ``hmac_sha256`` dbt macro computes."""
    key = load_hmac_key() if key is None else key
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def hmac_pads(key: bytes) -> tuple[str, str]:
    """Hex of (K xor ipad, K xor opad) for the SQL HMAC (RFC 2104, block size 64)."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key).hex(), bytes(b ^ 0x5C for b in key).hex()


def register_hmac(con: duckdb.DuckDBPyConnection, key: bytes | None = None) -> None:
    """Set the session variables the SQL ``hmac_sha256`` macro reads (as the dbt plugin
    does) on a Python connection."""
    ipad, opad = hmac_pads(load_hmac_key() if key is None else key)
    con.execute(f"set variable c360_hmac_ipad = unhex('{ipad}')")
    con.execute(f"set variable c360_hmac_opad = unhex('{opad}')")


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner (and ``C360_GROUP``) can read, whatever the umask."""
    from customer360.permissions import file_mode, secure_tree

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, file_mode())  # an existing file keeps its old mode on O_CREAT
    secure_tree(path)


#: the SQL of the ``hmac_sha256`` macro on DuckDB, for Python-side queries
def hmac_sql(expr: str) -> str:
    return (
        "sha256(getvariable('c360_hmac_opad') || unhex(sha256("
        f"getvariable('c360_hmac_ipad') || encode(cast({expr} as varchar)))))"
    )


# ------------------------------------------------------------------ audit log


def audit_log_path(settings: Settings, db: Path | None = None) -> Path:
    """``$C360_AUDIT_LOG``, else ``privacy_audit.jsonl`` beside the database accessed."""
    default = (db or settings.build_db).parent / "privacy_audit.jsonl"
    return Path(os.environ.get(AUDIT_LOG_ENV) or default)


def build_read(settings: Settings, db: Path | None = None) -> dict[str, Any]:
    """Which build an access read: the build DB, its modification time, the dbt
    invocation that last wrote it (from ``target/run_results.json``)."""
    db = db or settings.build_db
    out: dict[str, Any] = {"db": str(db)}
    with contextlib.suppress(OSError):
        out["modified_at"] = datetime.fromtimestamp(db.stat().st_mtime, UTC).isoformat()
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        meta = json.loads((settings.dbt_target_path / "run_results.json").read_text())
        out["dbt_invocation_id"] = str(meta["metadata"]["invocation_id"])
    return out


def audit(
    settings: Settings,
    command: str,
    subject_kind: str,
    subject: str,
    *,
    customer_id: str | None = None,
    outcome: str = "ok",
    detail: str | None = None,
    db: Path | None = None,
) -> dict[str, Any]:
    """Append one hash-chained entry to the audit log (:mod:`customer360.audit_log`): time,
    command, subject (customer IDs as they are, e-mails and phones as HMAC), the build read,
    OS user, host, pid, outcome."""
    if subject_kind in {"email", "phone"}:
        try:
            subject = "hmac:" + hmac_sha256(normalize_subject(subject_kind, subject))
        except PrivacyKeyError:
            subject = "sha256:" + hashlib.sha256(subject.encode()).hexdigest()
    entry = {
        "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "command": command,
        "subject_kind": subject_kind,
        "subject": subject,
        "customer_id": customer_id,
        "build": build_read(settings, db),
        "os_user": _os_user(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "outcome": outcome,
        "detail": detail,
    }
    return audit_log.append(audit_log_path(settings, db), entry)


def read_audit_log(settings: Settings, db: Path | None = None) -> list[dict[str, Any]]:
    return audit_log.read(audit_log_path(settings, db))


@contextlib.contextmanager
def audited(
    settings: Settings, command: str, subject_kind: str, subject: str, db: Path | None = None
) -> Iterator[dict[str, Any]]:
    """Log an access whether it succeeds or fails (the failure with its message). A
    command refused for a missing key read nothing and cannot sign an entry: not logged."""
    info: dict[str, Any] = {"customer_id": None}
    try:
        yield info
    except PrivacyKeyError:
        raise
    except Exception as exc:
        detail = str(exc)[:500]
        # refused for a missing key (wrapped by the command): nothing was read, no entry
        with contextlib.suppress(PrivacyKeyError):
            audit(settings, command, subject_kind, subject, outcome="error", detail=detail, db=db)
        raise
    audit(settings, command, subject_kind, subject, customer_id=info.get("customer_id"), db=db)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


# ------------------------------------------------------------------ subjects


def normalize_subject(kind: str, value: str) -> str:
    """The comparable form of a looked-up e-mail or phone (as staging normalises them)."""
    value = value.strip()
    if kind == "email":
        return value.lower()
    if kind == "phone":
        digits = re.sub(r"\D", "", value)
        if value.startswith("+"):
            return "+" + digits
        if digits.startswith("00"):
            return "+" + digits[2:]
        return digits.lstrip("0")
    return value


@dataclass
class Subject:
    kind: str  # customer_id, email, phone
    value: str
    customer_id: str | None  # the current (active) customer ID, if one was found
    customer_ids: list[str] = field(default_factory=list)  # it and every alias
    status: str | None = None
    record_ids: list[str] = field(default_factory=list)


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(row and row[0])


def _require_build(con: duckdb.DuckDBPyConnection, db: Path) -> None:
    for schema, name in (
        ("marts", "customer_source_map"),
        ("intermediate", "int_identity__identifiers"),
        (STATE_SCHEMA, "identity_registry"),
    ):
        if not _table_exists(con, schema, name):
            raise PrivacyError(f"{schema}.{name} is missing in {db}: run `customer360 build` first")


def find_subject(
    con: duckdb.DuckDBPyConnection,
    *,
    customer_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> Subject:
    """Resolve a customer ID (old IDs resolve to the current one), e-mail or phone to the
    customer and all of their records."""
    given = [(k, v) for k, v in (("customer_id", customer_id), ("email", email), ("phone", phone))
             if v]  # fmt: skip
    if len(given) != 1:
        raise PrivacyError("give exactly one of a customer ID, --email or --phone")
    kind, value = given[0]
    current: str | None = None
    status: str | None = None
    if kind == "customer_id":
        row = con.execute(
            f"select status, current_customer_id from {STATE_SCHEMA}.identity_registry "
            "where customer_id = ?",
            [value],
        ).fetchone()
        if row is None:
            raise PrivacyError(f"unknown customer ID {value!r} (not in the ID registry)")
        status, current = row[0], row[1]
    else:
        norm = normalize_subject(kind, value)
        cond = "i.identifier_value = ?"
        if kind == "phone" and not norm.startswith("+"):
            cond, norm = "i.identifier_value like '+%' || ?", norm
        rows = con.execute(
            f"""
            select distinct m.customer_id
            from intermediate.int_identity__identifiers as i
            inner join marts.customer_source_map as m on i.record_id = m.record_id
            where i.identifier_type = ? and {cond}
            """,
            [kind, norm],
        ).fetchall()
        found = sorted(r[0] for r in rows if r[0])
        if len(found) > 1:
            raise PrivacyError(
                f"{kind} {value!r} belongs to {len(found)} customers ({', '.join(found)}): "
                "shared identifiers do not identify a person; use the customer ID"
            )
        if found:
            current, status = found[0], "active"
    subject = Subject(kind, value, current, status=status)
    if current is not None:
        subject.customer_ids = [
            r[0]
            for r in con.execute(
                f"select customer_id from {STATE_SCHEMA}.identity_registry "
                "where customer_id = ? or current_customer_id = ? order by id_seq",
                [current, current],
            ).fetchall()
        ]
        subject.record_ids = [
            r[0]
            for r in con.execute(
                "select record_id from marts.customer_source_map where customer_id = ? "
                "order by record_id",
                [current],
            ).fetchall()
        ]
    elif kind == "customer_id":
        subject.customer_ids = [value]
    return subject


# ------------------------------------------------------------------ right of access


def _identity_sources(settings: Settings) -> list[dict[str, Any]]:
    from customer360.identity import identity_sources  # declared beside each staging model

    names = settings.dbt_vars().get("identity_source_models")  # eighth systems (config)
    return identity_sources(settings.project_dir, list(names) if names else None)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description or ()]
    return [_jsonable(dict(zip(names, r, strict=True))) for r in cur.fetchall()]


def subject_access(
    settings: Settings,
    *,
    customer_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    db: Path | None = None,
) -> dict[str, Any]:
    """Everything the build DB holds about one person: every staged source record (with
    system, table and record key; child rows such as order lines beneath their parent),
    the identity graph (identifiers, links, ID history) and every mart row of the
    customer. Read-only."""
    db = db or settings.build_db
    if not db.exists():
        raise PrivacyError(f"no build database at {db}: run `customer360 build` first")
    con = connect_build(db, role=ROLE_PRIVACY_OFFICER)
    try:
        _require_build(con, db)
        subject = find_subject(con, customer_id=customer_id, email=email, phone=phone)
        out: dict[str, Any] = {
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "build_db": str(db),
            "subject": {"kind": subject.kind, "value": subject.value},
            "customer_id": subject.customer_id,
            "customer_id_status": subject.status,
            "customer_ids": subject.customer_ids,
            "records": [],
            "identity": {},
            "marts": {},
        }
        if subject.customer_id is None:
            return out
        cid = subject.customer_id
        records = out["records"]
        for src in _identity_sources(settings):
            system, tbl, model, key = (
                src["source_system"], src["source_table"], src["model"], src["key"]
            )  # fmt: skip
            rows = _rows(
                con,
                f"""
                select s.* from staging.{model} as s
                inner join marts.customer_source_map as m
                    on m.record_id = '{system}.{tbl}:' || cast(s.{key} as varchar)
                where m.customer_id = ?
                order by s.{key}
                """,
                [cid],
            )
            child = _CHILD_TABLES.get(f"{system}.{tbl}")
            for row in rows:
                entry: dict[str, Any] = {
                    "source_system": system,
                    "source_table": tbl,
                    "staging_model": f"staging.{model}",
                    "record_key": row[key],
                    "data": row,
                }
                if child:
                    relation, fk = child
                    entry["child_records"] = {
                        relation: _rows(con, f"select * from {relation} where {fk} = ?", [row[key]])
                    }
                records.append(entry)
        out["identity"] = {
            "source_map": _rows(
                con,
                "select * from marts.customer_source_map where customer_id = ? order by record_id",
                [cid],
            ),
            "identifiers": _rows(
                con,
                """
                select i.* from intermediate.int_identity__identifiers as i
                inner join marts.customer_source_map as m on i.record_id = m.record_id
                where m.customer_id = ?
                order by i.identifier_type, i.identifier_value, i.record_id
                """,
                [cid],
            ),
            "id_history": _rows(
                con,
                f"select * from {STATE_SCHEMA}.identity_registry "
                "where customer_id = ? or current_customer_id = ? order by id_seq",
                [cid, cid],
            ),
        }
        for schema, name in con.execute(
            """
            select table_schema, table_name from information_schema.columns
            where table_schema = 'marts' and column_name = 'customer_id'
            order by table_name
            """
        ).fetchall():
            rows = _rows(
                con,
                f'select * from "{schema}"."{name}" where customer_id in '
                "(select unnest(?::varchar[]))",
                [subject.customer_ids],
            )
            if rows:
                out["marts"][f"{schema}.{name}"] = rows
        return out
    finally:
        con.close()


def write_json(data: dict[str, Any], path: Path | None) -> str:
    text = json.dumps(data, indent=2, sort_keys=False, default=str)
    if path is not None:
        write_private(path, text + "\n")
    return text


# ------------------------------------------------------------------ right to erasure


@dataclass(frozen=True)
class ErasureResult:
    request_id: str
    subject_kind: str
    customer_ids: tuple[str, ...]
    n_records: int
    n_identifiers: int
    n_shared_identifiers_kept: int


def _connect_write(db: Path, timeout: float = 120.0) -> duckdb.DuckDBPyConnection:
    try:
        return connect_build(db, read_only=False, role=ROLE_PRIVACY_OFFICER, timeout=timeout)
    except PrivacyKeyError:
        raise
    except PrivacyError as exc:
        raise PrivacyError(f"cannot open {db} for writing (is a build running?): {exc}") from exc


def ensure_privacy_state(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in PRIVACY_DDL:
        con.execute(ddl)


def erase(
    settings: Settings,
    *,
    customer_id: str | None = None,
    email: str | None = None,
    db: Path | None = None,
) -> ErasureResult:
    """Record an erasure request for a customer (by ID, old IDs resolve) or an e-mail.

    Stored as HMACs: every record key of the customer (``system.table`` + key) and every
    identifier value of those records that no other customer uses; for an e-mail with no
    customer, the e-mail itself. The customer ID and its aliases are tombstoned
    (status ``erased``) in the registry, and the person's record assignments and merge
    identifier values are removed from identity_state. The next build filters them out."""
    key = load_hmac_key(ROLE_PRIVACY_OFFICER)
    db = db or settings.build_db
    if not db.exists():
        raise PrivacyError(f"no build database at {db}: run `customer360 build` first")
    con = _connect_write(db)
    try:
        _require_build(con, db)
        subject = find_subject(con, customer_id=customer_id, email=email)
        if subject.customer_id is None and subject.kind == "customer_id":
            if subject.status == "erased":
                raise PrivacyError(f"customer ID {customer_id} is already erased")
            raise PrivacyError(
                f"customer ID {customer_id} has status {subject.status!r} and no current "
                "customer: nothing to erase"
            )
        records = con.execute(
            """
            select source_system || '.' || source_table as scope, record_key, record_id
            from marts.customer_source_map where customer_id = ?
            """,
            [subject.customer_id],
        ).fetchall()
        # identifiers on the person's records that no other customer's record carries
        idents = con.execute(
            """
            with own as (
                select distinct i.identifier_type, i.identifier_value
                from intermediate.int_identity__identifiers as i
                inner join marts.customer_source_map as m on i.record_id = m.record_id
                where m.customer_id = ?
            ),
            shared as (
                select distinct i.identifier_type, i.identifier_value
                from intermediate.int_identity__identifiers as i
                inner join own using (identifier_type, identifier_value)
                left join marts.customer_source_map as m on i.record_id = m.record_id
                where m.customer_id is distinct from ?
            )
            select own.identifier_type, own.identifier_value, shared.identifier_type is not null
            from own left join shared using (identifier_type, identifier_value)
            """,
            [subject.customer_id, subject.customer_id],
        ).fetchall()
        suppress = [(t, v) for t, v, is_shared in idents if not is_shared]
        n_shared = sum(1 for *_, is_shared in idents if is_shared)
        if subject.kind == "email":
            norm = normalize_subject("email", subject.value)
            if ("email", norm) not in suppress and not any(
                t == "email" and v == norm and s for t, v, s in idents
            ):
                suppress.append(("email", norm))
        request_id = f"ER-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        rows = [(request_id, "record", scope, hmac_sha256(str(k), key)) for scope, k, _ in records]
        rows += [(request_id, "identifier", t, hmac_sha256(str(v), key)) for t, v in suppress]
        ids = subject.customer_ids
        con.execute("begin transaction")
        ensure_privacy_state(con)
        con.execute(
            f"insert into {PRIVACY_SCHEMA}.erasure_requests values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                request_id,
                datetime.now(UTC).replace(tzinfo=None),
                _os_user(),
                subject.kind,
                hmac_sha256(normalize_subject(subject.kind, subject.value), key),
                hmac_sha256(subject.customer_id, key) if subject.customer_id else None,
                len(records),
                len(suppress),
            ],
        )
        if rows:
            con.executemany(
                f"insert into {PRIVACY_SCHEMA}.erasure_suppressions values (?, ?, ?, ?)", rows
            )
        if ids:
            for schema in (STATE_SCHEMA, PENDING_STATE_SCHEMA):
                # the pending copy the last build wrote (already committed, or abandoned
                # by a failed build) holds the same rows: tombstoned alike
                if _table_exists(con, schema, "identity_registry"):
                    _tombstone(con, ids, [r[2] for r in records], [v for _, v in suppress], schema)
        con.execute("commit")
        return ErasureResult(request_id, subject.kind, tuple(ids), len(records), len(suppress),
                             n_shared)  # fmt: skip
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        raise
    finally:
        con.close()


def _tombstone(
    con: duckdb.DuckDBPyConnection,
    customer_ids: list[str],
    record_ids: list[str],
    identifier_values: list[str],
    st: str = STATE_SCHEMA,
) -> None:
    """Registry: status erased (never reused), no pointer, no identifier value; the
    person's record assignments removed; identifier values in the event log redacted
    (in schema ``st``: the committed identity state or its pending copy)."""
    con.execute(
        f"""
        update {st}.identity_registry
        set status = 'erased', current_customer_id = null, merge_identifier_type = null,
            merge_identifier_value = null, merged_into_customer_id = null,
            valid_to = coalesce(valid_to, current_timestamp::timestamp)
        where customer_id in (select unnest(?::varchar[]))
        """,
        [customer_ids],
    )
    if _table_exists(con, st, "identity_record_assignments"):
        con.execute(
            f"delete from {st}.identity_record_assignments "
            "where record_id in (select unnest(?::varchar[])) "
            "or customer_id in (select unnest(?::varchar[]))",
            [record_ids, customer_ids],
        )
    if _table_exists(con, st, "identity_id_events"):
        con.execute(
            f"""
            update {st}.identity_id_events set identifier_value = null
            where customer_id in (select unnest(?::varchar[]))
               or related_customer_id in (select unnest(?::varchar[]))
               or identifier_value in (select unnest(?::varchar[]))
            """,
            [customer_ids, customer_ids, identifier_values],
        )
        cols = [r[0] for r in con.execute(f"describe {st}.identity_id_events").fetchall()]
        values = {
            "event_at": "current_timestamp::timestamp",
            "invocation_id": "'privacy-erase'",
            "event_type": "'erased'",
            "customer_id": "ids.customer_id",
        }
        select = ", ".join(values.get(c, "null") for c in cols)
        con.execute(
            f"insert into {st}.identity_id_events select {select} "
            "from (select unnest(?::varchar[]) as customer_id) as ids",
            [customer_ids],
        )


def erasure_requests(db: Path) -> list[dict[str, Any]]:
    con = connect_build(db)
    try:
        if not _table_exists(con, PRIVACY_SCHEMA, "erasure_requests"):
            return []
        return _rows(con, f"select * from {PRIVACY_SCHEMA}.erasure_requests order by 2", [])
    finally:
        con.close()
