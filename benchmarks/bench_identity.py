"""How fast is identity resolution at 2,000,000 people (~10M raw rows)?

1. generates ``--people`` synthetic people under ``--root`` (skipped with ``--reuse`` when
   the exports are already there);
2. builds the seeds and staging views (not timed);
3. times the identity stage - every model under models/intermediate/identity and
   models/marts/identity (identifiers -> guards -> components -> IDs -> dim_customer,
   customer_source_map ...) - as one ``dbt run``: wall time, per-model times from
   run_results.json and the peak RSS of the dbt process (sampled with psutil);
4. runs scipy's ``connected_components`` alone on the same edge list
   (intermediate.int_identity__edges) for comparison with int_identity__components.

Targets (issue 3): identity stage <= 60 s, peak RSS <= 6 GB, clustering <= 3x scipy.
Issue 15: the probabilistic tier (models with "probabilistic" in the name, plus its edges)
may add at most 30 s and 1 GB at 2M people; ``--without-tier`` times a first build with it
switched off for the difference.
Usage: ``python benchmarks/bench_identity.py --people 2000000 --root /tmp/c360-bench-identity``
Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import threading
import time
from pathlib import Path

import duckdb
import numpy as np
import psutil
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from customer360.dbt import dbt_executable, run_dbt
from customer360.settings import Settings

IDENTITY_SELECT = [
    "--select",
    "models/intermediate/identity",
    "models/identity_state",
    "models/intermediate/customer",
    "models/marts/identity",
]


CPU_SECONDS: list[float] = []  # user + system CPU of each run_measured dbt run, in order


def run_measured(args: list[str], settings: Settings) -> tuple[float, int]:
    """Run dbt as a subprocess; return (wall seconds, peak RSS bytes of its process tree).
    Its CPU time (user + system, all threads: far less sensitive than wall time to other
    work on the machine) is appended to CPU_SECONDS."""
    env = settings.dbt_env()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [dbt_executable(), *args],
        cwd=settings.project_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        p = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                rss = p.memory_info().rss + sum(
                    c.memory_info().rss for c in p.children(recursive=True)
                )
                peak = max(peak, rss)
            except psutil.Error:
                pass
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU_SECONDS.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} failed:\n{output[-5000:]}")
    return wall, peak


def model_times(settings: Settings, keep_as: str | None = None) -> dict[str, float]:
    """Per-model seconds of the last dbt run; ``keep_as``: also keep a copy of its
    run_results.json (per-model start and end: the timeline) under the benchmark root."""
    path = settings.dbt_target_path / "run_results.json"
    if keep_as:
        (settings.data_dir.parent / f"run_results_{keep_as}.json").write_text(path.read_text())
    results = json.loads(path.read_text())
    return {r["unique_id"].split(".")[-1]: float(r["execution_time"]) for r in results["results"]}


def scipy_baseline(db: Path) -> tuple[float, int, int, int]:
    """(best-of-three seconds, vertices, edges, components) of connected_components on
    the built edge list: the same dense integer pairs (int_identity__edges.node_num,
    identifier_num) and vertex count the clustering model uses; reading is not timed."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        arrays = con.sql(
            "select node_num, identifier_num from intermediate.int_identity__edges"
        ).fetchnumpy()
        n_rec = con.sql("select count(*) from intermediate.int_identity__nodes").fetchall()
        n_idn = con.sql("select count(*) from intermediate.int_identity__identifier_guards")
        n_records, n_identifiers = int(n_rec[0][0]), int(n_idn.fetchall()[0][0])
    finally:
        con.close()
    rec = np.asarray(arrays["node_num"], dtype=np.int64)
    idn = np.asarray(arrays["identifier_num"], dtype=np.int64) + n_records
    n = n_records + n_identifiers
    timings = []
    for _ in range(3):  # best of three: the least noisy figure, and the strictest baseline
        started = time.perf_counter()
        graph = coo_matrix((np.ones(len(rec), dtype=np.int8), (rec, idn)), shape=(n, n)).tocsr()
        n_comp, _ = connected_components(graph, directed=False)
        timings.append(time.perf_counter() - started)
        del graph
    return min(timings), n, len(rec), int(n_comp)


def staging_built(db: Path) -> bool:
    if not db.exists():
        return False
    con = duckdb.connect(str(db), read_only=True)
    try:
        found = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'staging' and table_name = 'stg_web__events'"
        ).fetchall()
    finally:
        con.close()
    return bool(found[0][0])


def drop_identity_outputs(db: Path) -> None:
    """Forget earlier identity builds (registry included) so the timed run is a first build."""
    con = duckdb.connect(str(db))
    try:
        for schema in ("intermediate", "marts", "identity_state"):
            con.execute(f"drop schema if exists {schema} cascade")
    finally:
        con.close()


def main() -> None:
    # plaintext build DB unless the caller sets a key (bench_encryption.py measures the cost)
    os.environ.setdefault("C360_DB_ENCRYPTION", "off")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--root", type=Path, default=Path("/tmp/c360-bench-identity"))
    parser.add_argument("--reuse", action="store_true", help="keep existing exports and DB")
    parser.add_argument(
        "--no-rebuild", action="store_true", help="skip the second (daily re-run) measurement"
    )
    parser.add_argument(
        "--without-tier",
        action="store_true",
        help="also time a first build with the probabilistic tier switched off (its cost)",
    )
    args = parser.parse_args()

    settings = Settings.for_directory(args.root)
    if not (args.reuse and (settings.raw_path / "support" / "tickets.parquet").exists()):
        from customer360.generate import generate

        t0 = time.perf_counter()
        result = generate(settings.data_dir, people=args.people, seed=args.seed)
        print(f"generated {result.total_rows:,} raw rows in {time.perf_counter() - t0:.1f} s")
    if settings.build_db.exists() and not args.reuse:
        settings.build_db.unlink()
    # seeds and staging views (not part of the identity stage; kept with --reuse)
    if not (args.reuse and staging_built(settings.build_db)):
        run_dbt(["seed"], settings)  # all seeds, including the identity blocklists
        run_dbt(["run", "--select", "+models/staging"], settings)
    run_dbt(["parse"], settings)  # warm the partial-parse cache so dbt start-up is not timed twice
    drop_identity_outputs(settings.build_db)  # a first build: no registry, no previous state

    wall, peak = run_measured(["run", *IDENTITY_SELECT], settings)
    times = model_times(settings, "first_build")
    models_total = sum(times.values())
    clustering = times.get("int_identity__components", float("nan"))
    scipy_s, nodes, edges, n_comp = scipy_baseline(settings.build_db)
    con = duckdb.connect(str(settings.build_db), read_only=True)
    try:
        counts = {
            name: con.sql(f"select count(*) from {name}").fetchall()[0][0]
            for name in (
                "intermediate.int_identity__records",
                "intermediate.int_identity__nodes",
                "intermediate.int_identity__identifiers",
                "marts.dim_customer",
                "marts.customer_source_map",
                "marts.identity_anonymous_records",
            )
        }
    finally:
        con.close()

    cpu = platform.processor() or platform.machine()
    mem_gb = psutil.virtual_memory().total / 2**30
    print(f"\nmachine: {os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GB RAM, {platform.platform()}")
    print(f"people: {args.people:,}; records: {counts}")
    print(f"graph: {nodes:,} vertices, {edges:,} edges, {n_comp:,} components")
    print("\n| step | seconds |\n|---|---:|")
    for name, sec in sorted(times.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {sec:.1f} |")
    print(
        f"\nidentity stage: wall {wall:.1f} s (dbt start-up included), models {models_total:.1f} s"
    )
    print(f"peak RSS of dbt: {peak / 2**30:.2f} GB; CPU time of dbt: {CPU_SECONDS[0]:.1f} s")
    print(
        f"clustering model {clustering:.1f} s (read edges, components, namespace check, write) "
        f"vs scipy connected_components alone {scipy_s:.1f} s: {clustering / scipy_s:.1f}x"
    )
    tier = {k: v for k, v in times.items() if "probabilistic" in k}
    print(
        f"probabilistic tier models: {sum(tier.values()):.1f} s ("
        + ", ".join(f"{k} {v:.1f}" for k, v in sorted(tier.items()))
        + "; first build: trains and stores the model, then scores)"
    )
    if not args.no_rebuild:
        # the daily case: same exports, the registry of the first build as previous state
        wall2, peak2 = run_measured(["run", *IDENTITY_SELECT], settings)
        times2 = model_times(settings, "rerun")
        slowest = ", ".join(
            f"{name} {sec:.1f}" for name, sec in sorted(times2.items(), key=lambda kv: -kv[1])[:6]
        )
        print(
            f"\nre-run with the registry: wall {wall2:.1f} s, peak RSS {peak2 / 2**30:.2f} GB, "
            f"CPU {CPU_SECONDS[-1]:.1f} s"
        )
        print(f"slowest models (s): {slowest}")
        tier2 = sum(v for k, v in times2.items() if "probabilistic" in k)
        print(f"probabilistic tier models on the re-run (scoring only): {tier2:.1f} s")
    if args.without_tier:
        drop_identity_outputs(settings.build_db)
        off = ["--vars", "{identity_probabilistic: {enabled: false}}"]
        wall3, peak3 = run_measured(["run", *IDENTITY_SELECT, *off], settings)
        times3 = model_times(settings, "without_tier")
        models3 = sum(times3.values())
        print(
            f"\nfirst build without the tier: wall {wall3:.1f} s, models {models3:.1f} s, "
            f"peak RSS {peak3 / 2**30:.2f} GB, CPU {CPU_SECONDS[-1]:.1f} s; with the tier: "
            f"{wall - wall3:+.1f} s wall, {models_total - models3:+.1f} s models, "
            f"{(peak - peak3) / 2**30:+.2f} GB peak RSS, "
            f"{CPU_SECONDS[0] - CPU_SECONDS[-1]:+.1f} s CPU"
        )
        # where the difference is: the models slower (or faster) with the tier
        diffs = sorted(
            ((name, times.get(name, 0.0) - times3.get(name, 0.0)) for name in times | times3),
            key=lambda kv: -abs(kv[1]),
        )
        print(
            "models with the tier minus without (s): "
            + ", ".join(f"{name} {d:+.1f}" for name, d in diffs[:8])
        )


if __name__ == "__main__":
    main()
