"""dbt-duckdb plugin (profiles.yml ``plugins:``): gives every dbt connection the HMAC key
and the look-alike identifier check (``c360_identifier_issue``, customer360.identifiers),
opens the build DB encrypted, and holds the build lock of the build DB for the dbt
process (customer360.build_state).

* **HMAC key**: the plugin derives the two HMAC pad blocks from the key and sets them as
  DuckDB session variables (``c360_hmac_ipad``, ``c360_hmac_opad``) on each connection and
  cursor. The macro ``hmac_sha256`` computes HMAC-SHA256 from them with DuckDB's native
  ``sha256``; without a key the variables stay unset and the macro raises a clear error the
  moment a model needs it. ``rotate-key`` also sets the previous key's pads
  (``c360_hmac_old_*``, from ``C360_HMAC_KEY_OLD``) for the ``privacy_rekey_suppressions``
  operation.
* **Database key**: the profile's main database is ``:memory:`` and the build DB is the
  attachment ``build``. Before dbt-duckdb attaches it (``ATTACH IF NOT EXISTS``, then a
  no-op), the plugin loads OpenSSL (httpfs, customer360.restricted_db) and
  attaches the file itself with ``ENCRYPTION_KEY`` (``C360_DB_KEY`` / ``C360_DB_KEY_FILE``),
  waiting out another process's lock. Without a key (and encryption not switched off) dbt
  fails at connect with the message that names the missing key.

No key ever appears in compiled SQL, ``target/`` or dbt's logs.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from customer360.build_state import lock_for_dbt
from customer360.identifiers import register as register_identifier_check
from customer360.keys import (
    HMAC_KEY_ENV,
    HMAC_KEY_FILE_ENV,
    PrivacyKeyError,
    load_db_key,
    load_hmac_key,
)
from customer360.privacy import OLD_HMAC_KEY_ENV, hmac_pads
from customer360.restricted_db import BUILD_ALIAS, attach_sql, is_encrypted, load_crypto


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self._build_path = self._build_attachment()
        # one build at a time per build DB (customer360.build_state): fails at once
        lock_for_dbt(self._build_path or "")
        try:
            self._pads: tuple[str, str] | None = hmac_pads(load_hmac_key())
        except PrivacyKeyError:
            if any(os.environ.get(v, "").strip() for v in (HMAC_KEY_ENV, HMAC_KEY_FILE_ENV)):
                raise  # a key is set but unusable (too weak, unreadable file): say so now
            self._pads = None  # no key: models that need one fail with the macro's message
        old = os.environ.get(OLD_HMAC_KEY_ENV, "").strip()
        self._old_pads = hmac_pads(old.encode()) if old else None
        self._db_key = load_db_key() if self._build_path is not None else None
        if self._build_path is not None and self._db_key is None and is_encrypted(self._build_path):
            raise PrivacyKeyError(
                f"{self._build_path} is encrypted but C360_DB_ENCRYPTION=off: set C360_DB_KEY"
            )
        self._timeout = float(plugin_config.get("attach_timeout_seconds", 60))

    def _build_attachment(self) -> Path | None:
        for attachment in getattr(self.creds, "attach", None) or []:
            if attachment.alias == BUILD_ALIAS and attachment.path != ":memory:":
                return Path(attachment.path)
        return None

    def _set(self, conn: Any) -> None:
        for prefix, pads in (("c360_hmac", self._pads), ("c360_hmac_old", self._old_pads)):
            if pads is None:
                continue
            ipad, opad = pads
            conn.execute(f"set variable {prefix}_ipad = unhex('{ipad}')")
            conn.execute(f"set variable {prefix}_opad = unhex('{opad}')")

    def configure_connection(self, conn: Any) -> None:
        register_identifier_check(conn)
        self._set(conn)
        if self._build_path is None:
            return
        if self._db_key is not None:
            load_crypto(conn)
        sql = attach_sql(self._build_path, self._db_key, alias=BUILD_ALIAS, read_only=False)
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                conn.execute(sql)
                conn.execute(f"use {BUILD_ALIAS}")  # unqualified names (hooks) mean the build DB
                return
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise
                time.sleep(1.0)

    def configure_cursor(self, cursor: Any) -> None:
        register_identifier_check(cursor)
        self._set(cursor)
        if self._build_path is not None:
            cursor.execute(f"use {BUILD_ALIAS}")
