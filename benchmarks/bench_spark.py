"""How long does the whole project take on local Apache Spark beside DuckDB, on one machine?

1. generates ``--people`` synthetic people under ``--root`` (skipped with ``--reuse``);
2. times ``dbt <command>`` on DuckDB (target dev) and
   ``customer360-dbt-spark <command> --target spark`` on local Spark (session mode,
   ``local[2]``), each from an empty warehouse: wall time, the slowest models from
   run_results.json and the peak RSS of the whole process tree (dbt + the Spark JVM),
   sampled with psutil.

This is a single-machine comparison: local Spark pays JVM start-up, query planning and
task scheduling per statement that a cluster amortises over far larger data; it says
nothing about Spark on a cluster. Needs the Spark extras (``bash scripts/bootstrap.sh
--spark``).

Usage: ``python benchmarks/bench_spark.py --people 100000 --root /tmp/c360-bench-spark``
(``--command build`` also runs every test). Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from customer360.settings import Settings


def _peak_rss(proc: subprocess.Popen[str], peak: list[int], stop: threading.Event) -> None:
    try:
        parent = psutil.Process(proc.pid)
    except psutil.NoSuchProcess:
        return
    while not stop.is_set():
        try:
            procs = [parent, *parent.children(recursive=True)]
            peak[0] = max(peak[0], sum(p.memory_info().rss for p in procs if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.5)


def timed(cmd: list[str], env: dict[str, str], cwd: Path, log: Path) -> tuple[float, int, int]:
    """(wall seconds, peak RSS bytes, exit code) of `cmd`, output to `log`."""
    peak, stop = [0], threading.Event()
    start = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, text=True
        )
        sampler = threading.Thread(target=_peak_rss, args=(proc, peak, stop), daemon=True)
        sampler.start()
        code = proc.wait()
    stop.set()
    sampler.join()
    return time.monotonic() - start, peak[0], code


def slowest(target_path: Path, n: int = 5) -> list[tuple[str, float]]:
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    times = [(r["unique_id"].split(".")[-1], float(r["execution_time"])) for r in results]
    return sorted(times, key=lambda t: -t[1])[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--root", type=Path, default=Path("/tmp/c360-bench-spark"))
    parser.add_argument("--command", choices=["run", "build"], default="run")
    parser.add_argument("--reuse", action="store_true", help="keep generated exports")
    parser.add_argument("--engines", default="duckdb,spark")
    args = parser.parse_args()

    root = args.root.resolve()
    settings = Settings.for_directory(root)
    if not (args.reuse and settings.raw_path.exists()):
        from customer360.generate import generate

        shutil.rmtree(settings.data_dir, ignore_errors=True)
        generate(settings.data_dir, people=args.people, seed=args.seed)
    env = settings.dbt_env()
    env.setdefault("C360_HMAC_KEY", "customer360-benchmark-key-not-a-secret")
    bindir = Path(sys.executable).parent
    rows = []
    for engine in args.engines.split(","):
        target_path = root / f"target_{engine}"
        env_e = dict(
            env, DBT_TARGET_PATH=str(target_path), DBT_LOG_PATH=str(root / f"logs_{engine}")
        )
        if engine == "duckdb":
            shutil.rmtree(settings.build_db.parent, ignore_errors=True)
            settings.build_db.parent.mkdir(parents=True)
            cmd = [str(bindir / "dbt"), args.command]
        else:
            shutil.rmtree(root / "spark", ignore_errors=True)
            env_e["C360_SPARK_WAREHOUSE"] = str(root / "spark")
            cmd = [str(bindir / "customer360-dbt-spark"), args.command, "--target", "spark"]
        wall, rss, code = timed(cmd, env_e, settings.project_dir, root / f"{engine}.log")
        rows.append((engine, wall, rss, code, slowest(target_path)))

    print(
        f"\n{args.people:,} people, dbt {args.command}, {platform.node()}: "
        f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GB, "
        f"load before start {os.getloadavg()[0]:.1f}"
    )
    print("| engine | wall | peak RSS (dbt + JVM) | exit | slowest models |")
    print("|---|---|---|---|---|")
    for engine, wall, rss, code, top in rows:
        tops = ", ".join(f"{name} {t:.0f} s" for name, t in top)
        print(f"| {engine} | {wall:.0f} s | {rss / 2**30:.1f} GB | {code} | {tops} |")


if __name__ == "__main__":
    main()
