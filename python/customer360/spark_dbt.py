"""Run dbt on local Apache Spark (profiles.yml target ``spark``) with the project's Python
models: ``customer360-dbt-spark build --target spark``.

dbt-spark 1.11 submits Python models to Databricks only (``all_purpose_cluster`` /
``job_cluster``); with ``method: session`` a Python model fails. This runner adds the
missing piece and nothing else: a ``session`` submission method that executes the code
dbt compiled for the model, the very script a Databricks cluster would run (the model
file, dbt's ``dbtObj`` whose ``ref`` is ``spark.table``, ``model(dbt, spark)`` and
``df.write...saveAsTable``), in this process's SparkSession. SQL models, seeds and tests
go through dbt-spark unchanged. The session method is the default only for profiles
with ``method: session``; a Databricks target keeps dbt-spark's own submission.

It also gives the Spark session the HMAC key the way the DuckDB plugin
(customer360.privacy_plugin) does: the two pad blocks become the Spark SQL session
variables ``c360_hmac_ipad`` / ``c360_hmac_opad`` (null without a key, so that
``hmac_sha256`` fails with its message); the key never appears in compiled SQL or logs.
"""

from __future__ import annotations

import sys
from typing import Any

_declared: set[int] = set()


def _spark(server_side_parameters: dict[str, Any] | None = None) -> Any:
    """The SparkSession dbt-spark's session cursors use (same builder, same config)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for parameter, value in (server_side_parameters or {}).items():
        builder = builder.config(parameter, value)
    return builder.getOrCreate()


def declare_hmac_variables(spark: Any) -> None:
    """Declare the HMAC pad blocks as session variables of `spark` (once per session)."""
    if id(spark) in _declared:
        return
    from customer360.privacy import PrivacyKeyError, hmac_pads, load_hmac_key

    try:
        ipad, opad = hmac_pads(load_hmac_key())
        values = (f"unhex('{ipad}')", f"unhex('{opad}')")
    except PrivacyKeyError:
        values = ("cast(null as binary)", "cast(null as binary)")
    for name, value in zip(("c360_hmac_ipad", "c360_hmac_opad"), values, strict=True):
        spark.sql(f"declare or replace variable {name} binary default {value}")
    _declared.add(id(spark))
    # dbt-spark asks the builder for the session on every statement, and Spark warns each
    # time that the existing one is reused: keep warnings for real problems only
    spark.sparkContext.setLogLevel("ERROR")


class SessionPythonJobHelper:
    """dbt-spark PythonJobHelper for `method: session`: runs the compiled model here."""

    def __init__(self, parsed_model: dict, credentials: Any) -> None:
        self.model_name = parsed_model.get("alias") or parsed_model["name"]
        self.server_side_parameters = getattr(credentials, "server_side_parameters", None)

    def submit(self, compiled_code: str) -> None:
        spark = _spark(self.server_side_parameters)
        declare_hmac_variables(spark)
        code = compile(compiled_code, f"<dbt python model {self.model_name}>", "exec")
        exec(code, {"__name__": f"dbt_model_{self.model_name}", "spark": spark})


def install() -> None:
    """Register the `session` submission method on dbt-spark's adapter and the HMAC
    variables on its session cursors."""
    from dbt.adapters.spark import session as spark_session
    from dbt.adapters.spark.impl import SparkAdapter

    if getattr(SparkAdapter, "_customer360_session_runner", False):
        return
    helpers = SparkAdapter.python_submission_helpers.fget
    default_method = SparkAdapter.default_python_submission_method.fget

    def python_submission_helpers(self: Any) -> dict[str, Any]:
        return {**helpers(self), "session": SessionPythonJobHelper}

    def default_python_submission_method(self: Any) -> str:
        method = getattr(self.config.credentials, "method", None)
        return "session" if method == "session" else (default_method(self))

    SparkAdapter.python_submission_helpers = property(python_submission_helpers)  # type: ignore[assignment]
    SparkAdapter.default_python_submission_method = property(  # type: ignore[assignment]
        default_python_submission_method
    )

    execute = spark_session.Cursor.execute

    def execute_with_variables(self: Any, sql: str, *parameters: Any) -> None:
        from pyspark.sql import SparkSession

        current = SparkSession.getActiveSession()
        if current is None or id(current) not in _declared:
            declare_hmac_variables(_spark(self.server_side_parameters))
        execute(self, sql, *parameters)

    spark_session.Cursor.execute = execute_with_variables  # type: ignore[method-assign]
    SparkAdapter._customer360_session_runner = True  # type: ignore[attr-defined]


def run(args: list[str]) -> bool:
    """`dbt <args>` in this process with the session runner installed; True on success."""
    from dbt.cli.main import dbtRunner

    install()
    result = dbtRunner().invoke(args)
    return bool(result.success)


def main() -> None:
    sys.exit(0 if run(sys.argv[1:]) else 1)


if __name__ == "__main__":
    main()
