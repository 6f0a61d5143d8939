"""Connected components of the node-identifier graph, exact, in one pass.

scipy's ``connected_components`` (breadth-first search over a CSR matrix, O(V + E))
labels every node (int_identity__nodes: records with one signature) and identifier; the
number of passes does not depend on the graph's diameter, so 10,000-long chains cost the
same as pairs. Components that hold two values of a unique-namespace identifier type (two
shop accounts, two loyalty numbers...) are re-clustered with a constrained union-find:
edges are added strongest identifier first (trust desc, then identifier, then node:
positions in the sorted signature hashes) and an edge that would join two different
values of a unique namespace is refused (a "cut link", returned with its reason).

Output: one row per node (is_cut_link false: node_sig, component_num) plus one row per
cut link (is_cut_link true: node_sig, identifier_sig, cut_reason). The result is checked
before it is returned: every kept edge joins two nodes of the same component, or the
model fails; nothing partial is ever written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def _constrained_union_find(
    rec: np.ndarray,
    idn: np.ndarray,
    n_record_nodes: int,
    trust: np.ndarray,
    unique_code: np.ndarray,
    type_names: list[str],
) -> tuple[dict[int, int], list[tuple[int, int, str]]]:
    """Union-find over the given edges (record, identifier) in strength order, refusing
    unions that would put two values of one unique-namespace type in one component.

    ``unique_code[i]`` is the unique-namespace type (index into ``type_names``) of
    identifier ``i``, or -1.
    Returns (root of every touched node, cut links)."""
    order = np.lexsort((rec, idn, -trust[idn]))
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
        r, i = int(rec[k]), int(idn[k])
        node_i = n_record_nodes + i
        if r not in parent:
            parent[r] = r
            spaces[r] = {}
        if node_i not in parent:
            parent[node_i] = node_i
            code = int(unique_code[i])
            spaces[node_i] = {code: i} if code >= 0 else {}
        a, b = find(r), find(node_i)
        if a == b:
            continue
        sa, sb = spaces[a], spaces[b]
        clash = next((t for t in sa if t in sb and sa[t] != sb[t]), None)
        if clash is not None:
            name = type_names[clash]
            cuts.append((r, i, f"unique namespace {name}: would join two {name} values"))
            continue
        if len(sa) < len(sb):
            a, b, sa, sb = b, a, sb, sa
        parent[b] = a
        sa.update(sb)
        spaces.pop(b, None)
    return {node: find(node) for node in parent}, cuts


def model(dbt, session):
    dbt.config(materialized="table")

    # nodes and identifiers are keyed by 64-bit signature hashes; the graph needs dense
    # indices: the position in the sorted keys (deterministic for the same input), given
    # by DuckDB (a narrow window plus two parallel hash joins numbers 14M edges in ~3 s;
    # a pandas hash lookup takes twice as long, a binary search per edge five times)
    nodes = dbt.ref("int_identity__nodes")
    usable = dbt.ref("int_identity__identifier_guards").filter("is_usable")
    node_nums = nodes.project("node_sig, row_number() over (order by node_sig) - 1 as node_num")
    ident_nums = usable.project(
        "identifier_sig, row_number() over (order by identifier_sig) - 1 as ident_num, "
        "trust, is_unique_namespace, identifier_type"
    )
    node_keys = np.sort(np.asarray(nodes.project("node_sig").fetchnumpy()["node_sig"], np.uint64))
    n_record_nodes = len(node_keys)
    g = ident_nums.order("ident_num").fetchnumpy()
    ident_keys = np.asarray(g["identifier_sig"], dtype=np.uint64)
    trust = np.asarray(g["trust"], dtype=np.int64)
    n_identifiers = len(ident_keys)

    # unique-namespace identifiers (shop accounts, app logins, loyalty numbers): type code
    unique_nodes = np.flatnonzero(np.asarray(g["is_unique_namespace"], dtype=bool))
    codes, type_names = pd.factorize(
        np.asarray(g["identifier_type"], dtype=object)[unique_nodes], sort=True
    )
    unique_code = np.full(n_identifiers, -1, dtype=np.int64)
    unique_code[unique_nodes] = codes

    e = (
        dbt.ref("int_identity__edges")
        .join(node_nums, "node_sig")
        .join(ident_nums, "identifier_sig")
        .project("node_num, ident_num")
        .fetchnumpy()
    )
    rec = np.asarray(e["node_num"], dtype=np.int64)
    idn = np.asarray(e["ident_num"], dtype=np.int64)
    n_edges = dbt.ref("int_identity__edges").aggregate("count(*)").fetchall()[0][0]
    if len(rec) != n_edges:
        raise RuntimeError("identity clustering: an edge names a missing node or identifier")
    n_graph = n_record_nodes + n_identifiers

    graph = coo_matrix(
        (np.ones(len(rec), dtype=np.int8), (rec, n_record_nodes + idn)), shape=(n_graph, n_graph)
    ).tocsr()
    _, labels = connected_components(graph, directed=False)
    labels = labels.astype(np.int64)

    # components holding two values of one unique-namespace type
    cut_rows: list[tuple[int, int, str]] = []
    if len(unique_nodes):
        n_types = len(type_names)
        keys = labels[n_record_nodes + unique_nodes] * n_types + codes
        uniq, counts = np.unique(keys, return_counts=True)
        bad_labels = np.unique(uniq[counts > 1] // n_types)
        if len(bad_labels):
            sel = np.isin(labels[rec], bad_labels)
            roots, cut_rows = _constrained_union_find(
                rec[sel], idn[sel], n_record_nodes, trust, unique_code, list(type_names)
            )
            offset = labels.max() + 1
            for node, root in roots.items():
                labels[node] = offset + root
            cut_set = {(r, i) for r, i, _ in cut_rows}
            keep = np.array(
                [(int(a), int(b)) not in cut_set for a, b in zip(rec[sel], idn[sel], strict=True)],
                dtype=bool,
            )
            kept_all = np.ones(len(rec), dtype=bool)
            kept_all[np.flatnonzero(sel)[~keep]] = False
            rec_kept, idn_kept = rec[kept_all], idn[kept_all]
        else:
            rec_kept, idn_kept = rec, idn
    else:
        rec_kept, idn_kept = rec, idn

    # never emit a partial result: every kept edge lies inside one component
    broken = np.count_nonzero(labels[rec_kept] != labels[n_record_nodes + idn_kept])
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
                    pa.array(np.zeros(n_record_nodes, dtype=bool)),
                    pa.array(np.ones(n_cut, dtype=bool)),
                ]
            ),
            "node_sig": pa.concat_arrays(
                [pa.array(node_keys, type=pa.uint64()), pa.array(cut_nodes, type=pa.uint64())]
            ),
            "component_num": pa.concat_arrays([pa.array(labels[:n_record_nodes]), null_ints]),
            "identifier_sig": pa.concat_arrays(
                [
                    pa.nulls(n_record_nodes, type=pa.uint64()),
                    pa.array(cut_idents, type=pa.uint64()),
                ]
            ),
            "cut_reason": pa.concat_arrays(
                [
                    pa.nulls(n_record_nodes, type=pa.string()),
                    pa.array([c[2] for c in cut_rows], type=pa.string()),
                ]
            ),
        }
    )
