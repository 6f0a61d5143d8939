"""Great Expectations suite on the resolved customer tables (`customer360 validate`).

The third level of the customer-ID guarantee (after dbt tests and model contracts): after
every build, ``marts.dim_customer`` and ``marts.customer_source_map`` are read from the
DuckDB file (opened read-only) into pandas and validated with GX's pandas datasource in an
ephemeral context. GX's SQL datasource does not work on DuckDB (empty metrics), see
``../shared/stack-notes.md``.

Cross-table rules (every mapped customer exists; every customer has a source record) are
computed by DuckDB as helper columns (``gx_*``) and checked by GX, so a failure names the
source records concerned. HTML data docs are written to ``<reports_dir>/gx/index.html``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from rich.console import Console
from rich.table import Table

from customer360.console import cell, literal
from customer360.contracts import RAW_TABLES, SYSTEMS
from customer360.settings import PROJECT_DIR

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

UUID_REGEX = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
MAP_KEY = ["source_system", "source_table", "record_key"]

DIM_SQL = """
with source_records as (
    select customer_id, count(*) as n from marts.customer_source_map group by customer_id
)
select d.*, coalesce(s.n, 0) as gx_source_records
from marts.dim_customer as d
left join source_records as s on s.customer_id = d.customer_id
"""

MAP_SQL = """
with customers as (select distinct customer_id from marts.dim_customer)
select
    m.*,
    m.source_system || '.' || m.source_table as gx_source_table,
    c.customer_id is not null as gx_customer_exists
from marts.customer_source_map as m
left join customers as c on c.customer_id = m.customer_id
"""


class ValidationSetupError(RuntimeError):
    """The tables to validate are missing or unreadable (not an expectation failure)."""


@dataclass(frozen=True)
class FailedExpectation:
    table: str
    expectation: str
    column: str
    unexpected_count: int | None
    unexpected_percent: float | None
    observed: Any
    sample: list[Any]


@dataclass
class ValidationSummary:
    db: Path
    docs_index: Path | None
    id_regex: str
    rows: dict[str, int] = field(default_factory=dict)
    evaluated: int = 0
    failed: list[FailedExpectation] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return self.evaluated > 0 and not self.failed


def customer_id_regex(
    project_dir: Path = PROJECT_DIR, overrides: dict[str, Any] | None = None
) -> str:
    """The configured ID format, from ``C360_ID_REGEX`` or the dbt vars
    ``identity_id_format`` / ``identity_id_prefix`` / ``identity_id_digits`` (those of
    dbt_project.yml, under ``overrides``: the build's project config and --vars)."""
    if os.environ.get("C360_ID_REGEX"):
        return os.environ["C360_ID_REGEX"]
    import yaml

    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}
    dbt_vars = {**(project.get("vars", {}) or {}), **(overrides or {})}
    if str(dbt_vars.get("identity_id_format", "sequence")) == "uuid":
        return UUID_REGEX
    prefix = str(dbt_vars.get("identity_id_prefix", "CUST-"))
    digits = int(dbt_vars.get("identity_id_digits", 8))
    return f"^{re.escape(prefix)}[0-9]{{{digits}}}$"


def load_frames(db: Path) -> dict[str, pd.DataFrame]:
    """The two tables (plus gx_* helper columns), read through a read-only connection."""
    if not Path(db).is_file():
        raise ValidationSetupError(f"no warehouse at {db}: run `customer360 build` first")
    from customer360.keys import PrivacyError
    from customer360.restricted_db import connect_build

    try:
        con = connect_build(Path(db))  # the build DB is encrypted (docs/privacy.md)
    except PrivacyError as exc:
        raise ValidationSetupError(str(exc)) from exc
    try:
        frames = {}
        for name, sql in (("dim_customer", DIM_SQL), ("customer_source_map", MAP_SQL)):
            try:
                frames[name] = con.sql(sql).df()
            except duckdb.Error as exc:
                raise ValidationSetupError(
                    f"cannot read marts.{name} from {db}: {str(exc).splitlines()[0]}"
                ) from exc
        return frames
    finally:
        con.close()


EMAIL_REGEX = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE_REGEX = r"^\+[1-9][0-9]{6,14}$"  # E.164


def expectations(id_regex: str, columns: dict[str, set[str]] | None = None) -> dict[str, list[Any]]:
    """The suite per table, as GX expectation objects. Core rules always apply; value
    rules on descriptive columns only when ``columns`` (per table) holds the column."""
    import great_expectations.expectations as gxe

    columns = columns or {}

    def has(name: str, *cols: str) -> bool:
        return name not in columns or all(c in columns[name] for c in cols)

    first_plausible = datetime(1990, 1, 1)
    latest_plausible = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)
    dim: list[Any] = [
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        gxe.ExpectColumnValuesToNotBeNull(column="customer_id"),
        gxe.ExpectColumnValuesToBeUnique(column="customer_id"),
        gxe.ExpectColumnValuesToMatchRegex(column="customer_id", regex=id_regex),
        # every customer comes from at least one source record (no orphan IDs)
        gxe.ExpectColumnValuesToBeBetween(column="gx_source_records", min_value=1),
    ]
    if has("dim_customer", "n_records"):
        dim.append(
            gxe.ExpectColumnPairValuesToBeEqual(column_A="n_records", column_B="gx_source_records")
        )
    if has("dim_customer", "first_seen_at", "last_seen_at"):
        dim += [
            gxe.ExpectColumnValuesToNotBeNull(column="first_seen_at"),
            gxe.ExpectColumnValuesToBeBetween(
                column="first_seen_at", min_value=first_plausible, max_value=latest_plausible
            ),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="last_seen_at",
                column_B="first_seen_at",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
        ]
    value_rules = [
        ("email", gxe.ExpectColumnValuesToMatchRegex(column="email", regex=EMAIL_REGEX)),
        ("phone", gxe.ExpectColumnValuesToMatchRegex(column="phone", regex=PHONE_REGEX)),
        ("country_code", gxe.ExpectColumnValuesToMatchRegex(
            column="country_code", regex=r"^[A-Z]{2}$")),
        ("newsletter_status", gxe.ExpectColumnValuesToBeInSet(
            column="newsletter_status", value_set=["pending", "subscribed", "unsubscribed"])),
        ("split_from_customer_id", gxe.ExpectColumnValuesToMatchRegex(
            column="split_from_customer_id", regex=id_regex)),
    ]  # fmt: skip
    dim += [rule for col, rule in value_rules if has("dim_customer", col)]

    source_map: list[Any] = [
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        *[gxe.ExpectColumnValuesToNotBeNull(column=c) for c in [*MAP_KEY, "customer_id"]],
        # every source record belongs to exactly one customer
        gxe.ExpectCompoundColumnsToBeUnique(column_list=MAP_KEY),
        gxe.ExpectColumnValuesToMatchRegex(column="customer_id", regex=id_regex),
        gxe.ExpectColumnValuesToBeInSet(column="source_system", value_set=list(SYSTEMS)),
        gxe.ExpectColumnValuesToBeInSet(
            column="gx_source_table", value_set=[f"{t.system}.{t.name}" for t in RAW_TABLES]
        ),
        # no alias pointing to a missing ID
        gxe.ExpectColumnValuesToBeInSet(column="gx_customer_exists", value_set=[True]),
    ]
    if has("customer_source_map", "record_id"):
        source_map += [
            gxe.ExpectColumnValuesToNotBeNull(column="record_id"),
            gxe.ExpectColumnValuesToBeUnique(column="record_id"),
        ]
    return {"dim_customer": dim, "customer_source_map": source_map}


def _index_columns(name: str, frame: pd.DataFrame) -> list[str]:
    wanted = ["customer_id"] if name == "dim_customer" else [*MAP_KEY, "customer_id"]
    return [c for c in wanted if c in frame.columns]


def _failure(table: str, result: Any) -> FailedExpectation:
    cfg = result.expectation_config
    kwargs = cfg.kwargs
    pair = [kwargs[k] for k in ("column_A", "column_B") if kwargs.get(k)]
    column = kwargs.get("column") or ", ".join(kwargs.get("column_list") or pair) or "(table)"
    res = result.result or {}
    info = result.exception_info or {}
    if info.get("raised_exception"):
        message = str(info.get("exception_message") or "expectation raised an error")
        return FailedExpectation(table, cfg.type, column, None, None, message.splitlines()[0], [])
    sample = res.get("partial_unexpected_index_list") or res.get("partial_unexpected_list") or []
    return FailedExpectation(
        table=table,
        expectation=cfg.type,
        column=column,
        unexpected_count=res.get("unexpected_count"),
        unexpected_percent=res.get("unexpected_percent"),
        observed=res.get("observed_value"),
        sample=list(sample)[:5],
    )


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def format_sample(sample: list[Any]) -> str:
    """Bad rows as ``col=value`` lines (GX returns dicts with numpy scalars)."""
    out = []
    for item in sample:
        if isinstance(item, dict):
            out.append(", ".join(f"{k}={_plain(v)!r}" for k, v in item.items()))
        else:
            out.append(repr(_plain(item)))
    return "\n".join(out)


def run_validation(
    db: Path, docs_dir: Path | None = None, id_regex: str | None = None
) -> ValidationSummary:
    """Validate the built warehouse ``db``; write data docs under ``docs_dir``."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    id_regex = id_regex or customer_id_regex()
    frames = load_frames(Path(db))
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    actions = []
    if docs_dir is not None:
        docs_dir = Path(docs_dir).resolve()
        docs_dir.mkdir(parents=True, exist_ok=True)
        for site in list(context.get_site_names()):
            context.delete_data_docs_site(site)
        context.add_data_docs_site(
            "customer360",
            {
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
            },
        )
        actions.append(gx.checkpoint.UpdateDataDocsAction(name="data_docs"))

    summary = ValidationSummary(Path(db), docs_dir / "index.html" if docs_dir else None, id_regex)
    source = context.data_sources.add_pandas("customer360")
    columns = {name: set(frame.columns) for name, frame in frames.items()}
    for name, suite_expectations in expectations(id_regex, columns).items():
        frame = frames[name]
        summary.rows[name] = len(frame)
        batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("all")
        suite = context.suites.add(gx.ExpectationSuite(name=f"customer360.{name}"))
        for expectation in suite_expectations:
            suite.add_expectation(expectation)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch, suite=suite)
        )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=f"customer360.{name}",
                validation_definitions=[definition],
                actions=actions,
                result_format={
                    "result_format": "SUMMARY",
                    "unexpected_index_column_names": _index_columns(name, frame),
                    "partial_unexpected_count": 5,
                },
            )
        )
        outcome = checkpoint.run(batch_parameters={"dataframe": frame})
        for run in outcome.run_results.values():
            for result in run.results:
                summary.evaluated += 1
                if not result.success:
                    summary.failed.append(_failure(name, result))
    return summary


def print_validation(summary: ValidationSummary, console: Console) -> None:
    rows = ", ".join(f"{name} {n:,} rows" for name, n in summary.rows.items())
    if summary.success:
        console.print(
            f"[green]Great Expectations: all {summary.evaluated} expectations passed[/green] "
            f"({literal(rows)})"
        )
    else:
        grid = Table(title=f"Great Expectations: {len(summary.failed)} failed expectation(s)")
        grid.add_column("table")
        grid.add_column("expectation")
        grid.add_column("column")
        grid.add_column("bad rows", justify="right")
        grid.add_column("sample / observed", overflow="fold")
        for f in summary.failed:
            count = "" if f.unexpected_count is None else f"{f.unexpected_count:,}"
            if f.unexpected_percent is not None:
                count += f" ({f.unexpected_percent:.2f}%)"
            shown = format_sample(f.sample) if f.sample else f"observed: {_plain(f.observed)}"
            grid.add_row(cell(f.table), cell(f.expectation), cell(f.column), count, cell(shown))
        console.print(grid)
        console.print(
            f"[red]{len(summary.failed)} of {summary.evaluated} expectations failed[/red] "
            f"({literal(rows)})"
        )
    if summary.docs_index:
        console.print(f"data docs: {literal(summary.docs_index)}")
