"""The engine-specific macros on Apache Spark: each `spark__` implementation, rendered by
dbt for the profile's `spark` target (dbt-spark session mode, local pyspark) and run on
Spark, gives what the DuckDB implementation gives on DuckDB (or, for HMAC, what Python's
hmac module gives).

Needs the Spark extras (`bash scripts/bootstrap.sh --spark`); skipped without pyspark or
Java. One Spark session serves the module: dbt runs in-process through
customer360.spark_dbt, as `customer360-dbt-spark` does.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import os
import shutil
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from customer360.settings import PROJECT_DIR

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pyspark") is None or shutil.which("java") is None,
    reason="Spark extras not installed (bash scripts/bootstrap.sh --spark)",
)

Show = Callable[[str], list[tuple]]


def _show_runner(target: str, target_path: Path) -> Show:
    from customer360 import spark_dbt

    spark_dbt.install()
    from dbt.cli.main import dbtRunner

    runner = dbtRunner()

    def show(sql: str) -> list[tuple]:
        result = runner.invoke(
            # one target path per engine keeps dbt's partial parsing between calls
            ["show", "--inline", sql, "--limit", "-1", "--target", target, "--quiet"]
            + ["--target-path", str(target_path)]
        )
        if not result.success:
            raise AssertionError(f"dbt show on {target} failed: {result.exception}\n{sql}")
        table = result.result.results[0].agate_table
        return [tuple(row.values()) for row in table.rows]

    return show


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Show]]:
    root = tmp_path_factory.mktemp("spark_macros")
    saved = dict(os.environ)
    os.environ.update(
        {
            "C360_SPARK_WAREHOUSE": str(root / "spark"),
            "C360_BUILD_DB": ":memory:",
            "DBT_PROFILES_DIR": str(PROJECT_DIR),
            "DBT_PROJECT_DIR": str(PROJECT_DIR),
            "DBT_LOG_PATH": str(root / "logs"),
        }
    )
    cwd = os.getcwd()
    os.chdir(PROJECT_DIR)
    try:
        yield {
            "spark": _show_runner("spark", root / "target_spark"),
            "duckdb": _show_runner("dev", root / "target_duckdb"),
        }
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(saved)


def _literal(text: str) -> str:
    """A string literal both engines read alike (a quote as chr(39): Spark reads '' as
    two adjacent literals, and a backslash as an escape)."""
    assert "\\" not in text
    parts = [f"'{part}'" for part in text.split("'")]
    return parts[0] if len(parts) == 1 else "concat(" + ", chr(39), ".join(parts) + ")"


def _values(rows: list[str]) -> str:
    return ", ".join(f"({i}, {_literal(v)})" for i, v in enumerate(rows))


def _both(engines: dict[str, Show], sql: str) -> list[tuple]:
    spark, duck = engines["spark"](sql), engines["duckdb"](sql)
    assert sorted(spark) == sorted(duck), f"Spark and DuckDB differ:\n{spark}\n{duck}"
    return sorted(spark)


# inputs are rendered as a Spark/DuckDB-neutral VALUES list through Jinja variables
EMAILS = [
    "anna.schmidt@example.de",
    "anna@gmailxcom",  # `\.` read as "any character" would accept this
    "o'brien@example.ie",  # a quote inside the pattern's character class
    "bad address@example.de",
    "x@y.z",
    "jo+tag@mail.example.com",
]
PHONES = ["+49 30 1234567", "030/1234567", "0049 (0)30 123-45-67", "+49 30 12a4567", "12"]


def test_regexp_full_match_keeps_backslashes_and_quotes(engines: dict[str, Show]) -> None:
    # the pattern as the project writes it: for a standard SQL literal ('' is a quote)
    pattern = r"""[a-z'']+\\.[a-z]+"""
    words = ["o'x.de", "oxxde", "ox.de", 'o"x.de']
    rows = _both(
        engines,
        f"select i, {{{{ regexp_full_match('v', \"{pattern}\") }}}} as ok "
        f"from (values {_values(words)}) as t(i, v)",
    )
    assert [ok for _, ok in rows] == [True, False, True, False]
    rows = _both(
        engines,
        f"select i, {{{{ normalize_email('v') }}}} as n from (values {_values(EMAILS)}) as t(i, v)",
    )
    by_value = {EMAILS[i]: norm for i, norm in rows}
    assert by_value["anna@gmailxcom"] is None
    assert by_value["anna.schmidt@example.de"] == "anna.schmidt@example.de"
    assert by_value["bad address@example.de"] is None


def test_normalize_phone_runs_on_spark(engines: dict[str, Show]) -> None:
    rows = _both(
        engines,
        f"select i, {{{{ normalize_phone('v') }}}} as e164 "
        f"from (values {_values(PHONES)}) as t(i, v)",
    )
    assert dict(rows)[0] == "+49301234567"
    assert dict(rows)[3] is None


def test_strip_accents_matches_duckdb_for_every_latin_letter(engines: dict[str, Show]) -> None:
    letters = [chr(c) for c in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]]
    letters = [ch for ch in letters if unicodedata.category(ch).startswith("L")]
    words = ["".join(letters[i : i + 40]) for i in range(0, len(letters), 40)]
    rows = _both(
        engines,
        f"select i, {{{{ strip_accents('v') }}}} as s from (values {_values(words)}) as t(i, v)",
    )
    stripped = "".join(s for _, s in rows)
    # the letters the old, misaligned lists got wrong from ť on
    for accented, plain in zip("ťůűųýÿźżž", "tuuuyyzzz", strict=True):
        assert stripped[letters.index(accented)] == plain
    assert len(stripped) == len(letters)


def test_normalize_name_on_spark(engines: dict[str, Show]) -> None:
    names = ["  Müller ", "ŠTĚPÁNEK", "Łukasz  Żółć", "Dvořák-Nováková", "O'Neill"]
    rows = _both(
        engines,
        f"select i, {{{{ normalize_name('v') }}}} as n from (values {_values(names)}) as t(i, v)",
    )
    assert dict(rows)[0] == "mueller"
    assert dict(rows)[1] == "stepanek"


def test_hmac_sha256_on_spark_equals_python_hmac(engines: dict[str, Show]) -> None:
    key = os.environ["C360_HMAC_KEY"].encode()
    values = ["anna@example.de", "+49301234567", "Ünïcødé ☃", ""]
    rows = engines["spark"](
        f"select i, {{{{ hmac_sha256('v') }}}} as h from (values {_values(values)}) as t(i, v)"
    )
    expected = {
        i: hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for i, v in enumerate(values)
    }
    assert dict(rows) == expected
    assert engines["spark"]("select {{ hmac_sha256('cast(null as string)') }} as h") == [(None,)]


def test_last_value_ignore_nulls(engines: dict[str, Show]) -> None:
    rows = _both(
        engines,
        "select g, t, {{ last_value_ignore_nulls('v') }} over (partition by g order by t "
        "rows between unbounded preceding and current row) as last_v "
        "from (values ('a', 1, 'x'), ('a', 2, null), ('a', 3, 'y'), ('a', 4, null), "
        "('b', 1, null), ('b', 2, 'z')) as t(g, t, v)",
    )
    assert [r[2] for r in rows] == ["x", "x", "y", "y", None, "z"]


def test_ordered_string_agg(engines: dict[str, Show]) -> None:
    rows = _both(
        engines,
        "select g, {{ ordered_string_agg('v', \"','\", 'v') }} as vs, "
        "{{ ordered_string_agg('v', \"'|'\", 'k') }} as by_k "
        "from (values (1, 'web', 3), (1, 'app', 2), (1, 'store', 1), (2, 'email', 1)) "
        "as t(g, v, k) group by g",
    )
    assert rows == [(1, "app,store,web", "store|app|web"), (2, "email", "email")]


def test_signature_hash_is_a_signed_64_bit_key_on_spark(engines: dict[str, Show]) -> None:
    rows = engines["spark"](
        "select typeof(h) as t, min(h) < 0 as has_negative, count(distinct h) as n "
        "from (select {{ identity_signature_hash(['id', \"'email'\"]) }} as h "
        "from range(1000) as r(id)) as hashes group by typeof(h)"
    )
    assert rows == [("bigint", True, 1000)]


def test_state_tables_replace_per_engine(engines: dict[str, Show]) -> None:
    assert engines["spark"]("select '{{ state_replace_strategy() }}' as s") == [
        ("insert_overwrite",)
    ]
    assert engines["duckdb"]("select '{{ state_replace_strategy() }}' as s") == [("delete+insert",)]


def test_spark_target_writes_under_its_warehouse_dir(engines: dict[str, Show]) -> None:
    rows = engines["spark"]("select '{{ target.type }}' as t, '{{ target.name }}' as n")
    assert rows == [("spark", "spark")]
    assert Path(os.environ["C360_SPARK_WAREHOUSE"]).exists()
