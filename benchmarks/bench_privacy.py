"""Benchmark the HMAC-SHA256 pseudonymisation: native DuckDB SQL (what the analyst layer and
the erasure filter use, macro hmac_sha256) against a vectorised Python UDF.

    python benchmarks/bench_privacy.py                 # 2,000,000 e-mail-like values
    python benchmarks/bench_privacy.py --values 500000

Prints values per second of each and checks they agree with Python's hmac module. The
figures go into docs/privacy.md (cost of the analyst layer at scale).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import time

import duckdb
import pyarrow as pa
from duckdb.sqltypes import VARCHAR

from customer360.privacy import hmac_sql, register_hmac


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=2_000_000)
    args = parser.parse_args()
    key = os.urandom(32).hex().encode()

    con = duckdb.connect()
    register_hmac(con, key)
    con.execute(
        "create table v as select 'person' || i || '@example.com' as e from range(?) r(i)",
        [args.values],
    )

    def py_hmac(col: pa.Array) -> pa.Array:
        return pa.array(
            [hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in col.to_pylist()],
            pa.string(),
        )

    con.create_function("py_hmac", py_hmac, [VARCHAR], VARCHAR, type="arrow")
    for name, expr in (
        ("native SQL (hmac_sha256 macro)", hmac_sql("e")),
        ("Python UDF", "py_hmac(e)"),
    ):
        started = time.perf_counter()
        con.execute(f"create or replace table h as select e, {expr} as h from v")
        secs = time.perf_counter() - started
        sample = con.execute("select e, h from h using sample 100 rows").fetchall()
        assert all(hmac.new(key, e.encode(), hashlib.sha256).hexdigest() == h for e, h in sample)
        print(f"{name}: {args.values:,} values in {secs:.1f} s ({args.values / secs:,.0f}/s)")
    threads = con.execute("select current_setting('threads')").fetchone()[0]  # type: ignore[index]
    print(f"duckdb threads: {threads}")


if __name__ == "__main__":
    main()
