"""Does sampling u from ``u_max_pairs`` random pairs (issue 15) change the links?

On a finished build (the DB of ``bench_identity.py --root R`` or of the demo), trains the
probabilistic model twice on the same person records and candidate pairs: once as the
build does (u from ``u_max_pairs`` random pairs) and once with one random pair per record
(what every build did before the change: 2,024,667 pairs at 2M person records). Scores the
candidate pairs with both and prints, for each: training time, u pairs, pairs at or
above the threshold, how many of those are true matches (generator truth), and how many
pairs are links under one model only, plus the largest weight difference.

    python benchmarks/bench_u_sample.py --root /tmp/c360-bench-identity

Figures: docs/benchmarks.md (the probabilistic tier at 2,000,000 people).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import time
from pathlib import Path

from customer360 import probabilistic as pm
from customer360.identity import _TRUTH_KEY_SQL
from customer360.restricted_db import connect_build
from customer360.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, required=True, help="a built project folder")
    args = parser.parse_args()
    settings = Settings.for_directory(args.root)
    con = connect_build(settings.build_db, read_only=True)
    spec = pm.built_spec(con)
    records_sql = f"select * from {pm.BUILT_RECORDS}"
    n = con.execute(f"select count(*) from {pm.BUILT_RECORDS}").fetchone()[0]
    truth = settings.truth_path / "records.parquet"
    con.execute(
        f"""
        create temp table person as
        select r.record_id, t.person_id
        from {pm.BUILT_RECORDS} p
        join intermediate.int_identity__records r using (record_id)
        join (select source_system, source_table, {_TRUTH_KEY_SQL} as record_key, person_id
              from read_parquet('{truth}')) t
          on t.source_system = r.source_system and t.source_table = r.source_table
         and t.record_key = r.record_key
        """
    )
    tf = pm.prepare(con, records_sql, spec, "recs")
    pm.candidate_pairs(con, "recs", spec, "pairs")
    pm.comparison_vectors(con, "recs", "pairs", spec.comparisons, "gammas")
    threshold_weight = math.log2(spec.threshold / (1 - spec.threshold))
    out: dict[str, object] = {"person_records": n, "threshold": spec.threshold}
    models = {}
    for label, u_max in (("sampled (the build)", spec.u_max_pairs), ("one per record", n)):
        s = dataclasses.replace(spec, u_max_pairs=max(u_max, 1))
        started = time.process_time(), time.perf_counter()
        model = pm.train(con, "recs", s, "gammas", tf)
        cpu, wall = time.process_time() - started[0], time.perf_counter() - started[1]
        models[label] = model
        table = "links_" + label.split()[0]
        pm.score(con, model, "gammas", table, min_weight=threshold_weight)
        links, true = con.execute(
            f"select count(*), count(*) filter (where pl.person_id = pr.person_id) from {table} s "
            "join recs rl on rl._rid = s.id_l join recs rr on rr._rid = s.id_r "  # positions
            "join person pl on pl.record_id = rl.record_id "
            "join person pr on pr.record_id = rr.record_id"
        ).fetchone()
        out[label] = {
            "u_pairs": model.stats.get("u_random_pairs"),
            "train_wall_s": round(wall, 2),
            "train_process_cpu_s": round(cpu, 2),
            "pairs_at_or_above_threshold": links,
            "of_them_true_matches": true,
            "precision": round(true / links, 6) if links else None,
        }
    only = {}
    for a, b in (("sampled", "one"), ("one", "sampled")):
        only[f"{a}_only"] = con.execute(
            f"select count(*), count(*) filter (where pl.person_id = pr.person_id) "
            f"from (select id_l, id_r from links_{a} except select id_l, id_r from links_{b}) s "
            "join recs rl on rl._rid = s.id_l join recs rr on rr._rid = s.id_r "  # positions
            "join person pl on pl.record_id = rl.record_id "
            "join person pr on pr.record_id = rr.record_id"
        ).fetchone()
    out["links under one model only (pairs, true matches)"] = only
    a, b = models.values()
    out["max_weight_difference_bits"] = round(pm._max_weight_change(a, b), 4)
    out["load_1min"] = round(os.getloadavg()[0], 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
