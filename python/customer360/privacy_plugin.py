"""dbt-duckdb plugin (profiles.yml ``plugins:``): gives every dbt connection the HMAC key
and the look-alike identifier check (``c360_identifier_issue``, customer360.identifiers),
and holds the build lock of the build DB for the dbt process (customer360.build_state).

The key never appears in SQL, compiled files or logs: the plugin derives the two HMAC pad
blocks from the key and sets them as DuckDB session variables (``c360_hmac_ipad``,
``c360_hmac_opad``) on each connection and cursor. The macro ``hmac_sha256``
(macros/pseudonymisation) computes HMAC-SHA256 from them with DuckDB's native ``sha256``;
when no key is configured the variables stay unset and the macro raises a clear error the
moment a model needs it.
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from customer360.build_state import lock_for_dbt
from customer360.identifiers import register as register_identifier_check
from customer360.privacy import PrivacyKeyError, hmac_pads, load_hmac_key


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        # one build at a time per build DB (customer360.build_state): fails at once
        lock_for_dbt(getattr(self.creds, "path", "") or "")
        try:
            self._pads: tuple[str, str] | None = hmac_pads(load_hmac_key())
        except PrivacyKeyError:
            self._pads = None  # models that need the key fail with the macro's message

    def _set(self, conn: Any) -> None:
        if self._pads is None:
            return
        ipad, opad = self._pads
        conn.execute(f"set variable c360_hmac_ipad = unhex('{ipad}')")
        conn.execute(f"set variable c360_hmac_opad = unhex('{opad}')")

    def configure_connection(self, conn: Any) -> None:
        register_identifier_check(conn)
        self._set(conn)

    def configure_cursor(self, cursor: Any) -> None:
        register_identifier_check(cursor)
        self._set(cursor)
