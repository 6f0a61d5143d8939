"""How long do the sales and journey marts take on large exports?

1. generates ``--people`` synthetic people under ``--root`` (skipped with ``--reuse``);
2. builds everything upstream of the marts once (``dbt seed`` + ``dbt run`` of the
   parents of fct_orders, fct_touchpoints and customer_journey: staging and identity);
3. times ``dbt run`` of models/intermediate/journey, models/marts/journey and
   models/marts/sales as one invocation: wall time, per-model times from
   run_results.json, and row counts of the marts.

Usage: ``python benchmarks/bench_journey.py --people 100000 --root /tmp/c360-bench-journey``
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

from customer360.dbt import run_dbt
from customer360.settings import Settings

JOURNEY_SELECTION = [
    "path:models/intermediate/journey",
    "path:models/marts/journey",
    "path:models/marts/sales",
]
MARTS = (
    "fct_orders",
    "fct_touchpoints",
    "fct_sessions",
    "customer_journey",
    "fct_order_attribution",
)


def main() -> None:
    # plaintext build DB unless the caller sets a key (bench_encryption.py measures the cost)
    os.environ.setdefault("C360_DB_ENCRYPTION", "off")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--root", type=Path, default=Path("/tmp/c360-bench-journey"))
    parser.add_argument("--reuse", action="store_true", help="keep exports and upstream build")
    args = parser.parse_args()

    settings = Settings.for_directory(args.root)
    if not (args.reuse and settings.build_db.exists()):
        from customer360.generate import generate

        started = time.perf_counter()
        generate(settings.data_dir, people=args.people, seed=args.seed)
        print(f"generated {args.people:,} people in {time.perf_counter() - started:.1f} s")
        settings.build_db.unlink(missing_ok=True)
        run_dbt(["seed"], settings)
        started = time.perf_counter()
        upstream = ["+fct_orders", "+fct_touchpoints", "+customer_journey"]
        run_dbt(["run", "--select", *upstream, "--exclude", *JOURNEY_SELECTION], settings)
        print(f"staging + identity built in {time.perf_counter() - started:.1f} s")

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    run_dbt(["run", "--select", *JOURNEY_SELECTION], settings)
    wall = time.perf_counter() - started
    load_after = os.getloadavg()[0]
    results = json.loads((settings.dbt_target_path / "run_results.json").read_text())
    timings = sorted(
        ((r["unique_id"].split(".")[-1], r["execution_time"]) for r in results["results"]),
        key=lambda x: -x[1],
    )
    con = duckdb.connect(str(settings.build_db), read_only=True)
    rows = {m: con.execute(f"select count(*) from marts.{m}").fetchall()[0][0] for m in MARTS}
    con.close()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}")
    print(f"people: {args.people:,}; journey + sales (dbt run, 2 threads): {wall:.1f} s wall")
    print(f"load average (1 min) before / after: {load_before:.1f} / {load_after:.1f}")
    for name, n in rows.items():
        print(f"  {name:<45} {n:>12,} rows")
    for name, seconds in timings:
        print(f"  {name:<45} {seconds:6.1f} s")


if __name__ == "__main__":
    main()
