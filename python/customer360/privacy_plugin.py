"""dbt-duckdb plugin (profiles.yml ``plugins:``): gives every dbt connection the HMAC key.

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

from customer360.privacy import PrivacyKeyError, hmac_pads, load_hmac_key


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
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
        self._set(conn)

    def configure_cursor(self, cursor: Any) -> None:
        self._set(cursor)
