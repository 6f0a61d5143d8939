"""Opening the restricted build DB: DuckDB database encryption with the database key.

The build DB (raw e-mails, phones, names, addresses, birth dates) is written encrypted
(AES-GCM, DuckDB ``ATTACH … (ENCRYPTION_KEY …)``). DuckDB writes encrypted files securely
only with OpenSSL from its ``httpfs`` extension loaded (its built-in MbedTLS fallback
uses a non-cryptographic nonce generator and refuses to write); the extension comes from
the pinned PyPI package ``duckdb-extension-httpfs`` (the signed extension binary of this
DuckDB release) and is loaded from its file, never downloaded. Reading needs only the
key. docs/privacy.md has the measurements and the threat model.

Every Python path that opens the build DB goes through :func:`connect_build`, so that
opening it without the key fails with a message naming the role that needs it.
"""

from __future__ import annotations

import glob
import os
import time
from pathlib import Path

import duckdb

from customer360.keys import (
    ROLE_PRIVACY_OFFICER,
    PrivacyError,
    PrivacyKeyError,
    encryption_enabled,
    load_db_key,
)

#: the attach alias (= dbt's ``target.database``, as for a file named build.duckdb)
BUILD_ALIAS = "build"
STORAGE_VERSION = "v1.4.0"


def httpfs_extension() -> Path | None:
    """The httpfs extension file shipped by the pinned ``duckdb-extension-httpfs`` wheel
    for this DuckDB, or None when that package is not installed."""
    try:
        import duckdb_extension_httpfs  # type: ignore[import-not-found]
    except ImportError:
        return None
    roots = list(getattr(duckdb_extension_httpfs, "__path__", []))
    pattern = f"extensions/v{duckdb.__version__}/**/httpfs.duckdb_extension"
    for root in roots:
        found = sorted(glob.glob(os.path.join(root, pattern), recursive=True))
        if found:
            return Path(found[0])
    raise PrivacyError(
        f"duckdb-extension-httpfs has no httpfs extension for DuckDB {duckdb.__version__} "
        f"(looked in {', '.join(roots)}): pin the matching versions in pyproject.toml"
    )


def load_crypto(con: duckdb.DuckDBPyConnection) -> None:
    """Load OpenSSL (httpfs) so that this connection can write encrypted files: from the
    pinned wheel's file, else an httpfs that DuckDB already has installed (``INSTALL
    httpfs`` where its extension repository is reachable). Never downloads."""
    path = httpfs_extension()
    try:
        con.execute(f"load {_lit(str(path))}" if path is not None else "load httpfs")
    except duckdb.Error as exc:
        raise PrivacyError(
            "DuckDB needs its httpfs extension (OpenSSL) to write the encrypted build DB and "
            f"cannot load it ({exc}): `pip install -e .` installs the pinned "
            "duckdb-extension-httpfs wheel (docs/privacy.md)"
        ) from exc


def is_encrypted(path: Path) -> bool:
    """Whether a DuckDB file is encrypted (main header flag), False if it does not exist."""
    try:
        with path.open("rb") as f:
            head = f.read(28)
    except FileNotFoundError:
        return False
    if len(head) < 28 or head[8:12] != b"DUCK":
        return False
    return bool(int.from_bytes(head[20:28], "little") & 1)


def attach_sql(path: Path, key: str | None, *, alias: str, read_only: bool) -> str:
    options = [f"storage_version {_lit(STORAGE_VERSION)}"] if not read_only else []
    if key is not None:
        options.append(f"encryption_key {_lit(key)}")
    if read_only:
        options.append("read_only")
    opts = f" ({', '.join(options)})" if options else ""
    return f"attach if not exists {_lit(str(path))} as {alias}{opts}"


def connect_build(
    path: Path,
    *,
    read_only: bool = True,
    role: str = ROLE_PRIVACY_OFFICER,
    timeout: float = 60.0,
    what: str = "the build DB",
) -> duckdb.DuckDBPyConnection:
    """A connection whose default database is the build DB at ``path`` (attached as
    ``build``), decrypted with the database key. A plain (unencrypted) file opens without
    a key. Waits up to ``timeout`` s for another process's lock."""
    encrypted = is_encrypted(path)
    if read_only and not path.exists():
        raise PrivacyError(f"no DuckDB file at {path}: run `customer360 build` first")
    if not read_only and not path.exists() and encryption_enabled():
        encrypted = True  # a new build DB is created encrypted
    key = None
    if encrypted:
        try:
            key = load_db_key(role)
        except PrivacyKeyError as exc:
            raise PrivacyKeyError(f"{path} is encrypted: {exc}") from exc
        if key is None:
            raise PrivacyKeyError(
                f"{path} is encrypted but C360_DB_ENCRYPTION=off: set the database key "
                f"(C360_DB_KEY or C360_DB_KEY_FILE, role: {role}) to read it"
            )
    config = {"temp_directory": f"{path}.tmp"} if not read_only else {}
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        con = duckdb.connect(config=config)
        try:
            if encrypted and not read_only:
                load_crypto(con)
            con.execute(attach_sql(path, key, alias=BUILD_ALIAS, read_only=read_only))
            con.execute(f"use {BUILD_ALIAS}")
            return con
        except duckdb.Error as exc:
            con.close()
            message = str(exc)
            if "lock" in message.lower() and time.monotonic() < deadline:
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            if encrypted and ("key" in message.lower() or "decrypt" in message.lower()):
                raise PrivacyKeyError(
                    f"cannot decrypt {path} with the configured database key (C360_DB_KEY / "
                    f"C360_DB_KEY_FILE; role: {role}): {message}"
                ) from exc
            raise PrivacyError(f"cannot open {what} {path}: {message}") from exc


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def rekey_database(path: Path, old_key: str | None, new_key: str) -> None:
    """Re-encrypt the build DB with ``new_key`` (or encrypt a plain one: ``old_key`` None):
    ``COPY FROM DATABASE`` into a new encrypted file beside it, then rename it over the
    old one. Needs an exclusive hold: fails if a build or reader has the file open."""
    tmp = path.with_name(f"{path.name}.rekey-{os.getpid()}")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect(config={"temp_directory": f"{path}.tmp"})
    try:
        load_crypto(con)
        con.execute(attach_sql(path, old_key, alias="c360_src", read_only=False))
        con.execute("checkpoint c360_src")
        con.execute(attach_sql(tmp, new_key, alias="c360_dst", read_only=False))
        con.execute("copy from database c360_src to c360_dst")
        con.execute("checkpoint c360_dst")
        con.execute("detach c360_dst")
        con.execute("detach c360_src")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
