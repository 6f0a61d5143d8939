"""Look-alike identifiers: e-mails and logins that must not be matched as typed.

DuckDB's ``lower()`` folds some non-ASCII letters to ASCII (KELVIN SIGN U+212A -> ``k``,
``İ`` -> ``i``) and keeps others that look like ASCII (Cyrillic ``а``): after folding, a
stranger's ``anna.Kowalski@…`` (Kelvin sign) or ``аnna@…`` (Cyrillic a) could equal, or
pass for, an existing customer's address. So every e-mail and login is checked *before*
any case folding; a value with an issue is never used for matching (the e-mail is
flagged invalid, a login key is quarantined) and is listed with the reason in
``identity_audit``.

The check, for values that are not plain ASCII (plain ASCII has no issue; that is
decided in SQL without calling Python):

* ``compatibility_characters``: Unicode NFKC normalisation changes the value (Kelvin
  sign, fullwidth letters, ligatures, superscripts, circled letters, ...);
* ``invisible_characters``: control or format characters (zero-width space, bidi
  overrides);
* ``folds_to_ascii``: a non-ASCII letter whose lower case is ASCII (``İ``);
* ``mixed_scripts``: letters of more than one script (Latin with Cyrillic or Greek ...);
* ``confusable_with_latin``: a Cyrillic or Greek value made only of letters that look
  like Latin ones (``аррӏе``).

Values in one script that pass (``jürgen@müller.de``, ``иван@почта.рф``) are matched as
typed after ``lower()``. :func:`identifier_issue` is registered in every dbt connection
by the dbt-duckdb plugin (``customer360.privacy_plugin``) as the UDF
``c360_identifier_issue`` (per value: see :func:`register`); the ``identifier_issue``
macro calls it for non-ASCII values only. Cost at 34M values: docs/benchmarks.md
(benchmarks/bench_identifiers.py).
"""

from __future__ import annotations

import unicodedata
from typing import Any

UDF_NAME = "c360_identifier_issue"

# Cyrillic and Greek letters that render like Latin ones (Unicode confusables, lower case)
_LATIN_LOOKALIKES = set("аеорсухіјѕԁӏһԛԝкмнтвіїъьοαικνρτυχεзϲϳ")


def _script(ch: str) -> str | None:
    """The script of a letter (first word of its Unicode name), None for non-letters."""
    if not unicodedata.category(ch).startswith("L"):
        return None
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else "UNKNOWN"


def identifier_issue(value: str | None) -> str | None:
    """Why ``value`` must not be matched as typed, or None (see the module docstring)."""
    if value is None or value.isascii():
        return None
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value):
        return "invisible_characters"
    if unicodedata.normalize("NFKC", value) != value:
        return "compatibility_characters"
    for ch in value:
        if not ch.isascii() and any(c.isascii() for c in ch.lower()):
            return "folds_to_ascii"
    scripts = {s for s in map(_script, value) if s is not None}
    if len(scripts) > 1:
        return "mixed_scripts"
    if scripts & {"CYRILLIC", "GREEK"}:
        letters = [ch.lower() for ch in value if _script(ch)]
        if letters and all(ch in _LATIN_LOOKALIKES for ch in letters):
            return "confusable_with_latin"
    return None


def register(conn: Any) -> None:
    """Register ``c360_identifier_issue(varchar) -> varchar`` on a DuckDB connection."""
    import duckdb

    try:
        # a native (per-value) UDF, not an Arrow (vectorised) one: DuckDB
        # 1.5.5 corrupts the strings an Arrow UDF returns when an expression uses them
        # further ('email_' || udf(x) gave '\x00\x00...' in a filtered scan;
        # test_identifiers.py pins it). The macro calls it for non-ASCII values only.
        conn.create_function(
            UDF_NAME,
            identifier_issue,
            [duckdb.sqltype("VARCHAR")],
            duckdb.sqltype("VARCHAR"),
            type="native",
            null_handling="special",
            side_effects=False,
        )
    except duckdb.Error as exc:  # already registered on this connection
        if "already" not in str(exc).lower():
            raise
