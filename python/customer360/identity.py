"""Identity resolution helpers around the dbt models: explain, evaluate, reset.

The resolution itself runs in dbt (models/intermediate/identity, models/marts/identity,
docs/identity.md). This module reads what a build produced:

* :func:`explain_customer` - a customer's records and the identifiers linking them, and
  :func:`shortest_link_path` - the shortest record-identifier path between two records;
* :func:`evaluate` - pairwise precision and recall of the clustering against the
  generator's ground truth (``<data_dir>/truth/records.parquet``), counted through the
  cluster x person contingency table, never by materialising pairs;
* :func:`reset_ids` - drop the persistent ID registry (explicit, irreversible);
* :func:`identity_sources` - the identity declaration of every source, read where it is
  declared (``config.meta.identity`` beside each staging model), as the dbt macro does.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from customer360.settings import Settings

STATE_SCHEMA = "identity_state"
STATE_TABLES = ("identity_registry", "identity_record_assignments", "identity_id_events")

# How staging normalises the keys of some raw tables (docs/conventions.md): the ground
# truth holds raw keys, the identity models staged keys.
_TRUTH_KEY_SQL = """
case
    when source_system = 'loyalty' and source_table = 'members'
        then regexp_replace(record_key, '[^0-9]', '', 'g')
    when source_system = 'app' and source_table in ('devices', 'users')
        then lower(trim(record_key))
    else record_key
end
"""

PERSON_TABLES = ("customers", "contacts", "members", "users", "subscribers")


class IdentityError(RuntimeError):
    """A clear, user-facing identity error (unknown customer, missing build, ...)."""


def identity_sources(project_dir: Path) -> list[dict[str, Any]]:
    """The identity sources in the order of var ``identity_source_models``, each with
    model, source_system, source_table, key, observed_at, person_record, people_keys,
    names and identifiers: the same list macros/identity/identity_config.sql builds from
    the dbt graph, read here from the YAML that declares it (no dbt parse needed)."""
    import yaml

    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}
    names = list(project.get("vars", {}).get("identity_source_models") or [])
    declared: dict[str, dict[str, Any]] = {}
    for path in sorted((project_dir / "models").rglob("_*__models.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            meta = {**(model.get("meta") or {}), **((model.get("config") or {}).get("meta") or {})}
            if meta.get("identity") is not None:
                declared[model["name"]] = meta["identity"]
    unlisted = sorted(set(declared) - set(names))
    if unlisted:
        raise IdentityError(
            f"{', '.join(unlisted)} declare config.meta.identity but are not in var "
            "identity_source_models (dbt_project.yml)"
        )
    sources = []
    for name in names:
        if name not in declared:
            raise IdentityError(
                f"var identity_source_models lists {name}, but its YAML has no config.meta.identity"
            )
        d = declared[name]
        system, _, table = name.removeprefix("stg_").partition("__")
        sources.append(
            {
                "model": name,
                "source_system": d.get("source_system", system),
                "source_table": d.get("source_table", table),
                "key": d["key"],
                "observed_at": d["observed_at"],
                "person_record": bool(d.get("person_record", False)),
                "people_keys": dict(d.get("people_keys") or {}),
                "names": d.get("names"),
                "identifiers": dict(d["identifiers"]),
            }
        )
    return sources


def _connect(db: Path) -> duckdb.DuckDBPyConnection:
    if not Path(db).exists():
        raise IdentityError(f"no warehouse at {db}: run `customer360 build` first")
    return duckdb.connect(str(db), read_only=True)


def _require(con: duckdb.DuckDBPyConnection, schema: str, name: str, db: Path) -> None:
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchall()[0][0]
    if not found:
        raise IdentityError(f"{schema}.{name} is missing in {db}: build the identity models first")


# --------------------------------------------------------------------------- explain


@dataclass(frozen=True)
class LinkedRecord:
    record_id: str
    source_system: str
    source_table: str
    record_key: str
    observed_at: object
    linked_by: str | None


@dataclass
class CustomerExplanation:
    requested_id: str
    customer_id: str | None
    status: str
    history: list[dict[str, object]] = field(default_factory=list)
    records: list[LinkedRecord] = field(default_factory=list)
    identifiers: list[tuple[str, str, int]] = field(default_factory=list)  # type, value, n
    path: list[tuple[str, str]] = field(default_factory=list)  # (kind, label) steps


def resolve_customer_id(con: duckdb.DuckDBPyConnection, customer_id: str) -> tuple[str | None, str]:
    """(current ID, status of the requested ID) through customer_id_history."""
    row = con.execute(
        "select current_customer_id, status from marts.customer_id_history where customer_id = ?",
        [customer_id],
    ).fetchall()
    if not row:
        raise IdentityError(f"unknown customer ID {customer_id!r} (not in customer_id_history)")
    return row[0][0], row[0][1]


def explain_customer(
    db: Path, customer_id: str, from_record: str | None = None, to_record: str | None = None
) -> CustomerExplanation:
    """Records of a customer (resolving old IDs), their linking identifiers and, with
    ``from_record``/``to_record``, the shortest identifier path between two records."""
    con = _connect(db)
    try:
        for schema, name in (
            ("marts", "customer_id_history"),
            ("marts", "customer_source_map"),
            ("intermediate", "int_identity__identifiers"),
            ("intermediate", "int_identity__identifier_guards"),
        ):
            _require(con, schema, name, db)
        current, status = resolve_customer_id(con, customer_id)
        out = CustomerExplanation(customer_id, current, status)
        out.history = [
            dict(zip(("customer_id", "status", "valid_from", "valid_to", "event"), r, strict=True))
            for r in con.execute(
                """
                select customer_id, status, valid_from, valid_to,
                       case
                           when status = 'merged' then 'merged via ' || coalesce(
                               merge_identifier_type || ' ' || merge_identifier_value, '?')
                           when split_from_customer_id is not null
                               then 'split from ' || split_from_customer_id
                           else status
                       end
                from marts.customer_id_history
                where current_customer_id = ? or customer_id = ?
                order by id_seq
                """,
                [current, customer_id],
            ).fetchall()
        ]
        if current is None:
            return out
        out.records = [
            LinkedRecord(*r)
            for r in con.execute(
                """
                select record_id, source_system, source_table, record_key, observed_at,
                       linked_by_identifiers
                from marts.customer_source_map
                where customer_id = ?
                order by source_system, source_table, observed_at, record_id
                """,
                [current],
            ).fetchall()
        ]
        out.identifiers = [
            (t, v, int(n))
            for t, v, n in con.execute(
                """
                select i.identifier_type, i.identifier_value, count(*)
                from intermediate.int_identity__identifiers as i
                inner join marts.customer_source_map as m on i.record_id = m.record_id
                inner join intermediate.int_identity__identifier_guards as g
                    on i.identifier_type = g.identifier_type
                    and i.identifier_value = g.identifier_value
                where m.customer_id = ? and g.is_usable
                group by 1, 2
                order by 1, 2
                """,
                [current],
            ).fetchall()
        ]
        if from_record or to_record:
            if not (from_record and to_record):
                raise IdentityError("give both --from and --to record ids")
            out.path = shortest_link_path(con, current, from_record, to_record)
        return out
    finally:
        con.close()


def shortest_link_path(
    con: duckdb.DuckDBPyConnection, customer_id: str, from_record: str, to_record: str
) -> list[tuple[str, str]]:
    """Breadth-first search over the record-identifier graph of one customer (usable
    identifiers, cut links removed). Returns the steps ('record', id) / ('identifier',
    'type:value') from ``from_record`` to ``to_record``."""
    edges = con.execute(
        """
        with mine as (
            select m.record_id, r.node_sig
            from marts.customer_source_map as m
            inner join intermediate.int_identity__records as r on m.record_id = r.record_id
            where m.customer_id = ?
        ),
        cuts as (
            select node_sig, identifier_sig
            from intermediate.int_identity__components
            where is_cut_link
        )
        select mine.record_id, g.identifier_type || ':' || g.identifier_value
        from mine
        inner join intermediate.int_identity__identifiers as i on mine.record_id = i.record_id
        inner join intermediate.int_identity__identifier_guards as g
            on i.identifier_type = g.identifier_type and i.identifier_value = g.identifier_value
        left join cuts
            on cuts.node_sig = mine.node_sig and cuts.identifier_sig = g.identifier_sig
        where g.is_usable and cuts.node_sig is null
        """,
        [customer_id],
    ).fetchall()
    records = {r for r, _ in edges} | {
        r[0]
        for r in con.execute(
            "select record_id from marts.customer_source_map where customer_id = ?",
            [customer_id],
        ).fetchall()
    }
    for rec in (from_record, to_record):
        if rec not in records:
            raise IdentityError(f"record {rec!r} does not belong to customer {customer_id}")
    adjacency: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for rec, ident in edges:
        a, b = ("record", rec), ("identifier", ident)
        adjacency.setdefault(a, []).append(b)
        adjacency.setdefault(b, []).append(a)
    start, goal = ("record", from_record), ("record", to_record)
    previous: dict[tuple[str, str], tuple[str, str] | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            break
        for nxt in sorted(adjacency.get(node, [])):
            if nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    if goal not in previous:
        raise IdentityError(f"no identifier path between {from_record} and {to_record}")
    path: list[tuple[str, str]] = []
    step: tuple[str, str] | None = goal
    while step is not None:
        path.append(step)
        step = previous[step]
    return path[::-1]


# --------------------------------------------------------------------------- evaluate


@dataclass(frozen=True)
class PairScore:
    scope: str
    records: int
    true_pairs: int  # pairs in the same cluster and the same person
    predicted_pairs: int  # pairs in the same cluster
    actual_pairs: int  # pairs of the same person

    @property
    def precision(self) -> float:
        return self.true_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_pairs / self.actual_pairs if self.actual_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Evaluation:
    all_records: PairScore
    person_records: PairScore
    unmatched_truth: int  # identity-bearing records without a ground-truth row


def evaluate(settings: Settings, db: Path | None = None) -> Evaluation:
    """Pairwise precision/recall of the resolved clusters against the ground truth.

    Every identity-bearing record (int_identity__records) is predicted to be in the
    cluster of its customer ID, or - for anonymous records - of its anonymous_key. Pairs
    are counted from the cluster x person contingency table: true = sum C(n_ij, 2),
    predicted = sum C(a_i, 2), actual = sum C(b_j, 2)."""
    db = db or settings.build_db
    truth = settings.truth_path / "records.parquet"
    if not truth.exists():
        raise IdentityError(f"no ground truth at {truth}: evaluate needs generated data")
    con = duckdb.connect()
    try:
        if not Path(db).exists():
            raise IdentityError(f"no warehouse at {db}: run `customer360 build` first")
        con.execute(f"attach '{db}' as w (read_only)")
        for schema, name in (
            ("intermediate", "int_identity__records"),
            ("marts", "customer_source_map"),
            ("marts", "identity_anonymous_records"),
        ):
            n = con.execute(
                "select count(*) from information_schema.tables "
                "where table_catalog = 'w' and table_schema = ? and table_name = ?",
                [schema, name],
            ).fetchall()[0][0]
            if not n:
                raise IdentityError(f"{schema}.{name} is missing in {db}: build identity first")
        con.execute(
            f"""
            create temp table truth as
            select source_system, source_table, {_TRUTH_KEY_SQL} as record_key, person_id
            from read_parquet('{truth}')
            """
        )
        con.execute(
            """
            create temp table scored as
            select
                r.source_table,
                coalesce(m.customer_id, 'anonymous:' || a.anonymous_key) as cluster,
                t.person_id
            from w.intermediate.int_identity__records as r
            left join w.marts.customer_source_map as m on r.record_id = m.record_id
            left join w.marts.identity_anonymous_records as a on r.record_id = a.record_id
            left join truth as t
                on r.source_system = t.source_system
                and r.source_table = t.source_table
                and r.record_key = t.record_key
            """
        )
        unmatched = con.execute("select count(*) from scored where person_id is null").fetchall()
        unmatched_n = int(unmatched[0][0])
        if unmatched_n:
            raise IdentityError(
                f"{unmatched_n} identity-bearing records have no ground-truth row: "
                "is the truth from the same generator run?"
            )

        def score(scope: str, where: str) -> PairScore:
            row = con.execute(
                f"""
                with cells as (
                    select cluster, person_id, count(*)::hugeint as n
                    from scored {where} group by 1, 2
                ),
                clusters as (select sum(n) as n from cells group by cluster),
                people as (select sum(n) as n from cells group by person_id)
                select
                    (select coalesce(sum(n), 0) from cells),
                    (select coalesce(sum(n * (n - 1) / 2), 0) from cells),
                    (select coalesce(sum(n * (n - 1) / 2), 0) from clusters),
                    (select coalesce(sum(n * (n - 1) / 2), 0) from people)
                """
            ).fetchall()[0]
            return PairScore(scope, *(int(v) for v in row))

        tables = ", ".join(f"'{t}'" for t in PERSON_TABLES)
        return Evaluation(
            all_records=score("all identity-bearing records", ""),
            person_records=score(
                "person records (accounts, contacts, members, subscribers)",
                f"where source_table in ({tables})",
            ),
            unmatched_truth=unmatched_n,
        )
    finally:
        con.close()


# --------------------------------------------------------------------------- reset


def reset_ids(settings: Settings, db: Path | None = None) -> list[str]:
    """Drop the persistent customer-ID registry (identity_state.*). Irreversible: the
    next build mints every ID afresh from CUST-00000001. Returns the dropped tables."""
    db = db or settings.build_db
    if not Path(db).exists():
        return []
    con = duckdb.connect(str(db))
    try:
        present = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [STATE_SCHEMA],
            ).fetchall()
        }
        dropped = []
        for name in STATE_TABLES:
            if name in present:
                con.execute(f'drop table "{STATE_SCHEMA}"."{name}"')
                dropped.append(f"{STATE_SCHEMA}.{name}")
        return dropped
    finally:
        con.close()


# --------------------------------------------------------------------------- printing


def print_explanation(result: CustomerExplanation, console: object) -> None:
    """Render an explanation with rich (the CLI's `explain`)."""
    from rich.table import Table

    if result.customer_id != result.requested_id:
        target = result.customer_id or "nothing"
        console.print(f"{result.requested_id} is {result.status}: resolves to {target}")
    if result.customer_id is None:
        return
    console.print(f"[bold]{result.customer_id}[/bold]: {len(result.records)} records")
    history = Table(title="ID history")
    for col in ("customer_id", "status", "valid_from", "valid_to", "event"):
        history.add_column(col)
    for h in result.history:
        history.add_row(*(str(h[c]) if h[c] is not None else "" for c in h))
    console.print(history)
    records = Table(title="records and the identifiers linking them")
    for col in ("record", "observed_at", "linked by"):
        records.add_column(col)
    for r in result.records[:200]:
        records.add_row(r.record_id, str(r.observed_at), r.linked_by or "(alone)")
    console.print(records)
    if len(result.records) > 200:
        console.print(f"... {len(result.records) - 200} more records")
    idents = Table(title="usable identifiers")
    for col in ("type", "value", "records"):
        idents.add_column(col)
    for t, v, n in result.identifiers:
        idents.add_row(t, v, str(n))
    console.print(idents)
    if result.path:
        console.print(
            "[bold]shortest path[/bold]: " + " -> ".join(label for _, label in result.path)
        )


def print_evaluation(result: Evaluation, console: object) -> None:
    """Render an evaluation with rich (the CLI's `evaluate`)."""
    from rich.table import Table

    table = Table(title="pairwise clustering accuracy vs ground truth")
    for col in ("scope", "records", "precision", "recall", "F1"):
        table.add_column(col)
    for s in (result.all_records, result.person_records):
        table.add_row(
            s.scope, f"{s.records:,}", f"{s.precision:.5f}", f"{s.recall:.5f}", f"{s.f1:.5f}"
        )
    console.print(table)
