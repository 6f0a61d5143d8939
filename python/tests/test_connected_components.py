"""Connected components in SQL (large-star/small-star, customer360.connected_components):
exactly scipy's components on the same edges, on DuckDB and on Spark, chains of 10,000
included; a run that cannot converge in its round budget fails loudly.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

import duckdb
import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from customer360.connected_components import ComponentsDidNotConverge, large_star_small_star

Graph = tuple[np.ndarray, np.ndarray]


def _partition(pairs: dict[int, int]) -> list[list[int]]:
    groups: dict[int, list[int]] = defaultdict(list)
    for vertex, label in pairs.items():
        groups[label].append(vertex)
    return sorted(sorted(g) for g in groups.values())


def _scipy_partition(src: np.ndarray, dst: np.ndarray) -> list[list[int]]:
    vertices, index = np.unique(np.concatenate([src, dst]), return_inverse=True)
    n = len(vertices)
    graph = coo_matrix((np.ones(len(src)), (index[: len(src)], index[len(src) :])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return _partition({int(v): int(label) for v, label in zip(vertices, labels, strict=True)})


def _graphs() -> dict[str, Graph]:
    rng = np.random.default_rng(18)
    n = 10_000
    chain = np.arange(n, dtype=np.int64)
    shuffled = rng.permutation(n).astype(np.int64)
    sparse_src = rng.integers(0, 3_000, 2_000)
    sparse_dst = rng.integers(0, 3_000, 2_000)
    star_src = np.zeros(500, dtype=np.int64) + 777
    star_dst = np.arange(1_000, 1_500, dtype=np.int64)
    big = np.array([-(2**63) + 5, 2**63 - 7, -1, 3], dtype=np.int64)  # signed 64-bit keys
    return {
        "chain of 10,000 in order": (chain[:-1], chain[1:]),
        "chain of 10,000 in random order": (shuffled[:-1], shuffled[1:]),
        "random sparse graph (many components, self-loops, duplicates)": (
            np.concatenate([sparse_src, [5, 5]]),
            np.concatenate([sparse_dst, [5, 5]]),
        ),
        "star and a separate pair": (
            np.concatenate([star_src, [2_000]]),
            np.concatenate([star_dst, [2_001]]),
        ),
        "extreme signed 64-bit ids": (big[[0, 1, 2]], big[[1, 2, 3]]),
    }


GRAPHS = _graphs()


def _duckdb_run(src: np.ndarray, dst: np.ndarray, **kwargs: Any) -> tuple[dict[int, int], int]:
    con = duckdb.connect()
    con.execute(
        "create table edges as select unnest(?::bigint[]) as src, unnest(?::bigint[]) as dst",
        [src.tolist(), dst.tolist()],
    )
    rounds = large_star_small_star(
        lambda q: con.execute(q).fetchall(), "edges", "labels", dialect="duckdb", **kwargs
    )
    return dict(con.execute("select vertex, component from labels").fetchall()), rounds


@pytest.mark.parametrize("name", list(GRAPHS))
def test_duckdb_sql_equals_scipy(name: str) -> None:
    src, dst = GRAPHS[name]
    labels, rounds = _duckdb_run(src, dst)
    assert _partition(labels) == _scipy_partition(src, dst)
    # every component is labelled by its smallest vertex
    assert all(label == min(group) for group in _partition(labels) for label in [labels[group[0]]])
    assert rounds <= 20  # O(log n): 10,000-long chains take 15 rounds, not 10,000


def test_too_few_rounds_fail_loudly() -> None:
    src, dst = GRAPHS["chain of 10,000 in order"]
    with pytest.raises(ComponentsDidNotConverge, match="still changes after 3 rounds"):
        _duckdb_run(src, dst, max_rounds=3)


# ------------------------------------------------------------------ on Spark

needs_spark = pytest.mark.skipif(
    importlib.util.find_spec("pyspark") is None or shutil.which("java") is None,
    reason="Spark extras not installed (bash scripts/bootstrap.sh --spark)",
)


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from pyspark.sql import SparkSession

    root = tmp_path_factory.mktemp("spark_cc")
    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.warehouse.dir", str(root / "tables"))
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    session.sql("create database if not exists cc_test")
    yield session


def _spark_run(spark: Any, src: np.ndarray, dst: np.ndarray) -> dict[int, int]:
    spark.createDataFrame(
        list(zip(src.tolist(), dst.tolist(), strict=True)), "src long, dst long"
    ).createOrReplaceTempView("cc_edges")

    def sql(statement: str) -> Sequence[Sequence[Any]]:
        return spark.sql(statement).collect()

    large_star_small_star(sql, "cc_edges", "cc_test.labels", dialect="spark", prefix="cc_test.w")
    return {int(r[0]): int(r[1]) for r in sql("select vertex, component from cc_test.labels")}


@needs_spark
@pytest.mark.parametrize(
    "name",
    [
        "chain of 10,000 in random order",
        "random sparse graph (many components, self-loops, duplicates)",
        "extreme signed 64-bit ids",
    ],
)
def test_spark_sql_equals_scipy(spark: Any, name: str) -> None:
    src, dst = GRAPHS[name]
    assert _partition(_spark_run(spark, src, dst)) == _scipy_partition(src, dst)
