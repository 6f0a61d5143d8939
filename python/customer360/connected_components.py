"""Connected components in SQL, for engines where the graph does not fit on one machine.

The large-star / small-star algorithm (Kiveris, Lattanzi, Mirrokni, Rastogi, Vassilvitskii:
"Connected Components in MapReduce and Beyond", SoCC 2014) keeps a set of edges
(hi, lo) with hi > lo and alternates two joins/aggregations until the set stops
changing; it then is a forest of stars, each edge pointing from a vertex to the smallest
vertex of its component. Every step is a group-by and a join, so an engine such as Spark
runs it partitioned across executors; the number of rounds grows with log(n), not with
the graph's diameter (a chain of 10,000 vertices converges in 15 rounds, see
test_connected_components.py).

- large-star: each vertex u links every larger neighbour to m(u), the smallest of u and
  its neighbours;
- small-star: each vertex u links itself and its smaller neighbours to m(u), the smallest
  of u and its smaller neighbours.

The run fails loudly (ComponentsDidNotConverge) when the edge set still changes after
`max_rounds` rounds, or when the result is not a forest of stars or splits an input edge.
`sql` executes one statement and returns its rows; `dialect` picks how intermediate
tables are written ("duckdb": temporary tables; "spark": Parquet tables in the given
schema, which cut the query lineage between rounds).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

SqlRunner = Callable[[str], Sequence[Sequence[Any]]]


class ComponentsDidNotConverge(RuntimeError):
    """The large-star / small-star iteration did not reach a forest of stars."""


def _create(dialect: str, name: str, query: str) -> list[str]:
    if dialect == "duckdb":
        return [f"create or replace temp table {name} as {query}"]
    if dialect == "spark":
        return [f"drop table if exists {name}", f"create table {name} using parquet as {query}"]
    raise ValueError(f"connected components: unknown SQL dialect {dialect!r}")


def _drop(dialect: str, name: str) -> str:
    return f"drop table if exists {name}"


def large_star_small_star(
    sql: SqlRunner,
    edges: str,
    out: str,
    *,
    dialect: str,
    src: str = "src",
    dst: str = "dst",
    prefix: str = "c360_cc",
    max_rounds: int | None = None,
) -> int:
    """Label every vertex of the undirected graph in `edges` (columns `src`, `dst`: bigint
    vertex ids; self-loops and duplicates allowed) with the smallest vertex id of its
    component, into table `out` (vertex, component). Vertices without an edge are not in
    `edges` and not in `out`. Returns the number of rounds."""
    work = [f"{prefix}_a", f"{prefix}_b", f"{prefix}_nbr", f"{prefix}_min"]
    cur, nxt, nbr, mins = work

    def run(statements: list[str]) -> None:
        for statement in statements:
            sql(statement)

    def scalar(query: str) -> int:
        return int(sql(query)[0][0] or 0)

    run(
        _create(
            dialect,
            cur,
            f"select distinct greatest({src}, {dst}) as hi, least({src}, {dst}) as lo "
            f"from {edges} where {src} <> {dst}",
        )
    )
    n_edges = scalar(f"select count(*) from {cur}")
    bound = max_rounds if max_rounds is not None else 10 + 4 * math.ceil(math.log2(n_edges + 2))

    def neighbours(table: str) -> None:
        run(
            _create(
                dialect,
                nbr,
                f"select hi as u, lo as v from {table} "
                f"union all select lo as u, hi as v from {table}",
            )
        )

    rounds = 0
    try:
        while True:
            if rounds >= bound:
                raise ComponentsDidNotConverge(
                    f"connected components: the edge set still changes after {bound} "
                    f"rounds of large-star/small-star ({n_edges} edges); nothing was labelled"
                )
            rounds += 1
            # large-star: every larger neighbour v of u points to m(u)
            neighbours(cur)
            run(
                _create(
                    dialect,
                    mins,
                    f"select u, least(u, min(v)) as m from {nbr} group by u",
                )
            )
            run(
                _create(
                    dialect,
                    nxt,
                    f"select distinct n.v as hi, m.m as lo from {nbr} as n "
                    f"inner join {mins} as m on n.u = m.u where n.v > n.u",
                )
            )
            # small-star: u and its smaller neighbours point to m(u)
            run(
                _create(
                    dialect,
                    mins,
                    f"select hi as u, min(lo) as m from {nxt} group by hi",
                )
            )
            run(
                _create(
                    dialect,
                    cur + "_next",
                    f"select distinct hi, lo from ("
                    f"select m.u as hi, m.m as lo from {mins} as m "
                    f"union all "
                    f"select e.lo as hi, m.m as lo from {nxt} as e "
                    f"inner join {mins} as m on e.hi = m.u where e.lo <> m.m"
                    f") as star",
                )
            )
            changed = scalar(
                f"select count(*) from ("
                f"(select hi, lo from {cur} except select hi, lo from {cur}_next) "
                f"union all "
                f"(select hi, lo from {cur}_next except select hi, lo from {cur})"
                f") as diff"
            )
            run(_create(dialect, cur, f"select hi, lo from {cur}_next"))
            if not changed:
                break
        # a forest of stars: no centre points anywhere itself
        not_stars = scalar(f"select count(*) from {cur} as e inner join {cur} as f on e.lo = f.hi")
        if not_stars:
            raise ComponentsDidNotConverge(
                f"connected components: {not_stars} edges are not star edges after "
                f"{rounds} rounds; nothing was labelled"
            )
        run(
            _create(
                dialect,
                out,
                f"select hi as vertex, lo as component from {cur} "
                f"union all select distinct lo as vertex, lo as component from {cur}",
            )
        )
        split = scalar(
            f"select count(*) from {edges} as e "
            f"left join {out} as a on e.{src} = a.vertex "
            f"left join {out} as b on e.{dst} = b.vertex "
            f"where e.{src} <> e.{dst} "
            f"and (a.component is null or b.component is null or a.component <> b.component)"
        )
        if split:
            raise ComponentsDidNotConverge(
                f"connected components: {split} input edges join two different components "
                f"after {rounds} rounds"
            )
    finally:
        for name in (*work, cur + "_next"):
            sql(_drop(dialect, name))
    return rounds


def identity_components_spark(
    session: Any,
    nodes: Any,
    guards: Any,
    edges: Any,
    constrained_union_find: Callable[..., tuple[dict[int, int], list[tuple[int, int, str]]]],
    *,
    schema: str,
    max_rounds: int | None = None,
) -> Any:
    """int_identity__components on Spark: the output of the DuckDB model's scipy path,
    computed with large-star/small-star in Spark SQL across the executors.

    `nodes`, `guards`, `edges` are the Spark DataFrames of int_identity__nodes,
    int_identity__identifier_guards and int_identity__edges; `schema` holds the round
    tables. Graph vertices are the 64-bit signatures themselves (node_sig, identifier_sig;
    a value used by both fails the model like any other collision), so no global
    numbering (a single-partition sort) is needed; a component's number is its smallest
    vertex, a node without edges is numbered by its own signature. Only components that
    hold two values of a unique-namespace identifier type (rare, small) are collected to
    the driver, where `constrained_union_find` (the model's own) re-clusters them
    strongest link first."""
    from pyspark.sql import functions as F

    def sql(statement: str) -> list[Any]:
        return session.sql(statement).collect()

    nodes.select("node_sig").createOrReplaceTempView("c360_cc_nodes")
    guards.select(
        "identifier_sig", "identifier_type", "trust", "is_unique_namespace"
    ).createOrReplaceTempView("c360_cc_guards")
    edges.select("node_sig", "identifier_sig").createOrReplaceTempView("c360_cc_edges_in")
    # one row per distinct signature: a repeated hash means two values share one
    for view, table, column in (
        ("c360_cc_nodes", "int_identity__nodes", "node_sig"),
        ("c360_cc_guards", "int_identity__identifier_guards", "identifier_sig"),
    ):
        repeated = sql(f"select count({column}) - count(distinct {column}) from {view}")[0][0]
        if repeated:
            raise RuntimeError(
                f"identity clustering: {repeated} hash collision(s) in {table}.{column} "
                "(two different values share a 64-bit hash); nothing was linked"
            )
    shared = sql(
        "select count(*) from c360_cc_nodes as n "
        "inner join c360_cc_guards as g on n.node_sig = g.identifier_sig"
    )[0][0]
    if shared:
        raise RuntimeError(
            f"identity clustering: {shared} node signature(s) equal an identifier signature "
            "(64-bit hash collision between the two vertex sets); nothing was linked"
        )

    tag = f"{schema}.c360_cc"
    try:
        large_star_small_star(
            sql,
            "c360_cc_edges_in",
            f"{tag}_labels",
            dialect="spark",
            src="node_sig",
            dst="identifier_sig",
            prefix=tag,
            max_rounds=max_rounds,
        )
        # components holding two values of one unique-namespace identifier type
        session.sql(
            f"select distinct l.component from c360_cc_guards as g inner join {tag}_labels as l "
            f"on l.vertex = g.identifier_sig where g.is_unique_namespace "
            f"group by l.component, g.identifier_type having count(distinct g.identifier_sig) > 1"
        ).createOrReplaceTempView("c360_cc_bad")
        overrides: list[tuple[int, int]] = []
        cut_rows: list[tuple[int, int, str]] = []
        local = sql(
            f"select e.node_sig, e.identifier_sig, g.trust, g.identifier_type, "
            f"g.is_unique_namespace from c360_cc_edges_in as e "
            f"inner join {tag}_labels as l on l.vertex = e.node_sig "
            f"inner join c360_cc_bad as b on b.component = l.component "
            f"inner join c360_cc_guards as g on g.identifier_sig = e.identifier_sig"
        )
        if local:
            # dense numbers in signature order, as the DuckDB path numbers all vertices
            node_keys, rec = np.unique(
                np.array([r[0] for r in local], np.int64), return_inverse=True
            )
            ident_keys, idn = np.unique(
                np.array([r[1] for r in local], np.int64), return_inverse=True
            )
            info = {int(r[1]): (int(r[2]), str(r[3]), bool(r[4])) for r in local}
            type_names = sorted({t for _, t, unique in info.values() if unique})
            trust = np.array([info[int(k)][0] for k in ident_keys], dtype=np.int64)
            unique_code = np.array(
                [type_names.index(info[int(k)][1]) if info[int(k)][2] else -1 for k in ident_keys],
                dtype=np.int64,
            )
            n_record_nodes = len(node_keys)
            roots, cuts = constrained_union_find(
                rec.astype(np.int64),
                idn.astype(np.int64),
                n_record_nodes,
                trust,
                unique_code,
                type_names,
            )
            # a re-clustered part is numbered by its smallest node signature
            smallest: dict[int, int] = {}
            for node, root in roots.items():
                if node < n_record_nodes:
                    smallest[root] = min(
                        smallest.get(root, int(node_keys[node])), int(node_keys[node])
                    )
            overrides = [
                (int(node_keys[node]), smallest[root])
                for node, root in roots.items()
                if node < n_record_nodes
            ]
            cut_rows = [(int(node_keys[r]), int(ident_keys[i]), reason) for r, i, reason in cuts]
        result = session.sql(
            f"select n.node_sig, coalesce(l.component, n.node_sig) as component_num "
            f"from c360_cc_nodes as n left join {tag}_labels as l on l.vertex = n.node_sig"
        )
        if overrides:
            relabel = session.createDataFrame(overrides, "node_sig long, new_component long")
            result = result.join(F.broadcast(relabel), "node_sig", "left").withColumn(
                "component_num", F.coalesce("new_component", "component_num")
            )
        result = result.select(
            F.lit(False).alias("is_cut_link"),
            F.col("node_sig").cast("bigint"),
            F.col("component_num").cast("bigint"),
            F.lit(None).cast("bigint").alias("identifier_sig"),
            F.lit(None).cast("string").alias("cut_reason"),
        )
        if cut_rows:
            cut = session.createDataFrame(
                cut_rows, "node_sig long, identifier_sig long, cut_reason string"
            )
            result = result.unionByName(
                cut.select(
                    F.lit(True).alias("is_cut_link"),
                    "node_sig",
                    F.lit(None).cast("bigint").alias("component_num"),
                    "identifier_sig",
                    "cut_reason",
                )
            )
        # materialise before the round tables go, then check: every kept edge lies inside
        # one component (never emit a partial result)
        result = result.localCheckpoint()
        result.createOrReplaceTempView("c360_cc_result")
        broken = sql(
            "with kept as (select e.node_sig, e.identifier_sig from c360_cc_edges_in as e "
            "left anti join c360_cc_result as c on c.is_cut_link and c.node_sig = e.node_sig "
            "and c.identifier_sig = e.identifier_sig), "
            "labelled as (select k.identifier_sig, r.component_num from kept as k "
            "inner join c360_cc_result as r on r.node_sig = k.node_sig and not r.is_cut_link) "
            "select count(*) from (select identifier_sig from labelled group by identifier_sig "
            "having count(distinct component_num) > 1) as split"
        )[0][0]
        if broken:
            raise RuntimeError(
                f"identity clustering did not converge: {broken} identifiers link nodes of "
                "different components"
            )
        return result
    finally:
        sql(f"drop table if exists {tag}_labels")
