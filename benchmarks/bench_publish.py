"""How long does publishing take, and which copy method is faster?

Builds a synthetic build DB of ``--rows`` rows across marts-like tables (plus a staging
schema that must not be published), then times:

* ``publish()``: ``ATTACH`` the new file, ``CREATE TABLE … AS SELECT`` for each published
  table, copy the comments, write the metadata, checkpoint, fsync, rename (what
  customer360 does);
* ``COPY FROM DATABASE``: DuckDB's whole-database copy into a fresh file. It cannot
  select schemas, so it also copies ``staging`` (raw PII), and dropping those schemas
  afterwards would leave their pages in the file. It is here only as a baseline.

Usage: ``python benchmarks/bench_publish.py --rows 5000000`` (figures: docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import duckdb

from customer360.publish import PublishConfig, publish
from customer360.settings import Settings


def make_build_db(path: Path, rows: int) -> None:
    con = duckdb.connect(str(path), config={"storage_compatibility_version": "v1.4.0"})
    try:
        con.execute("create schema marts; create schema staging")
        con.execute(
            f"""
            create table marts.fct_orders as
            select range as order_id, 'CUST-' || (range % {max(rows // 5, 1)}) as customer_id,
                   timestamp '2024-01-01' + to_seconds(range % 31536000) as ordered_at,
                   (random() * 300)::decimal(12, 2) as order_total_base,
                   ['web', 'app', 'store'][1 + range % 3] as order_channel
            from range({rows})
            """
        )
        con.execute(
            f"""
            create table marts.dim_customer as
            select 'CUST-' || range as customer_id, range % 7 as segment,
                   random() * 1000 as clv, random() as churn_probability
            from range({max(rows // 5, 1)})
            """
        )
        con.execute(
            "create view marts.customer_orders as "
            "select customer_id, count(*) as orders, sum(order_total_base) as revenue "
            "from marts.fct_orders group by all"
        )
        con.execute(
            f"create table staging.stg_shop__customers as select range as id, "
            f"'person' || range || '@example.com' as email from range({rows // 5})"
        )
        con.execute("comment on table marts.fct_orders is 'One row per order.'")
        con.execute("comment on column marts.fct_orders.order_id is 'Order id.'")
    finally:
        con.close()


def main() -> None:
    # plaintext build DB unless the caller sets a key (bench_encryption.py measures the cost)
    os.environ.setdefault("C360_DB_ENCRYPTION", "off")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="c360-bench-publish-") as tmp:
        settings = Settings.for_directory(Path(tmp))
        settings.build_db.parent.mkdir(parents=True)
        t = time.perf_counter()
        make_build_db(settings.build_db, args.rows)
        print(
            f"build DB with {args.rows:,} order rows: {time.perf_counter() - t:.1f} s, "
            f"{settings.build_db.stat().st_size / 1e6:.0f} MB"
        )

        config = PublishConfig(include=("marts",))
        for i in range(args.repeat):
            result = publish(settings, config=config)
            print(
                f"publish() #{i + 1}: {result.seconds:.2f} s, {len(result.tables)} tables, "
                f"{result.rows:,} rows, {result.size_bytes / 1e6:.0f} MB"
            )

        for i in range(args.repeat):
            target = Path(tmp) / f"copy-{i}.duckdb"
            t = time.perf_counter()
            con = duckdb.connect(str(settings.build_db), read_only=True)
            con.execute(f"attach '{target}' as dst (storage_version 'v1.4.0', read_only false)")
            con.execute("copy from database build to dst")
            con.execute("checkpoint dst")
            con.execute("detach dst")
            con.close()
            print(
                f"COPY FROM DATABASE #{i + 1} (all schemas, incl. staging): "
                f"{time.perf_counter() - t:.2f} s, {target.stat().st_size / 1e6:.0f} MB"
            )


if __name__ == "__main__":
    main()
