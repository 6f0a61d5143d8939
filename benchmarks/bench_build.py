"""How long does the whole `dbt build` take at 590,000 people (~10M raw rows), and where?

Issue 16's first figure: the `dbt build` step of `customer360 demo` (every model, seed,
data test and unit test, from an empty build DB) at 590,000 people, target <= 120 s and
peak RSS <= 6 GB. This script

1. generates ``--people`` synthetic people under ``--root`` (kept with ``--reuse``);
2. removes the build DB, warms dbt's parse cache (not timed: `customer360 demo` parses
   once as well), then times one ``dbt build`` exactly as the pipeline runs it
   (``customer360.pipeline.run_dbt_build``'s arguments and environment): wall, CPU time
   and peak RSS of the dbt process tree;
3. prints each layer's share of the model time (staging, intermediate, marts, analyst,
   privacy, tests, ...) and the slowest nodes, and keeps ``run_results_build.json``
   (every node's start and end) under ``--root``.

Usage: ``python benchmarks/bench_build.py --people 590000 --root /tmp/c360-bench-build``
Figures: docs/benchmarks.md ("Whole build").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import defaultdict
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_identity import CPU_SECONDS, run_measured  # noqa: E402

from customer360.build_state import DEFER_COMMIT_ENV  # noqa: E402
from customer360.dbt import run_dbt  # noqa: E402
from customer360.settings import Settings  # noqa: E402


def layer(result: dict) -> str:
    """The layer a run_results entry belongs to: the schema of a model, 'tests', 'seeds'."""
    unique_id = result["unique_id"]
    kind = unique_id.split(".")[0]
    if kind == "test":
        return "tests (data and unit)" if "unit_test" not in unique_id else "unit tests"
    if kind == "unit_test":
        return "unit tests"
    if kind == "seed":
        return "seeds"
    relation = (result.get("relation_name") or "").replace('"', "")
    parts = relation.split(".")
    return parts[-2] if len(parts) >= 2 else kind


def main() -> None:
    os.environ.setdefault("C360_DB_ENCRYPTION", "off")  # bench_encryption.py measures that
    os.environ.setdefault("C360_HMAC_KEY", "any-benchmark-key-of-enough-length-0123456789")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=590_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--root", type=Path, default=Path("/tmp/c360-bench-build"))
    parser.add_argument("--reuse", action="store_true", help="keep the generated exports")
    parser.add_argument("--top", type=int, default=15, help="slowest nodes to list")
    args = parser.parse_args()

    settings = Settings.for_directory(args.root)
    if not (args.reuse and (settings.raw_path / "support" / "tickets.parquet").exists()):
        from customer360.generate import generate

        t0 = time.perf_counter()
        result = generate(settings.data_dir, people=args.people, seed=args.seed)
        print(f"generated {result.total_rows:,} raw rows in {time.perf_counter() - t0:.1f} s")
    for path in (settings.build_db, Path(f"{settings.build_db}.wal")):
        path.unlink(missing_ok=True)
    run_dbt(["parse"], settings)

    os.environ[DEFER_COMMIT_ENV] = "1"  # as run_dbt_build: the pipeline commits the IDs
    load_before = os.getloadavg()[0]
    wall, peak = run_measured(["build"], settings)
    load_after = os.getloadavg()[0]
    path = settings.dbt_target_path / "run_results.json"
    (args.root / "run_results_build.json").write_text(path.read_text())
    results = json.loads(path.read_text())["results"]

    by_layer: dict[str, float] = defaultdict(float)
    for r in results:
        by_layer[layer(r)] += float(r["execution_time"])
    total = sum(by_layer.values())
    cpu = platform.processor() or platform.machine()
    mem_gb = psutil.virtual_memory().total / 2**30
    print(f"\nmachine: {os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GB RAM, {platform.platform()}")
    print(f"load average (1 min) before / after: {load_before:.2f} / {load_after:.2f}")
    print(f"people: {args.people:,}; nodes run: {len(results)}")
    print(
        f"\ndbt build: wall {wall:.1f} s (target <= 120 s), CPU {CPU_SECONDS[0]:.1f} s, "
        f"peak RSS {peak / 2**30:.2f} GB (target <= 6 GB); node time {total:.1f} s on 2 threads"
    )
    print("\n| layer | node seconds | share |\n|---|---:|---:|")
    for name, sec in sorted(by_layer.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {sec:.1f} | {sec / total:.0%} |")
    print(f"\n| slowest {args.top} nodes | seconds |\n|---|---:|")
    for r in sorted(results, key=lambda r: -float(r["execution_time"]))[: args.top]:
        print(f"| {r['unique_id'].split('.', 2)[-1]} | {float(r['execution_time']):.1f} |")


if __name__ == "__main__":
    main()
