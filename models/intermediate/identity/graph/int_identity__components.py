"""Connected components of the node-identifier graph, exact, in one pass.

scipy's ``connected_components`` (breadth-first search over a CSR matrix, O(V + E))
labels every node (int_identity__nodes: records with one signature) and identifier; the
number of passes does not depend on the graph's diameter, so 10,000-long chains cost the
same as pairs. Components that hold two values of a unique-namespace identifier type (two
shop accounts, two loyalty numbers...) are re-clustered with a constrained union-find:
edges are added strongest identifier first (trust desc, then identifier, then node:
positions in the sorted signature hashes) and an edge that would join two different
values of a unique namespace is refused (a "cut link", returned with its reason).

Before the graph is built, node and identifier hashes (node_sig, identifier_sig) are
checked collision-free: the two tables hold one row per distinct signature, so a repeated
hash means two different values share one, and the model fails.

Output: one row per node (is_cut_link false: node_sig, component_num) plus one row per
cut link (is_cut_link true: node_sig, identifier_sig, cut_reason). The result is checked
before it is returned: every kept edge joins two nodes of the same component, or the
model fails; nothing partial is ever written.

On Spark (Databricks, or customer360.spark_dbt locally) the same model computes the
components with large-star/small-star in Spark SQL across the executors instead
(customer360.connected_components: O(log n) rounds, fails loudly if it does not
converge); only the components with a unique-namespace conflict are collected to the
driver for the same constrained union-find. Same output columns, signatures signed
64-bit there (xxhash64).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from customer360 import frames
from customer360.connected_components import identity_components_spark


def _constrained_union_find(
    edge_node_nums: np.ndarray,
    edge_identifier_nums: np.ndarray,
    n_nodes: int,
    trust: np.ndarray,
    unique_code: np.ndarray,
    type_names: list[str],
) -> tuple[dict[int, int], list[tuple[int, int, str]]]:
    """Union-find over the given edges (node, identifier) in strength order, refusing
    unions that would put two values of one unique-namespace type in one component.

    ``unique_code[i]`` is the unique-namespace type (index into ``type_names``) of
    identifier ``i``, or -1.
    Returns (root of every touched node, cut links)."""
    order = np.lexsort((edge_node_nums, edge_identifier_nums, -trust[edge_identifier_nums]))
    parent: dict[int, int] = {}
    spaces: dict[int, dict[int, int]] = {}

    def find(x: int) -> int:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    cuts: list[tuple[int, int, str]] = []
    for k in order:
        node, ident = int(edge_node_nums[k]), int(edge_identifier_nums[k])
        identifier_vertex = n_nodes + ident
        if node not in parent:
            parent[node] = node
            spaces[node] = {}
        if identifier_vertex not in parent:
            parent[identifier_vertex] = identifier_vertex
            code = int(unique_code[ident])
            spaces[identifier_vertex] = {code: ident} if code >= 0 else {}
        a, b = find(node), find(identifier_vertex)
        if a == b:
            continue
        sa, sb = spaces[a], spaces[b]
        clash = next((t for t in sa if t in sb and sa[t] != sb[t]), None)
        if clash is not None:
            name = type_names[clash]
            cuts.append((node, ident, f"unique namespace {name}: would join two {name} values"))
            continue
        if len(sa) < len(sb):
            a, b, sa, sb = b, a, sb, sa
        parent[b] = a
        sa.update(sb)
        spaces.pop(b, None)
    return {vertex: find(vertex) for vertex in parent}, cuts


def _fail_on_repeated_keys(sorted_keys: np.ndarray, model_name: str, column: str) -> None:
    """Two different signatures (or identifiers) with one 64-bit hash: fail loudly."""
    repeated = np.count_nonzero(sorted_keys[1:] == sorted_keys[:-1])
    if repeated:
        raise RuntimeError(
            f"identity clustering: {repeated} hash collision(s) in {model_name}.{column} "
            "(two different values share a 64-bit hash); nothing was linked"
        )


def model(dbt, session):
    dbt.config(materialized="table")
    if frames.is_spark(session):
        return identity_components_spark(
            session,
            dbt.ref("int_identity__nodes"),
            dbt.ref("int_identity__identifier_guards"),
            dbt.ref("int_identity__edges"),
            _constrained_union_find,
            schema=dbt.this.schema,
        )

    # vertices: every node (sorted by node_sig) and every identifier of the guards table
    # (sorted by identifier_sig, usable or not: excluded ones simply carry no edge); the
    # edges arrive with these dense positions (node_num, identifier_num, numbered in SQL)
    nodes = dbt.ref("int_identity__nodes")
    guards = dbt.ref("int_identity__identifier_guards")
    node_keys = np.sort(np.asarray(nodes.project("node_sig").fetchnumpy()["node_sig"], np.uint64))
    n_nodes = len(node_keys)

    # unique-namespace identifiers (shop accounts, app logins, loyalty numbers): type code
    type_names = [
        row[0]
        for row in guards.filter("is_unique_namespace")
        .project("identifier_type")
        .distinct()
        .order("identifier_type")
        .fetchall()
    ]
    codes_sql = " ".join(
        f"when '{name.replace(chr(39), chr(39) * 2)}' then {code}"
        for code, name in enumerate(type_names)
    )
    code_expr = (
        f"case when is_unique_namespace then case identifier_type {codes_sql} end end"
        if type_names
        else "null"
    )
    guard_columns = (
        guards.project(f"identifier_sig, trust, coalesce({code_expr}, -1) as unique_code")
        .order("identifier_sig")
        .fetchnumpy()
    )
    ident_keys = np.asarray(guard_columns["identifier_sig"], dtype=np.uint64)
    trust = np.asarray(guard_columns["trust"], dtype=np.int64)
    unique_code = np.asarray(guard_columns["unique_code"], dtype=np.int64)
    unique_nodes = np.flatnonzero(unique_code >= 0)
    codes = unique_code[unique_nodes]
    n_identifiers = len(ident_keys)

    # one row per distinct signature / identifier: a repeated hash is a collision, which
    # stops the build here, before any cluster is formed on those keys
    _fail_on_repeated_keys(node_keys, "int_identity__nodes", "node_sig")
    _fail_on_repeated_keys(ident_keys, "int_identity__identifier_guards", "identifier_sig")

    edges = (
        dbt.ref("int_identity__edges")
        .project("node_sig, identifier_sig, node_num, identifier_num")
        .fetchnumpy()
    )
    edge_node_nums = np.asarray(edges["node_num"], dtype=np.int64)
    edge_identifier_nums = np.asarray(edges["identifier_num"], dtype=np.int64)
    # the numbering in SQL must agree with the sorted keys here, edge for edge
    if len(edge_node_nums) and (
        edge_node_nums.min() < 0
        or edge_identifier_nums.min() < 0
        or edge_node_nums.max() >= n_nodes
        or edge_identifier_nums.max() >= n_identifiers
        or not np.array_equal(
            node_keys[edge_node_nums], np.asarray(edges["node_sig"], dtype=np.uint64)
        )
        or not np.array_equal(
            ident_keys[edge_identifier_nums], np.asarray(edges["identifier_sig"], dtype=np.uint64)
        )
    ):
        raise RuntimeError("identity clustering: edge numbers disagree with the sorted keys")
    del edges
    n_graph = n_nodes + n_identifiers

    graph = coo_matrix(
        (
            np.ones(len(edge_node_nums), dtype=np.int8),
            (edge_node_nums, n_nodes + edge_identifier_nums),
        ),
        shape=(n_graph, n_graph),
    ).tocsr()
    _, labels = connected_components(graph, directed=False)
    labels = labels.astype(np.int64)

    # components holding two values of one unique-namespace type
    cut_rows: list[tuple[int, int, str]] = []
    if len(unique_nodes):
        n_types = len(type_names)
        keys = labels[n_nodes + unique_nodes] * n_types + codes
        uniq, counts = np.unique(keys, return_counts=True)
        bad_labels = np.unique(uniq[counts > 1] // n_types)
        if len(bad_labels):
            sel = np.isin(labels[edge_node_nums], bad_labels)
            roots, cut_rows = _constrained_union_find(
                edge_node_nums[sel],
                edge_identifier_nums[sel],
                n_nodes,
                trust,
                unique_code,
                list(type_names),
            )
            offset = labels.max() + 1
            for node, root in roots.items():
                labels[node] = offset + root
            cut_set = {(node, ident) for node, ident, _ in cut_rows}
            keep = np.array(
                [
                    (int(node), int(ident)) not in cut_set
                    for node, ident in zip(
                        edge_node_nums[sel], edge_identifier_nums[sel], strict=True
                    )
                ],
                dtype=bool,
            )
            kept_all = np.ones(len(edge_node_nums), dtype=bool)
            kept_all[np.flatnonzero(sel)[~keep]] = False
            kept_node_nums, kept_identifier_nums = (
                edge_node_nums[kept_all],
                edge_identifier_nums[kept_all],
            )
        else:
            kept_node_nums, kept_identifier_nums = edge_node_nums, edge_identifier_nums
    else:
        kept_node_nums, kept_identifier_nums = edge_node_nums, edge_identifier_nums

    # never emit a partial result: every kept edge lies inside one component
    broken = np.count_nonzero(labels[kept_node_nums] != labels[n_nodes + kept_identifier_nums])
    if broken:
        raise RuntimeError(f"identity clustering did not converge: {broken} edges cross components")

    n_cut = len(cut_rows)
    null_ints = pa.nulls(n_cut, type=pa.int64())
    cut_nodes = node_keys[np.array([c[0] for c in cut_rows], dtype=np.int64)]
    cut_idents = ident_keys[np.array([c[1] for c in cut_rows], dtype=np.int64)]
    return pa.table(
        {
            "is_cut_link": pa.concat_arrays(
                [
                    pa.array(np.zeros(n_nodes, dtype=bool)),
                    pa.array(np.ones(n_cut, dtype=bool)),
                ]
            ),
            "node_sig": pa.concat_arrays(
                [pa.array(node_keys, type=pa.uint64()), pa.array(cut_nodes, type=pa.uint64())]
            ),
            "component_num": pa.concat_arrays([pa.array(labels[:n_nodes]), null_ints]),
            "identifier_sig": pa.concat_arrays(
                [
                    pa.nulls(n_nodes, type=pa.uint64()),
                    pa.array(cut_idents, type=pa.uint64()),
                ]
            ),
            "cut_reason": pa.concat_arrays(
                [
                    pa.nulls(n_nodes, type=pa.string()),
                    pa.array([c[2] for c in cut_rows], type=pa.string()),
                ]
            ),
        }
    )
