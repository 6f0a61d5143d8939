"""The look-alike identifier UDF as dbt's connections see it (customer360.identifiers)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from customer360.identifiers import identifier_issue, register

VALUES = [
    "anna.\u212aowalski@example.com",  # Kelvin sign
    "\u0430nna@example.com",  # Cyrillic a
    "jürgen@müller.de",
    "plain@example.com",
    None,
    "\u0130lk@example.com.tr",  # dotted capital I
    "a\u200bb@example.com",  # zero-width space
]


def test_udf_results_survive_further_expressions_in_a_filtered_scan(tmp_path: Path) -> None:
    """What int_identity__rejected_identifiers does: filter to non-ASCII values, then
    concatenate the UDF's reason. DuckDB 1.5.5 returned corrupted strings here for an
    Arrow UDF (and failed writing them: "Invalid unicode ... segment statistics")."""
    con = duckdb.connect(str(tmp_path / "t.duckdb"))
    register(con)
    con.execute("create table t as select unnest(?::varchar[]) as e", [VALUES * 3000])
    con.execute(
        "create table r as select e, 'email_' || coalesce(c360_identifier_issue(e), "
        "'not_ascii') as reason from t where e is not null and strlen(e) <> length(e)"
    )
    got = con.execute("select e, reason, count(*) from r group by 1, 2").fetchall()
    expected = {
        (v, "email_" + (identifier_issue(v) or "not_ascii"))
        for v in VALUES
        if v is not None and not v.isascii()
    }
    assert {(e, reason) for e, reason, _ in got} == expected
    assert all(n == 3000 for *_, n in got)
    con.close()
