"""The project config: which source systems and tables a user has, and the build's settings.

One YAML file (``customer360.yml`` at the project root is the default: the seven demo
systems with all 13 tables; ``--config FILE`` or ``C360_CONFIG`` points at your own)::

    systems:                       # the systems you export, and their tables
      shop: [customers, orders]    # a list of tables, or `all`
      crm: all
    raw_path: exports              # optional, relative to this file (C360_RAW_PATH wins)
    raw_format: csv                # optional: parquet | csv (C360_RAW_FORMAT wins)
    exchange_rates: rates.csv      # optional: your own rates table (docs/bring-your-own-data.md)
    freshness:
      reference: export            # export (default) | now | YYYY-MM-DD
      tables:                      # optional per-table limits in hours
        shop.orders: {warn_after_hours: 72, error_after_hours: 168}
    vars:                          # any var of dbt_project.yml
      base_currency: USD
      default_country: US

A system or table that is not listed is *absent*: nothing reads its file, its source
reads as an empty relation of the contract's columns (so every model downstream builds,
empty where it needs that system), and the build summary and report list it as not
used. A system that is not one of the seven (an eighth system) is declared here too; its
contract is the dbt sources YAML of its staging folder
(``models/staging/<system>/_<system>__sources.yml``, docs/bring-your-own-data.md).

Precedence of settings: command-line ``--vars`` > this file's ``vars`` > the defaults
in ``dbt_project.yml``. Every error names the file and the key.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from customer360.contracts import RAW_TABLES, SYSTEMS, RawTable

CONFIG_FILE = "customer360.yml"
FRESHNESS_REFERENCES = ("export", "now")
_KNOWN_KEYS = {"systems", "raw_path", "raw_format", "exchange_rates", "freshness", "vars"}


class ConfigError(ValueError):
    """The project config is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class FreshnessLimit:
    warn_after_hours: float | None
    error_after_hours: float | None


@dataclass(frozen=True)
class ProjectConfig:
    """A parsed project config (see the module docstring for the format)."""

    path: Path | None  # None: the built-in default (every demo system)
    systems: dict[str, tuple[str, ...]]  # system -> tables present, in declaration order
    vars: dict[str, Any] = field(default_factory=dict)
    raw_path: Path | None = None
    raw_format: str | None = None
    exchange_rates: Path | None = None
    freshness_reference: str = "export"  # export | now | an ISO date
    freshness_tables: dict[str, FreshnessLimit] = field(default_factory=dict)

    # ---------------------------------------------------------------- questions

    def has(self, system: str, table: str) -> bool:
        return table in self.systems.get(system, ())

    @property
    def extra_systems(self) -> tuple[str, ...]:
        """Declared systems that are not among the seven of the contract."""
        return tuple(s for s in self.systems if s not in SYSTEMS)

    def present_tables(self, project_dir: Path) -> list[RawTable]:
        """The contract of every declared table (demo contract + eighth systems)."""
        out = [t for t in RAW_TABLES if self.has(t.system, t.name)]
        for system in self.extra_systems:
            contract = extra_system_contract(project_dir, system)
            for name in self.systems[system]:
                if name not in contract:
                    raise ConfigError(
                        f"{self.where('systems.' + system)}: table {name!r} is not a source "
                        f"table in {sources_yaml(project_dir, system)} "
                        f"(it declares: {', '.join(contract) or 'none'})"
                    )
                out.append(contract[name])
        return out

    def absent_tables(self) -> list[RawTable]:
        """Contract tables of the seven demo systems that this config does not declare."""
        return [t for t in RAW_TABLES if not self.has(t.system, t.name)]

    def where(self, key: str) -> str:
        return f"{self.path or 'default config'}: {key}"

    def dbt_vars(self, project_dir: Path | None = None) -> dict[str, Any]:
        """The vars this config passes to every dbt invocation. With ``project_dir``, an
        eighth system's staging models that declare ``config.meta.identity`` or
        ``config.meta.orders`` are appended to vars ``identity_source_models`` /
        ``order_source_models`` (unless the config sets those itself), so that adding a
        system needs no edit of the project's files."""
        out: dict[str, Any] = dict(self.vars)
        out["systems"] = {s: list(tables) for s, tables in self.systems.items()}
        if self.exchange_rates is not None:
            out["exchange_rates_path"] = str(self.exchange_rates)
        if project_dir is not None and self.extra_systems:
            declared = extra_system_declarations(project_dir, self.extra_systems)
            defaults = project_var_defaults(project_dir)
            for var, kind in (
                ("identity_source_models", "identity"),
                ("order_source_models", "orders"),
            ):
                if var in self.vars:
                    continue
                names = list(defaults.get(var) or [])
                names += [m for m, kinds in declared.items() if kind in kinds and m not in names]
                out[var] = names
        return out


def default_config() -> ProjectConfig:
    """Every table of the seven demo systems, no overrides."""
    systems: dict[str, tuple[str, ...]] = {}
    for t in RAW_TABLES:
        systems[t.system] = (*systems.get(t.system, ()), t.name)
    return ProjectConfig(path=None, systems=systems)


def config_path_from_env(project_dir: Path) -> Path | None:
    """``C360_CONFIG`` if set, else ``<project>/customer360.yml`` if it exists."""
    env = os.environ.get("C360_CONFIG")
    if env:
        return Path(env).expanduser().resolve()
    candidate = project_dir / CONFIG_FILE
    return candidate if candidate.is_file() else None


def load_config(path: Path | None) -> ProjectConfig:
    """Parse a config file (None: the default). Raises ConfigError naming file and key."""
    if path is None:
        return default_config()
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist (--config / C360_CONFIG)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys (systems, vars, ...)")
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_KNOWN_KEYS))}"
        )
    base = path.parent

    def rel(key: str) -> Path | None:
        value = data.get(key)
        if value in (None, ""):
            return None
        if not isinstance(value, str):
            raise ConfigError(f"{path}: {key} must be a path (text), not {value!r}")
        p = Path(value).expanduser()
        return (p if p.is_absolute() else base / p).resolve()

    raw_format = data.get("raw_format")
    if raw_format is not None and raw_format not in ("parquet", "csv"):
        raise ConfigError(f"{path}: raw_format must be parquet or csv, not {raw_format!r}")
    variables = data.get("vars") or {}
    if not isinstance(variables, dict):
        raise ConfigError(f"{path}: vars must be a mapping of dbt var names to values")
    for reserved in ("systems", "exchange_rates_path"):
        if reserved in variables:
            raise ConfigError(
                f"{path}: vars.{reserved}: set it with the top-level key "
                f"{'systems' if reserved == 'systems' else 'exchange_rates'} instead"
            )
    reference, tables = _parse_freshness(path, data.get("freshness"))
    exchange_rates = rel("exchange_rates")
    if exchange_rates is not None and not exchange_rates.is_file():
        raise ConfigError(f"{path}: exchange_rates: file {exchange_rates} does not exist")
    return ProjectConfig(
        path=path,
        systems=_parse_systems(path, data.get("systems")),
        vars=dict(variables),
        raw_path=rel("raw_path"),
        raw_format=raw_format,
        exchange_rates=exchange_rates,
        freshness_reference=reference,
        freshness_tables=tables,
    )


def _parse_systems(path: Path, value: Any) -> dict[str, tuple[str, ...]]:
    if value is None:
        return default_config().systems
    if not isinstance(value, dict) or not value:
        raise ConfigError(
            f"{path}: systems must map each system you have to `all` or a list of its "
            f"tables, e.g. `systems: {{shop: [customers, orders], crm: all}}`"
        )
    demo = default_config().systems
    out: dict[str, tuple[str, ...]] = {}
    for system, tables in value.items():
        system = str(system)
        if not system.isidentifier() or system != system.lower():
            raise ConfigError(
                f"{path}: systems.{system}: a system name is lowercase letters, digits and _"
            )
        if system in demo:
            if tables in ("all", None, True):
                out[system] = demo[system]
                continue
            if not isinstance(tables, list) or not all(isinstance(t, str) for t in tables):
                raise ConfigError(
                    f"{path}: systems.{system} must be `all` or a list of table names "
                    f"({', '.join(demo[system])})"
                )
            unknown = [t for t in tables if t not in demo[system]]
            if unknown:
                raise ConfigError(
                    f"{path}: systems.{system}: unknown table(s) {', '.join(unknown)}; "
                    f"{system} has {', '.join(demo[system])}"
                )
            out[system] = tuple(t for t in demo[system] if t in tables)
        else:  # an eighth system: its tables are its sources YAML's
            if not isinstance(tables, list) or not tables:
                raise ConfigError(
                    f"{path}: systems.{system} is not one of the seven demo systems "
                    f"({', '.join(SYSTEMS)}); list its tables explicitly, e.g. "
                    f"`{system}: [transactions]`, and declare them in "
                    f"models/staging/{system}/_{system}__sources.yml "
                    "(docs/bring-your-own-data.md, 'An eighth system')"
                )
            out[system] = tuple(str(t) for t in tables)
    return out


def _hours(path: Path, key: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{path}: {key} must be a positive number of hours or null")
    return float(value)


def _parse_freshness(path: Path, value: Any) -> tuple[str, dict[str, FreshnessLimit]]:
    if value is None:
        return "export", {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: freshness must be a mapping (reference, tables)")
    reference = str(value.get("reference", "export"))
    if reference not in FRESHNESS_REFERENCES:
        try:
            date.fromisoformat(reference)
        except ValueError as exc:
            raise ConfigError(
                f"{path}: freshness.reference must be export, now or a date YYYY-MM-DD, "
                f"not {reference!r}"
            ) from exc
    tables: dict[str, FreshnessLimit] = {}
    for key, limits in (value.get("tables") or {}).items():
        if "." not in str(key) or not isinstance(limits, dict):
            raise ConfigError(
                f"{path}: freshness.tables.{key}: use `system.table: "
                "{warn_after_hours: N, error_after_hours: M}` (null switches a limit off)"
            )
        tables[str(key)] = FreshnessLimit(
            _hours(
                path, f"freshness.tables.{key}.warn_after_hours", limits.get("warn_after_hours")
            ),
            _hours(
                path, f"freshness.tables.{key}.error_after_hours", limits.get("error_after_hours")
            ),
        )
    return reference, tables


# ------------------------------------------------------------------ eighth systems


def sources_yaml(project_dir: Path, system: str) -> Path:
    return project_dir / "models" / "staging" / system / f"_{system}__sources.yml"


def extra_system_contract(project_dir: Path, system: str) -> dict[str, RawTable]:
    """The raw contract of an eighth system, read from its dbt sources YAML (columns with
    ``data_type`` and ``config.meta.required``, like the generated ones)."""
    from customer360.contracts import Column

    path = sources_yaml(project_dir, system)
    if not path.is_file():
        raise ConfigError(
            f"system {system!r} is declared in the config but {path} does not exist: an "
            "eighth system needs a sources YAML and a staging model "
            "(docs/bring-your-own-data.md, 'An eighth system')"
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[str, RawTable] = {}
    for source in data.get("sources") or []:
        if source.get("name") != system:
            continue
        for t in source.get("tables") or []:
            columns = []
            for c in t.get("columns") or []:
                meta = (c.get("config") or {}).get("meta") or c.get("meta") or {}
                columns.append(
                    Column(
                        str(c["name"]),
                        str(c.get("data_type") or "VARCHAR").upper(),
                        str(c.get("description") or ""),
                        bool(meta.get("required", True)),
                    )
                )
            meta = (t.get("config") or {}).get("meta") or t.get("meta") or {}
            out[str(t["name"])] = RawTable(
                system,
                str(t["name"]),
                str(meta.get("primary_key") or (columns[0].name if columns else "")),
                str(t.get("description") or ""),
                tuple(columns),
            )
    return out


def project_var_defaults(project_dir: Path) -> dict[str, Any]:
    """The vars of dbt_project.yml as written."""
    data = yaml.safe_load((project_dir / "dbt_project.yml").read_text(encoding="utf-8")) or {}
    return dict(data.get("vars") or {})


def extra_system_declarations(project_dir: Path, systems: tuple[str, ...]) -> dict[str, set[str]]:
    """model -> the kinds (identity, orders) its YAML declares in ``config.meta``, for the
    staging models of the given systems (``models/staging/<system>/_*__models.yml``)."""
    out: dict[str, set[str]] = {}
    for system in systems:
        for path in sorted((project_dir / "models" / "staging" / system).glob("_*__models.yml")):
            for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get(
                "models"
            ) or []:
                meta = {
                    **(model.get("meta") or {}),
                    **((model.get("config") or {}).get("meta") or {}),
                }
                kinds = {k for k in ("identity", "orders") if meta.get(k) is not None}
                if kinds:
                    out[str(model["name"])] = kinds
    return out


# ------------------------------------------------------------------ --vars


def parse_vars(text: str | None) -> dict[str, Any]:
    """``--vars`` as dbt takes it: a YAML/JSON mapping (``'{base_currency: USD}'``)."""
    if not text:
        return {}
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"--vars is not a YAML/JSON mapping: {exc}") from exc
    if not isinstance(value, dict):
        raise ConfigError(f"--vars must be a mapping like '{{base_currency: USD}}', not {text!r}")
    return value


def vars_json(variables: dict[str, Any]) -> str:
    return json.dumps(variables, sort_keys=True, default=str)
