"""Property-based tests (Hypothesis) over the raw contract (issue 14).

* the shared reader options read back exactly what a standard CSV writer wrote, for any
  text (commas, quotes, '#', line breaks, Unicode), and DuckDB's count equals the
  independent reader's;
* text printed through customer360.console.literal renders as itself;
* the SQL normalisers (e-mail, phone, name, loyalty number) are idempotent and never
  raise, for any text;
* one staging build over random valid and invalid rows for every table: raw = staged +
  quarantined + erased, and nothing escapes as an error (test_property_build).

Many rows per DuckDB query and per dbt build keep this fast: the expensive step (dbt) runs
twice for the whole module, not once per example.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from customer360.console import cell, literal, visible
from customer360.raw_reader import count_rows, reader_sql

# text an export might hold: CSV metacharacters, comment-like '#', every line break,
# look-alikes and control characters
HOSTILE_ALPHABET = st.sampled_from(
    list("ab,\"'#;|\t \n\r\\{}[]%$@.+-_0123456789")
    + ["é", "İ", "K", "а", "ß", "\u200b", "\u202e", "\x1b", "😀", "ﬁ", "Ａ"]
)
hostile_text = st.text(alphabet=HOSTILE_ALPHABET, max_size=30) | st.text(max_size=20)


def _field(value: str) -> str:
    """RFC 4180: quote a field holding a comma, a quote or a line break (Python's csv
    writer leaves a lone CR unquoted when the line terminator is LF)."""
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _csv_bytes(header: list[str], rows: list[list[str]], ending: str) -> bytes:
    lines = [",".join(_field(v) for v in r) for r in [header, *rows]]
    return (ending.join(lines) + ending).encode("utf-8")


printable_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(printable_text | hostile_text.filter(lambda s: "\x00" not in s),
                           min_size=3, max_size=3), min_size=1, max_size=40),
    ending=st.sampled_from(["\n", "\r\n"]),
)  # fmt: skip
def test_reader_reads_back_what_a_csv_writer_wrote(rows: list[list[str]], ending: str) -> None:
    # the first column is an id that never needs quoting around a '#': the sniffer's trap
    rows = [[f"#{i}" if i % 3 == 0 else str(i), *r[1:]] for i, r in enumerate(rows)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        path.write_bytes(_csv_bytes(["id", "a", "b"], rows, ending))
        got = duckdb.sql(f"select id, a, b from {reader_sql(path, 'csv')}").fetchall()
        assert count_rows(path, "csv") == len(rows)
    # empty fields are null (nullstr ''); everything else is the exact text
    expected = [tuple(v if v != "" else None for v in r) for r in rows]
    assert sorted(got, key=lambda r: int(r[0].lstrip("#"))) == expected


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60) | hostile_text)
def test_literal_renders_as_itself(text: str) -> None:
    """Inside markup (what the commands print) and as a table cell."""
    shown = visible(text)
    assert Text.from_markup(f"[red]{literal(text)}[/red] after", emoji=False).plain == (
        shown + " after"
    )
    if not shown.endswith("\\"):  # the documented exception: see literal()
        assert Text.from_markup(f"a {literal(text)} b", emoji=False).plain == f"a {shown} b"
    assert cell(text).plain == visible(text)
    console = Console(file=io.StringIO(), width=500, color_system=None, emoji=False)
    console.print(f"[red]{literal(text)}[/red]", cell(text))
    printed = console.file.getvalue()  # type: ignore[attr-defined]
    # without colours rich writes no escape sequence: any would come from the text
    assert "\x1b" not in printed and "\u202e" not in printed


# ------------------------------------------------------------------ normalisers (SQL)

NORMALISERS = {
    "email": "normalize_email('v')",
    "phone": "normalize_phone('v')",
    "name": "normalize_name('v')",
    "loyalty": "normalize_loyalty_number('v')",
}


@pytest.fixture(scope="module")
def normaliser_sql() -> dict[str, str]:
    """The SQL expression of each normaliser macro over a column `v`, compiled once by
    dbt (`dbt compile --inline`)."""
    from customer360.dbt import run_dbt
    from customer360.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        s = Settings.for_directory(Path(tmp))
        select = ",\n".join(f"{{{{ {m} }}}} as {k}" for k, m in NORMALISERS.items())
        proc = run_dbt(
            ["compile", "--quiet", "--inline", f"select {select} from t"],
            s,
            extra_env={"C360_TARGET": "lint"},
            check=False,
        )
    assert proc.returncode == 0, proc.stdout[-3000:]
    sql = proc.stdout.strip()
    body = sql[sql.index("select") + len("select") : sql.rindex("from t")]
    parts: dict[str, str] = {}
    for key in NORMALISERS:
        marker = f" as {key}"
        expr, _, body = body.partition(marker)
        parts[key] = expr.strip().lstrip(",").strip()
        body = body.lstrip(",")
    return parts


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.lists(
        hostile_text | st.emails() | st.from_regex(r"\+?[0-9 ()./-]{4,20}", fullmatch=True),
        min_size=1,
        max_size=200,
    )
)
def test_normalisers_are_idempotent(normaliser_sql: dict[str, str], values: list[str]) -> None:
    con = duckdb.connect()
    con.execute("create table t0 (v varchar)")
    con.executemany("insert into t0 values (?)", [[v] for v in values])
    for key, expr in normaliser_sql.items():
        rows = con.execute(
            f"select t.v, {expr} from (select {expr} as v from t0) as t where t.v is not null"
        ).fetchall()
        for first, second in rows:
            assert first == second, (key, first, second)
    con.close()
