"""Connected components of the record-identifier graph, exact, in one pass.

scipy's ``connected_components`` (breadth-first search over a CSR matrix, O(V + E))
labels every record and identifier node; the number of passes does not depend on the
graph's diameter, so 10,000-long chains cost the same as pairs. Components that hold two
values of a unique-namespace identifier type (two shop accounts, two loyalty numbers...)
are re-clustered with a constrained union-find: edges are added strongest identifier
first (trust desc, then identifier_num, then record_num) and an edge that would join two
different values of a unique namespace is refused (a "cut link", returned with its reason).

Output: one row per record (is_cut_link false: record_num, component_num) plus one row
per cut link (is_cut_link true: record_num, identifier_num, cut_reason). The result is
checked before it is returned: every kept edge joins two nodes of the same component, or
the model fails; nothing partial is ever written.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def _constrained_union_find(
    rec: np.ndarray,
    idn: np.ndarray,
    n_records: int,
    trust: np.ndarray,
    unique_type: np.ndarray,
) -> tuple[dict[int, int], list[tuple[int, int, str]]]:
    """Union-find over the given edges (record, identifier) in strength order, refusing
    unions that would put two values of one unique-namespace type in one component.

    ``unique_type[i]`` is the unique-namespace type name of identifier ``i`` or ''.
    Returns (root of every touched node, cut links)."""
    order = np.lexsort((rec, idn, -trust[idn]))
    parent: dict[int, int] = {}
    spaces: dict[int, dict[str, int]] = {}

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
        node_i = n_records + i
        if r not in parent:
            parent[r] = r
            spaces[r] = {}
        if node_i not in parent:
            parent[node_i] = node_i
            spaces[node_i] = {unique_type[i]: i} if unique_type[i] else {}
        a, b = find(r), find(node_i)
        if a == b:
            continue
        sa, sb = spaces[a], spaces[b]
        clash = next((t for t in sa if t in sb and sa[t] != sb[t]), None)
        if clash is not None:
            cuts.append((r, i, f"unique namespace {clash}: would join two {clash} values"))
            continue
        if len(sa) < len(sb):
            a, b, sa, sb = b, a, sb, sa
        parent[b] = a
        sa.update(sb)
        spaces.pop(b, None)
    return {node: find(node) for node in parent}, cuts


def model(dbt, session):
    dbt.config(materialized="table")

    records = dbt.ref("int_identity__records")
    n_records = int(records.aggregate("count(*)").fetchall()[0][0])
    guards = dbt.ref("int_identity__identifier_guards").filter("is_usable")
    g = guards.project("identifier_num, trust, identifier_type, is_unique_namespace").fetchnumpy()
    n_identifiers = int(
        dbt.ref("int_identity__identifier_guards").aggregate("count(*)").fetchall()[0][0]
    )
    trust = np.zeros(n_identifiers, dtype=np.int64)
    trust[g["identifier_num"]] = g["trust"]
    unique_type = np.full(n_identifiers, "", dtype=object)
    unique_mask = np.asarray(g["is_unique_namespace"], dtype=bool)
    unique_type[g["identifier_num"][unique_mask]] = np.asarray(g["identifier_type"], dtype=object)[
        unique_mask
    ]

    e = dbt.ref("int_identity__edges").fetchnumpy()
    rec = np.asarray(e["record_num"], dtype=np.int64)
    idn = np.asarray(e["identifier_num"], dtype=np.int64)
    n_nodes = n_records + n_identifiers

    graph = coo_matrix(
        (np.ones(len(rec), dtype=np.int8), (rec, n_records + idn)), shape=(n_nodes, n_nodes)
    ).tocsr()
    _, labels = connected_components(graph, directed=False)
    labels = labels.astype(np.int64)

    # components holding two values of one unique-namespace type
    unique_nodes = g["identifier_num"][unique_mask]
    unique_types = np.asarray(g["identifier_type"], dtype=object)[unique_mask]
    cut_rows: list[tuple[int, int, str]] = []
    if len(unique_nodes):
        type_codes = np.unique(unique_types, return_inverse=True)[1].astype(np.int64)
        keys = labels[n_records + unique_nodes] * (type_codes.max() + 1) + type_codes
        uniq, counts = np.unique(keys, return_counts=True)
        bad_labels = np.unique(uniq[counts > 1] // (type_codes.max() + 1))
        if len(bad_labels):
            sel = np.isin(labels[rec], bad_labels)
            roots, cut_rows = _constrained_union_find(
                rec[sel], idn[sel], n_records, trust, unique_type
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
    broken = np.count_nonzero(labels[rec_kept] != labels[n_records + idn_kept])
    if broken:
        raise RuntimeError(f"identity clustering did not converge: {broken} edges cross components")

    n_cut = len(cut_rows)
    null_ints = pa.nulls(n_cut, type=pa.int64())
    return pa.table(
        {
            "is_cut_link": pa.concat_arrays(
                [pa.array(np.zeros(n_records, dtype=bool)), pa.array(np.ones(n_cut, dtype=bool))]
            ),
            "record_num": pa.concat_arrays(
                [
                    pa.array(np.arange(n_records, dtype=np.int64)),
                    pa.array([c[0] for c in cut_rows], type=pa.int64()),
                ]
            ),
            "component_num": pa.concat_arrays([pa.array(labels[:n_records]), null_ints]),
            "identifier_num": pa.concat_arrays(
                [
                    pa.nulls(n_records, type=pa.int64()),
                    pa.array([c[1] for c in cut_rows], type=pa.int64()),
                ]
            ),
            "cut_reason": pa.concat_arrays(
                [
                    pa.nulls(n_records, type=pa.string()),
                    pa.array([c[2] for c in cut_rows], type=pa.string()),
                ]
            ),
        }
    )
