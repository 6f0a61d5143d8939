"""Build the same demo twice (e.g. before and after a refactor) and prove nothing changed.

    python scripts/compare_builds.py build /tmp/before --project /path/to/old/checkout
    python scripts/compare_builds.py build /tmp/after            # this checkout
    python scripts/compare_builds.py compare /tmp/before /tmp/after [--moved old=new ...]

`build` generates the sources once under <root>/data (2,000 people, seed 7, a fixed end
date) and runs `dbt build` with a pinned build time, then writes <root>/snapshot.json:
every record's customer_id (customer_source_map), every customer_id_history row, and
the row count, columns and an order-independent content digest of every relation in
every schema. `compare` fails (exit 1) unless the IDs and history are identical and every
relation has the same rows and columns; a relation may only differ by a move or rename
named with --moved schema.old=schema.new. New relations are listed, not failed.
`snapshot <root>` re-reads <root>/warehouse/build.duckdb into <root>/snapshot.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from datetime import date
from pathlib import Path

import duckdb

from customer360.dbt import run_dbt
from customer360.generate import generate
from customer360.settings import Settings

PEOPLE = 2_000
SEED = 7
END_DATE = date(2026, 11, 30)
os.environ.setdefault("C360_HMAC_KEY", "customer360-test-key-not-a-secret")
PER_RUN_COLUMNS = {"invocation_id"}  # differs between any two runs by design
PINNED_VARS = {"identity_build_at": "2026-12-01 00:00:00", "consent_as_of": "2026-11-30"}


def build(root: Path, project: Path | None, data_from: Path | None) -> Path:
    settings = Settings.for_directory(root, project_dir=project)
    if data_from is not None and not settings.data_dir.exists():
        shutil.copytree(data_from / "data", settings.data_dir)
    if not settings.data_dir.exists():
        generate(settings.data_dir, people=PEOPLE, seed=SEED, end_date=END_DATE)
    run_dbt(["build", "--vars", json.dumps(PINNED_VARS)], settings)
    out = root / "snapshot.json"
    out.write_text(json.dumps(snapshot(settings.build_db), indent=1, sort_keys=True))
    return out


def snapshot(db: Path) -> dict[str, object]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_catalog = current_database() order by 1, 2"
        ).fetchall()
        digests = {
            f"{schema}.{name}": str(
                con.execute(
                    f"select coalesce(sum(hash({_row(con, schema, name)}) % 1000000007), 0)"
                    f' from "{schema}"."{name}"'
                ).fetchone()[0]
            )
            for schema, name in relations
        }
        counts = {
            f"{schema}.{name}": con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[
                0
            ]
            for schema, name in relations
        }
        columns = {
            f"{schema}.{name}": [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns"
                    " where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, name],
                ).fetchall()
            ]
            for schema, name in relations
        }
        ids = dict(
            con.execute("select record_id, customer_id from marts.customer_source_map").fetchall()
        )
        history = [
            list(map(str, row))
            for row in con.execute(
                "select * from marts.customer_id_history order by all"
            ).fetchall()
        ]
    finally:
        con.close()
    digest = hashlib.sha256(json.dumps(history).encode()).hexdigest()
    return {
        "row_counts": counts,
        "digests": digests,
        "columns": columns,
        "customer_ids": ids,
        "history_sha256": digest,
        "history": history,
    }


def _row(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> str:
    """The row as a struct, without per-run columns (dbt's invocation_id) and with floats
    rounded to 6 decimals (parallel sums of doubles differ in the last bits run to run)."""
    items = []
    for column, data_type in con.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, name],
    ).fetchall():
        if column in PER_RUN_COLUMNS:
            continue
        quoted = f'"{column}"'
        items.append(f"round({quoted}, 6)" if data_type in ("DOUBLE", "FLOAT") else quoted)
    return "row(" + ", ".join(items) + ")"


def compare(before: dict, after: dict, moved: dict[str, str]) -> tuple[list[str], list[str]]:
    problems: list[str] = []
    new: list[str] = []
    b_ids, a_ids = before["customer_ids"], after["customer_ids"]
    if b_ids != a_ids:
        diff = [k for k in set(b_ids) | set(a_ids) if b_ids.get(k) != a_ids.get(k)]
        problems.append(f"customer_id differs for {len(diff)} records, e.g. {sorted(diff)[:5]}")
    if before["history_sha256"] != after["history_sha256"]:
        problems.append("customer_id_history differs")
    b_counts = {moved.get(k, k): v for k, v in before["row_counts"].items()}
    a_counts = after["row_counts"]
    for rel in sorted(set(b_counts) | set(a_counts)):
        if rel not in a_counts:
            problems.append(f"{rel}: gone (not named in --moved)")
        elif rel not in b_counts:
            new.append(f"{rel} ({a_counts[rel]} rows)")
        elif b_counts[rel] != a_counts[rel]:
            problems.append(f"{rel}: {b_counts[rel]} rows before, {a_counts[rel]} after")
        elif before["columns"].get(_unmoved(rel, moved)) != after["columns"][rel]:
            problems.append(f"{rel}: columns (or their order) differ")
        elif "digests" in before and before["digests"].get(_unmoved(rel, moved)) != after[
            "digests"
        ].get(rel):
            problems.append(f"{rel}: same row count, different content")
    return problems, new


def _unmoved(rel: str, moved: dict[str, str]) -> str:
    back = {new: old for old, new in moved.items()}
    return back.get(rel, rel)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("root", type=Path)
    b.add_argument("--project", type=Path, default=None, help="dbt project (default: this one)")
    b.add_argument("--data-from", type=Path, default=None, help="reuse <root>/data of a build")
    r = sub.add_parser("snapshot")
    r.add_argument("root", type=Path)
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    c.add_argument("--moved", action="append", default=[], metavar="SCHEMA.OLD=SCHEMA.NEW")
    args = parser.parse_args()
    if args.cmd == "build":
        print(build(args.root, args.project, args.data_from))
        return 0
    if args.cmd == "snapshot":
        out = args.root / "snapshot.json"
        db = args.root / "warehouse" / "build.duckdb"
        out.write_text(json.dumps(snapshot(db), indent=1, sort_keys=True))
        print(out)
        return 0
    before = json.loads((args.before / "snapshot.json").read_text())
    after = json.loads((args.after / "snapshot.json").read_text())
    moved = dict(m.split("=", 1) for m in args.moved)
    problems, new = compare(before, after, moved)
    for p in problems:
        print(p)
    for n in new:
        print(f"new relation: {n}")
    n = len(after["row_counts"])
    print(
        f"{len(after['customer_ids'])} records, {len(after['history'])} history rows,"
        f" {n} relations: " + ("IDENTICAL" if not problems else f"{len(problems)} differences")
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
