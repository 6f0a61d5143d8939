"""One code path for the project's dbt Python models on DuckDB and on Spark.

dbt-duckdb hands a Python model DuckDB relations (``dbt.ref``) and writes back what it
returns (a pyarrow table); dbt-spark (Databricks, or customer360.spark_dbt on local
Spark) hands it Spark DataFrames and writes back a Spark DataFrame. A model starts with
``dbt = frames.portable(dbt, session)`` and ends with ``return frames.output(session,
table)``; in between it uses the small part of DuckDB's relation API the models need
(``filter``, ``project``, ``aggregate``, ``distinct``, ``order``, ``df``, ``fetchall``,
``fetchnumpy``, ``arrow``), which on Spark is the same SQL expression text through
``DataFrame.filter`` / ``selectExpr``. Heavy scoring still runs in pandas/numpy: on
Spark those inputs are collected to the driver (docs/architecture.md says which).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa


def is_spark(session: Any) -> bool:
    """True when the model runs on Spark (dbt-spark passes a SparkSession)."""
    return type(session).__module__.startswith("pyspark")


def split_expressions(text: str) -> list[str]:
    """'a, cast(b as double) as c' -> ['a', 'cast(b as double) as c'] (commas at the top
    level only, outside brackets and quotes)."""
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


class SparkRelation:
    """DuckDB's relation API, the part the models use, over a Spark DataFrame."""

    def __init__(self, frame: Any) -> None:
        self.frame = frame

    def filter(self, condition: str) -> SparkRelation:
        return SparkRelation(self.frame.filter(condition))

    def project(self, expressions: str) -> SparkRelation:
        return SparkRelation(self.frame.selectExpr(*split_expressions(expressions)))

    def aggregate(self, expressions: str) -> SparkRelation:
        return self.project(expressions)

    def distinct(self) -> SparkRelation:
        return SparkRelation(self.frame.distinct())

    def order(self, expressions: str) -> SparkRelation:
        from pyspark.sql import functions as F

        return SparkRelation(
            self.frame.orderBy(*[F.expr(e) for e in split_expressions(expressions)])
        )

    def arrow(self) -> pa.Table:
        return self.frame.toArrow()

    def df(self) -> pd.DataFrame:
        return _arrow_to_pandas(self.arrow())

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.frame.collect()]

    def fetchnumpy(self) -> dict[str, np.ndarray]:
        table = self.arrow()
        return {
            name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names
        }


def _arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """As DuckDB's .df(): decimals become floats, timestamps nanosecond datetimes."""
    fields = []
    for f in table.schema:
        if pa.types.is_decimal(f.type):
            fields.append(pa.field(f.name, pa.float64()))
        elif pa.types.is_timestamp(f.type):
            fields.append(pa.field(f.name, pa.timestamp("ns")))
        else:
            fields.append(f)
    return table.cast(pa.schema(fields)).to_pandas()


class _PortableDbt:
    """dbt's model object with `ref`/`source` returning relations of the API above."""

    def __init__(self, dbt: Any) -> None:
        self._dbt = dbt
        self.config = dbt.config
        self.this = getattr(dbt, "this", None)
        self.is_incremental = getattr(dbt, "is_incremental", False)

    def ref(self, *args: Any, **kwargs: Any) -> SparkRelation:
        return SparkRelation(self._dbt.ref(*args, **kwargs))

    def source(self, *args: Any, **kwargs: Any) -> SparkRelation:
        return SparkRelation(self._dbt.source(*args, **kwargs))


def portable(dbt: Any, session: Any) -> Any:
    """`dbt` itself on DuckDB; on Spark a wrapper whose refs speak DuckDB's relation API."""
    return _PortableDbt(dbt) if is_spark(session) else dbt


def output(session: Any, table: pa.Table) -> Any:
    """What the engine's dbt adapter writes: the pyarrow table on DuckDB, a Spark
    DataFrame with the same columns and types on Spark."""
    if not is_spark(session):
        return table
    from pyspark.sql.pandas.types import from_arrow_schema

    # unsigned 64-bit keys have no Spark type: they are signed there (xxhash64)
    fields = [
        pa.field(f.name, pa.int64()) if pa.types.is_unsigned_integer(f.type) else f
        for f in table.schema
    ]
    table = table.cast(pa.schema(fields))
    return session.createDataFrame(table, schema=from_arrow_schema(table.schema))
