"""What does the look-alike check of e-mails and logins cost at 34M values?

The check (macros/normalize/identifier_issue.sql, customer360.identifiers) decides plain
ASCII in SQL (``strlen = length``) and calls the vectorised Arrow UDF
``c360_identifier_issue`` (NFKC, scripts, case folding) only for the other values.
Measured on ``--rows`` synthetic e-mails of which ``--non-ascii`` are not ASCII (half of
them look-alikes), each option as ``select count(*) filter (where <check> is not null)``:

1. ``sql``: the pure SQL rule alone (every non-ASCII value rejected);
2. ``macro``: what staging runs (SQL for ASCII, the UDF for the rest);
3. ``udf_all``: the UDF called for every value (its own Arrow fast path for ASCII);
4. ``udf_non_ascii_1m``: the UDF on 1M values that are all non-ASCII (its Python path),
   the cost if every address were international.

Usage: ``python benchmarks/bench_identifiers.py --rows 34000000``. Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import duckdb

from customer360.identifiers import register


def _time(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[float, int]:
    started = time.perf_counter()
    n = con.execute(sql).fetchall()[0][0]
    return time.perf_counter() - started, int(n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=34_000_000)
    parser.add_argument("--non-ascii", type=float, default=0.001)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    con = duckdb.connect()
    con.execute(f"set threads = {args.threads}")
    register(con)
    every = max(int(1 / args.non_ascii), 1)
    started = time.perf_counter()
    con.execute(
        f"""
        create table emails as
        select case
            when i % {every} = 0 then 'anna.\u212aowalski' || i || '@example.com'
            when i % {every} = 1 then 'jürgen' || i || '@müller.de'
            else 'person.' || i || '@example.com'
        end as v
        from range({args.rows}) as t(i)
        """
    )
    made = time.perf_counter() - started
    results = {}
    results["sql"] = _time(con, "select count(*) filter (where strlen(v) <> length(v)) from emails")
    results["macro"] = _time(
        con,
        "select count(*) filter (where (case when strlen(v) <> length(v) "
        "then c360_identifier_issue(v) end) is not null) from emails",
    )
    results["udf_all"] = _time(
        con, "select count(*) filter (where c360_identifier_issue(v) is not null) from emails"
    )
    con.execute(
        "create table intl as select 'jürgen' || i || '@müller.de' as v from range(1000000) t(i)"
    )
    results["udf_non_ascii_1m"] = _time(
        con, "select count(*) filter (where c360_identifier_issue(v) is not null) from intl"
    )
    print(
        json.dumps(
            {
                "rows": args.rows,
                "non_ascii_share": args.non_ascii,
                "threads": args.threads,
                "generate_s": round(made, 1),
                "seconds_and_flagged": {k: [round(s, 2), n] for k, (s, n) in results.items()},
                "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus",
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
