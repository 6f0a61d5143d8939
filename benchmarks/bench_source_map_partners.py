"""What does listing probabilistic partners cost ``customer_source_map`` (issue 15)?

On a finished build with the tier on (the DB of ``bench_identity.py --root R``), times the
part of ``customer_source_map`` the tier adds, alone and read-only: the partner list of
every linked record (kept links, both ends, ``string_agg``) and its left join to every
identity record, keyed by ``record_id`` (the model before 2026-12-07) and by ``node_sig``
(the model now: a person record is a node of its own), beside a plain scan of the records.

    python benchmarks/bench_source_map_partners.py --root /tmp/c360-bench-identity

Figures: docs/benchmarks.md (the probabilistic tier at 2,000,000 people).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from customer360.restricted_db import connect_build
from customer360.settings import Settings


def partners(key: str) -> str:
    """The kept probabilistic links per record end, keyed by ``key`` (record_id or node_sig)."""
    return f"""
with cut_identifiers as (
    select identifier_sig from intermediate.int_identity__components
    where is_cut_link group by identifier_sig
),
kept as (
    select links.* from intermediate.int_identity__probabilistic_links as links
    left join cut_identifiers on links.identifier_sig = cut_identifiers.identifier_sig
    where cut_identifiers.identifier_sig is null
),
ends as (
    select {key}_l as k, identifier_value as partner from kept
    union all
    select {key}_r, identifier_value from kept
),
partners as (
    select k, string_agg(partner, ' | ' order by partner) as probabilistic_links
    from ends group by k
)
"""


def joined(key: str) -> str:
    return partners(key) + (
        # the model needs node_sig anyway (records -> node -> cluster), so both variants
        # compute it (int_identity__records is a view: the hash is computed as it is read)
        "select count(*), count(partners.k), sum(length(partners.probabilistic_links)),"
        " sum(records.node_sig % 7)"
        " from intermediate.int_identity__records as records"
        f" left join partners on records.{key} = partners.k"
    )


QUERIES = {
    "scan of the identity records": (
        "select count(*), sum(length(record_id)) from intermediate.int_identity__records"
    ),
    "partner lists alone (by record_id)": partners("record_id")
    + "select count(*), sum(length(probabilistic_links)) from partners",
    "records left join partner lists by record_id (before)": joined("record_id"),
    "records left join partner lists by node_sig (now)": joined("node_sig"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    con = connect_build(Settings.for_directory(args.root).build_db, read_only=True)
    con.execute(f"set threads = {int(args.threads)}")
    for name, sql in QUERIES.items():
        started = time.perf_counter()
        result = con.sql(sql).fetchall()[0]
        print(f"{name}: {time.perf_counter() - started:.1f} s {result}", flush=True)


if __name__ == "__main__":
    main()
