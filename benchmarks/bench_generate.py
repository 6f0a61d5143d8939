"""Benchmark the synthetic source generator: wall time, CPU time, peak memory, rows.

    python benchmarks/bench_generate.py                      # 2,000,000 people, parquet
    python benchmarks/bench_generate.py --people 200000 --format csv

Writes into a temporary directory (removed afterwards unless --keep) and prints the figures
that go into docs/benchmarks.md. Target: 2,000,000 people (10M+ raw rows) in <= 120 s on the
project's 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import psutil

from customer360.generate import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--format", dest="fmt", default="parquet", choices=("parquet", "csv"))
    parser.add_argument("--end-date", default="2026-11-23")
    parser.add_argument("--out", type=Path, default=None, help="data dir (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix="c360-bench-generate-"))
    load_before = os.getloadavg()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = generate(
        out,
        people=args.people,
        seed=args.seed,
        fmt=args.fmt,
        end_date=date.fromisoformat(args.end_date),
    )
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    peak_rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    size_gb = sum(p.stat().st_size for p in (out / "raw").rglob("*") if p.is_file()) / 1024**3

    print(f"machine: {platform.machine()}, {psutil.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / 1024**3:.0f} GB RAM; "
          f"load average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"people: {args.people:,}  seed: {args.seed}  format: {args.fmt}")
    for name, n in result.rows.items():
        print(f"  {name:28s} {n:>12,}")
    print(f"  {'raw rows total':28s} {result.total_rows:>12,}")
    print(f"  {'truth records':28s} {result.truth_rows:>12,}")
    print(f"raw files: {size_gb:.2f} GB")
    print(f"steps: {result.seconds_by_step}")
    print(f"wall: {wall:.1f} s   cpu (all threads): {cpu:.1f} s   peak RSS: {peak_rss_gb:.2f} GB")
    print(f"rows/s: {result.total_rows / wall:,.0f}")
    if not args.keep and args.out is None:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
