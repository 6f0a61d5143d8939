"""How long does the staging layer take on large exports?

1. generates ``--people`` synthetic people under ``--root`` (skipped with ``--reuse``);
2. times ``dbt run`` of the seeds' staging view and every model under models/staging
   (base tables: casts, normalisation, duplicate window, quarantine reasons; stg_ and
   quarantine_ views) as one invocation: wall time and per-model times from
   run_results.json, plus raw row counts.

Usage: ``python benchmarks/bench_staging.py --people 2000000 --root /tmp/c360-bench-staging``
Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import duckdb

from customer360.contracts import RAW_TABLES
from customer360.dbt import run_dbt
from customer360.settings import Settings


def main() -> None:
    # plaintext build DB unless the caller sets a key (bench_encryption.py measures the cost)
    os.environ.setdefault("C360_DB_ENCRYPTION", "off")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--root", type=Path, default=Path("/tmp/c360-bench-staging"))
    parser.add_argument("--reuse", action="store_true", help="keep existing exports")
    args = parser.parse_args()

    settings = Settings.for_directory(args.root)
    if not (args.reuse and settings.raw_path.exists()):
        from customer360.generate import generate

        started = time.perf_counter()
        generate(settings.data_dir, people=args.people, seed=args.seed)
        print(f"generated {args.people:,} people in {time.perf_counter() - started:.1f} s")
    con = duckdb.connect()
    raw_rows = sum(
        con.execute(
            f"select count(*) from read_parquet('{t.path(str(settings.raw_path))}')"
        ).fetchall()[0][0]
        for t in RAW_TABLES
    )
    con.close()
    settings.build_db.unlink(missing_ok=True)
    run_dbt(["seed", "--select", "exchange_rates"], settings)
    started = time.perf_counter()
    run_dbt(["run", "--select", "path:models/staging"], settings)
    wall = time.perf_counter() - started
    results = json.loads((settings.dbt_target_path / "run_results.json").read_text())
    timings = sorted(
        ((r["unique_id"].split(".")[-1], r["execution_time"]) for r in results["results"]),
        key=lambda x: -x[1],
    )
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}")
    print(f"raw rows: {raw_rows:,}; staging (dbt run, 2 threads): {wall:.1f} s wall")
    for name, seconds in timings[:8]:
        print(f"  {name:<45} {seconds:6.1f} s")


if __name__ == "__main__":
    main()
