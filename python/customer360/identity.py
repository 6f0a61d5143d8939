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

from customer360.console import cell, literal
from customer360.settings import Settings

STATE_SCHEMA = "identity_state"
PENDING_STATE_SCHEMA = "identity_state_pending"  # customer360.build_state
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


def identity_sources(project_dir: Path, names: list[str] | None = None) -> list[dict[str, Any]]:
    """The identity sources in the order of var ``identity_source_models``, each with
    model, source_system, source_table, key, observed_at, person_record, people_keys,
    names and identifiers: the same list macros/identity/identity_config.sql builds from
    the dbt graph, read here from the YAML that declares it (no dbt parse needed)."""
    import yaml

    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}
    if names is None:  # the build's var (project config + --vars) when given, else the project's
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
    from customer360.keys import PrivacyError
    from customer360.restricted_db import connect_build

    try:
        return connect_build(Path(db))  # needs the database key (docs/privacy.md)
    except PrivacyError as exc:
        raise IdentityError(str(exc)) from exc


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
    # probabilistic links inside the customer: link, weight, probability, cut?, and per
    # comparison (name, level, weight)
    probabilistic: list[ProbabilisticLink] = field(default_factory=list)


@dataclass(frozen=True)
class ProbabilisticLink:
    link: str
    record_id_l: str
    record_id_r: str
    match_weight: float
    match_probability: float
    model_version: int
    is_cut: bool
    comparisons: list[tuple[str, str, float]]  # (comparison, level, weight)


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
        out.probabilistic = probabilistic_links_of(con, current)
        if from_record or to_record:
            if not (from_record and to_record):
                raise IdentityError("give both --from and --to record ids")
            out.path = shortest_link_path(con, current, from_record, to_record)
        return out
    finally:
        con.close()


def probabilistic_links_of(
    con: duckdb.DuckDBPyConnection, customer_id: str
) -> list[ProbabilisticLink]:
    """The customer's probabilistic links (marts.identity_probabilistic_links) with the
    weight of every comparison behind each; empty when the tier is off or not built."""
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts' "
        "and table_name = 'identity_probabilistic_links'"
    ).fetchall()[0][0]
    if not found:
        return []
    cols = [r[0] for r in con.execute("describe marts.identity_probabilistic_links").fetchall()]
    comps = [c[: -len("_level")] for c in cols if c.endswith("_level")]
    sel = ", ".join(f'"{c}_level", "{c}_weight"' for c in comps)
    rows = con.execute(
        f"""
        select link, record_id_l, record_id_r, match_weight, match_probability, model_version,
               is_cut{", " + sel if sel else ""}
        from marts.identity_probabilistic_links
        where ? in (customer_id_l, customer_id_r)
        order by record_id_l, record_id_r
        """,
        [customer_id],
    ).fetchall()
    out = []
    for r in rows:
        details = [(c, str(r[7 + 2 * i]), float(r[8 + 2 * i] or 0.0)) for i, c in enumerate(comps)]
        out.append(
            ProbabilisticLink(
                str(r[0]),
                str(r[1]),
                str(r[2]),
                float(r[3]),
                float(r[4]),
                int(r[5]),
                bool(r[6]),
                details,
            )  # fmt: skip
        )
    return out


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
        union all
        select ends.record_id, 'probabilistic:' || ends.identifier_value
        from (
            select record_id_l as record_id, identifier_value, identifier_sig
            from intermediate.int_identity__probabilistic_links
            union all
            select record_id_r, identifier_value, identifier_sig
            from intermediate.int_identity__probabilistic_links
        ) as ends
        inner join mine on ends.record_id = mine.record_id
        where ends.identifier_sig not in (select identifier_sig from cuts)
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
class NoiseScore:
    """Person-record pairs touched by one kind of generator noise (truth/noise.parquet):
    for twins and namesakes the pairs that must stay apart (``joined`` should be 0), for
    the other kinds the true pairs with a noisy record (``joined`` / ``pairs`` = recall)."""

    kind: str
    must_stay_apart: bool
    pairs: int
    joined: int  # with the probabilistic tier (this build)
    joined_without_tier: int  # the same clusters with the probabilistic links removed

    @property
    def rate(self) -> float:
        return self.joined / self.pairs if self.pairs else 1.0

    @property
    def rate_without_tier(self) -> float:
        return self.joined_without_tier / self.pairs if self.pairs else 1.0


@dataclass(frozen=True)
class Evaluation:
    all_records: PairScore
    person_records: PairScore
    unmatched_truth: int  # identity-bearing records without a ground-truth row
    # the same scopes with the probabilistic links taken out (None: tier not built)
    all_records_without_tier: PairScore | None = None
    person_records_without_tier: PairScore | None = None
    by_noise: list[NoiseScore] = field(default_factory=list)


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
    from customer360.keys import ROLE_PRIVACY_OFFICER, load_db_key

    con = duckdb.connect()
    try:
        if not Path(db).exists():
            raise IdentityError(f"no warehouse at {db}: run `customer360 build` first")
        from customer360.keys import PrivacyError
        from customer360.restricted_db import attach_sql, is_encrypted

        try:
            key = load_db_key(ROLE_PRIVACY_OFFICER) if is_encrypted(Path(db)) else None
        except PrivacyError as exc:
            raise IdentityError(f"{db} is encrypted: {exc}") from exc
        # as `build`: dbt's views name their catalog, and DuckDB 1.4 binds it literally
        con.execute(attach_sql(Path(db), key, alias="build", read_only=True))
        for schema, name in (
            ("intermediate", "int_identity__records"),
            ("marts", "customer_source_map"),
            ("marts", "identity_anonymous_records"),
        ):
            n = con.execute(
                "select count(*) from information_schema.tables "
                "where table_catalog = 'build' and table_schema = ? and table_name = ?",
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
                r.record_id,
                r.source_table,
                coalesce(m.customer_id, 'anonymous:' || a.anonymous_key) as cluster,
                t.person_id
            from build.intermediate.int_identity__records as r
            left join build.marts.customer_source_map as m on r.record_id = m.record_id
            left join build.marts.identity_anonymous_records as a on r.record_id = a.record_id
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

        has_tier = _exact_only_clusters(con)
        if has_tier:
            con.execute(
                """
                create temp table scored_without as
                select s.source_table, coalesce(x.cluster, s.cluster) as cluster, s.person_id,
                       s.record_id
                from scored as s left join exact_clusters as x on s.record_id = x.record_id
                """
            )

        def score(scope: str, where: str, table: str = "scored") -> PairScore:
            row = con.execute(
                f"""
                with cells as (
                    select cluster, person_id, count(*)::hugeint as n
                    from {table} {where} group by 1, 2
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
        person_scope = "person records (accounts, contacts, members, subscribers)"
        person_where = f"where source_table in ({tables})"
        noise_path = settings.truth_path / "noise.parquet"
        by_noise = _noise_scores(con, noise_path, tables) if has_tier else []
        return Evaluation(
            all_records=score("all identity-bearing records", ""),
            person_records=score(person_scope, person_where),
            unmatched_truth=unmatched_n,
            all_records_without_tier=(
                score("all identity-bearing records", "", "scored_without") if has_tier else None
            ),
            person_records_without_tier=(
                score(person_scope, person_where, "scored_without") if has_tier else None
            ),
            by_noise=by_noise,
        )
    finally:
        con.close()


def _exact_only_clusters(con: duckdb.DuckDBPyConnection) -> bool:
    """Temp table exact_clusters(record_id, cluster): the build's customers split into the
    components their exact identifiers alone form (customer_source_map.linked_by_identifiers,
    which never lists probabilistic links) - the clustering without the tier. False when
    the build has no probabilistic tier."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    present = con.execute(
        "select count(*) from information_schema.columns where table_catalog = 'build' and "
        "table_name = 'customer_source_map' and column_name = 'is_linked_probabilistically'"
    ).fetchall()[0][0]
    if not present:
        return False
    con.execute(
        """
        create temp table cs as
        select record_id, customer_id, linked_by_identifiers,
               row_number() over (order by record_id) - 1 as rnum
        from build.marts.customer_source_map
        """
    )
    edges = con.execute(
        """
        with ids as (
            select rnum, customer_id || '|' || trim(unnest(string_split(linked_by_identifiers,
                   ' | '))) as ident
            from cs where linked_by_identifiers is not null
        )
        select rnum, dense_rank() over (order by ident) - 1 as inum from ids
        """
    ).fetchnumpy()
    n = con.execute("select count(*) from cs").fetchall()[0][0]
    rn = np.asarray(edges["rnum"], dtype=np.int64)
    inum = np.asarray(edges["inum"], dtype=np.int64)
    m = int(inum.max()) + 1 if len(inum) else 0
    graph = coo_matrix((np.ones(len(rn)), (rn, n + inum)), shape=(n + m, n + m))
    _, labels = connected_components(graph, directed=False)
    import pyarrow as pa

    con.register(
        "exact_labels",
        pa.table({"rnum": pa.array(np.arange(n)), "label": pa.array(labels[:n].astype(np.int64))}),
    )
    con.execute(
        """
        create temp table exact_clusters as
        select cs.record_id, 'exact:' || l.label::varchar as cluster
        from cs inner join exact_labels as l on cs.rnum = l.rnum
        """
    )
    con.unregister("exact_labels")
    return True


def _noise_scores(con: duckdb.DuckDBPyConnection, noise: Path, tables: str) -> list[NoiseScore]:
    """Per noise kind of the ground truth: person-record pairs joined, with and without
    the tier (see NoiseScore)."""
    if not noise.exists():
        return []
    con.execute(
        f"""
        create temp table noise as
        select source_system || '.' || source_table || ':' || ({_TRUTH_KEY_SQL}) as record_id,
               person_id, noise_kind, related_person_id
        from read_parquet('{noise}')
        """
    )
    con.execute(
        f"""
        create temp table person_scored as
        select s.record_id, s.person_id, s.cluster, w.cluster as cluster_without
        from scored as s inner join scored_without as w on s.record_id = w.record_id
        where s.source_table in ({tables})
        """
    )
    rows = con.execute(
        """
        with pairs as (
            select n.noise_kind,
                   n.noise_kind in ('twin', 'namesake') as apart,
                   a.cluster = b.cluster as joined,
                   a.cluster_without = b.cluster_without as joined_without
            from noise as n
            inner join person_scored as a on a.record_id = n.record_id
            inner join person_scored as b
                on b.person_id = case when n.noise_kind in ('twin', 'namesake')
                                      then n.related_person_id else n.person_id end
                and b.record_id <> a.record_id
        )
        select noise_kind, any_value(apart), count(*), count(*) filter (where joined),
               count(*) filter (where joined_without)
        from pairs group by 1 order by 1
        """
    ).fetchall()
    return [NoiseScore(str(k), bool(a), int(p), int(j), int(jw)) for k, a, p, j, jw in rows]


# --------------------------------------------------------------------------- reset


def reset_ids(settings: Settings, db: Path | None = None) -> list[str]:
    """Drop the persistent customer-ID registry (identity_state.*). Irreversible: the
    next build mints every ID afresh from CUST-00000001. Returns the dropped tables."""
    db = db or settings.build_db
    if not Path(db).exists():
        return []
    from customer360.restricted_db import connect_build

    con = connect_build(Path(db), read_only=False)
    try:
        present = set(
            con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema in (?, ?)",
                [STATE_SCHEMA, PENDING_STATE_SCHEMA],
            ).fetchall()
        )
        dropped = []
        # the pending state of an uncommitted build too: it must never be committed later
        for schema in (STATE_SCHEMA, PENDING_STATE_SCHEMA):
            for name in STATE_TABLES:
                if (schema, name) in present:
                    con.execute(f'drop table "{schema}"."{name}"')
                    dropped.append(f"{schema}.{name}")
        return dropped
    finally:
        con.close()


# --------------------------------------------------------------------------- printing


def print_explanation(result: CustomerExplanation, console: object) -> None:
    """Render an explanation with rich (the CLI's `explain`)."""
    from rich.table import Table

    if result.customer_id != result.requested_id:
        target = result.customer_id or "nothing"
        console.print(
            f"{literal(result.requested_id)} is {literal(result.status)}: resolves to "
            f"{literal(target)}"
        )
    if result.customer_id is None:
        return
    console.print(f"[bold]{literal(result.customer_id)}[/bold]: {len(result.records)} records")
    history = Table(title="ID history")
    for col in ("customer_id", "status", "valid_from", "valid_to", "event"):
        history.add_column(col)
    for h in result.history:
        history.add_row(*(cell(h[c]) if h[c] is not None else "" for c in h))
    console.print(history)
    records = Table(title="records and the identifiers linking them")
    for col in ("record", "observed_at", "linked by"):
        records.add_column(col)
    for r in result.records[:200]:
        records.add_row(cell(r.record_id), cell(r.observed_at), cell(r.linked_by or "(alone)"))
    console.print(records)
    if len(result.records) > 200:
        console.print(f"... {len(result.records) - 200} more records")
    idents = Table(title="usable identifiers")
    for col in ("type", "value", "records"):
        idents.add_column(col)
    for t, v, n in result.identifiers:
        idents.add_row(cell(t), cell(v), str(n))
    console.print(idents)
    for link in result.probabilistic:
        cut = " [red](cut by the guards)[/red]" if link.is_cut else ""
        table = Table(
            title=f"probabilistic link {link.record_id_l} ~ {link.record_id_r}: weight "
            f"{link.match_weight:.2f}, match probability {link.match_probability:.6f} "
            f"(model v{link.model_version}){cut}"
        )
        for col in ("comparison", "level", "weight"):
            table.add_column(col)
        prior = link.match_weight - sum(w for _, _, w in link.comparisons)
        table.add_row("prior", "two random records match", f"{prior:+.2f}")
        for name, level, weight in link.comparisons:
            table.add_row(name, level, f"{weight:+.2f}")
        console.print(table)
    if result.path:
        console.print(
            "[bold]shortest path[/bold]: " + " -> ".join(literal(label) for _, label in result.path)
        )


def print_evaluation(result: Evaluation, console: object) -> None:
    """Render an evaluation with rich (the CLI's `evaluate`)."""
    from rich.table import Table

    table = Table(title="pairwise clustering accuracy vs ground truth")
    for col in ("scope", "records", "precision", "recall", "F1"):
        table.add_column(col)
    for s in (result.all_records, result.person_records):
        table.add_row(
            cell(s.scope),
            f"{s.records:,}",
            f"{s.precision:.5f}",
            f"{s.recall:.5f}",
            f"{s.f1:.5f}",
        )
    console.print(table)
    if result.all_records_without_tier is not None:
        table = Table(title="the same without the probabilistic tier")
        for col in ("scope", "precision", "recall", "F1"):
            table.add_column(col)
        for s_ in (result.all_records_without_tier, result.person_records_without_tier):
            if s_ is not None:
                table.add_row(s_.scope, f"{s_.precision:.5f}", f"{s_.recall:.5f}", f"{s_.f1:.5f}")
        console.print(table)
    if result.by_noise:
        table = Table(title="person-record pairs per noise kind (truth/noise.parquet)")
        for col in ("noise kind", "pairs", "joined (tier on)", "joined (tier off)", "should be"):
            table.add_column(col)
        for n in result.by_noise:
            table.add_row(
                n.kind, f"{n.pairs:,}", f"{n.rate:.4f}", f"{n.rate_without_tier:.4f}",
                "0 (apart)" if n.must_stay_apart else "1 (joined)",
            )  # fmt: skip
        console.print(table)
