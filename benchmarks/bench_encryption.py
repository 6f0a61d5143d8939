"""What encrypting the build DB costs: the same generated sources built twice, once with
``C360_DB_ENCRYPTION=off`` and once encrypted (DuckDB AES-GCM via httpfs/OpenSSL), timing
``dbt build`` and the publish, and reporting file sizes. Then checks that the published
file (never encrypted) opens in this DuckDB and, if given, in other DuckDB versions'
Pythons (``--reader /path/to/python``, e.g. a venv with duckdb 2.0).

    python benchmarks/bench_encryption.py --people 20000 [--reader /other/venv/bin/python]

docs/privacy.md has the figures with the command and machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from customer360.dbt import run_dbt
from customer360.generate import generate
from customer360.keys import ensure_key_file
from customer360.publish import publish
from customer360.restricted_db import is_encrypted
from customer360.settings import Settings

READ = (
    "import duckdb,sys; c=duckdb.connect(sys.argv[1], read_only=True); print(duckdb.__version__, "
    "c.execute('select count(*) from analyst.dim_customer').fetchone()[0])"
)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build_once(root: Path, data: Path, encrypted: bool, keys: Path) -> dict[str, object]:
    settings = Settings.for_directory(root)
    settings.data_dir.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(data, settings.data_dir)
    os.environ["C360_DB_ENCRYPTION"] = "on" if encrypted else "off"
    os.environ["C360_DB_KEY_FILE"] = str(keys / "db.key")
    load_before = os.getloadavg()[0]
    cpu_before = _children_cpu()
    started = time.perf_counter()
    proc = run_dbt(["build"], settings, check=False)
    if proc.returncode != 0:  # say why (the temporary folder goes away with the error)
        raise SystemExit(f"dbt build ({'encrypted' if encrypted else 'plain'}) failed:\n"
                         f"{proc.stdout[-6000:]}")  # fmt: skip
    dbt_s = time.perf_counter() - started
    dbt_cpu_s = _children_cpu() - cpu_before
    started = time.perf_counter()
    publish(settings)
    publish_s = time.perf_counter() - started
    assert is_encrypted(settings.build_db) == encrypted
    return {
        "encrypted": encrypted,
        "dbt_build_s": round(dbt_s, 1),
        # CPU time of the dbt process: less sensitive than wall time to other load
        "dbt_build_cpu_s": round(dbt_cpu_s, 1),
        "load_1min_before_after": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "publish_s": round(publish_s, 1),
        "build_db_mb": round(settings.build_db.stat().st_size / 1e6, 1),
        "published_mb": round(settings.published_db.stat().st_size / 1e6, 1),
        "published": str(settings.published_db),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--reader", action="append", default=[], help="another python")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="c360-bench-enc-") as tmp:
        tmp_path = Path(tmp)
        keys = tmp_path / "keys"
        ensure_key_file(keys / "db.key")
        os.environ.setdefault("C360_HMAC_KEY", "benchmark-hmac-key-0123456789abcdef")
        data = tmp_path / "data"
        started = time.perf_counter()
        generate(data, people=args.people, seed=1)
        gen_s = time.perf_counter() - started
        runs = [
            build_once(tmp_path / name, data, enc, keys)
            for name, enc in (("plain", False), ("encrypted", True))
        ]
        readers = {}
        for python in ["python", *args.reader]:
            exe = python if python != "python" else sys.executable
            out = subprocess.run(
                [exe, "-c", READ, runs[1]["published"]], capture_output=True, text=True
            )
            readers[exe] = (out.stdout or out.stderr).strip()[-200:]
        plain, enc = runs
        print(
            json.dumps(
                {
                    "people": args.people,
                    "generate_s": round(gen_s, 1),
                    "runs": runs,
                    "encryption_overhead_dbt_build": round(
                        enc["dbt_build_s"] / plain["dbt_build_s"] - 1, 3
                    ),
                    "encryption_overhead_dbt_build_cpu": round(
                        enc["dbt_build_cpu_s"] / plain["dbt_build_cpu_s"] - 1, 3
                    ),
                    "published_file_readers": readers,
                    "duckdb": duckdb.__version__,
                    "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                    f"load {os.getloadavg()[0]:.1f}",
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
