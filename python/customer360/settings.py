"""Paths and environment shared by the CLI, the pipeline and the tests.

Every location can be moved with an environment variable so that tests and benchmarks
build into temporary directories without touching the developer's warehouse.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from customer360.config import ProjectConfig, config_path_from_env, default_config, load_config

PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    project_dir: Path
    data_dir: Path  # holds raw/ (the exports) and truth/ (generator ground truth)
    raw_path: Path
    raw_format: str
    build_db: Path  # the working database dbt writes (keeps the ID registry)
    published_db: Path  # the analyst-facing file, replaced atomically on publish
    reports_dir: Path
    dbt_target_path: Path  # dbt's target/ (manifest, compiled SQL); per build in tests
    dbt_log_path: Path
    # the project config (customer360.config): systems present, vars, freshness
    config: ProjectConfig = field(default_factory=default_config)
    # `--vars` of the command line: passed to every dbt call, over the config's vars
    cli_vars: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, config_path: Path | None = None) -> Settings:
        """Paths from the environment; the project config from ``config_path``, else
        ``C360_CONFIG``, else ``<project>/customer360.yml``. The config's raw_path and
        raw_format apply unless C360_RAW_PATH / C360_RAW_FORMAT are set."""
        project = Path(os.environ.get("C360_PROJECT_DIR", PROJECT_DIR)).resolve()
        config = load_config(config_path or config_path_from_env(project))
        data_dir = Path(os.environ.get("C360_DATA_DIR", project / "data")).resolve()
        raw_default = config.raw_path or data_dir / "raw"
        raw_path = Path(os.environ.get("C360_RAW_PATH", raw_default)).resolve()
        warehouse = project / "warehouse"
        return cls(
            project_dir=project,
            config=config,
            data_dir=data_dir,
            raw_path=raw_path,
            raw_format=os.environ.get("C360_RAW_FORMAT", config.raw_format or "parquet"),
            build_db=Path(os.environ.get("C360_BUILD_DB", warehouse / "build.duckdb")).resolve(),
            published_db=Path(
                os.environ.get("C360_PUBLISHED_DB", warehouse / "customer360.duckdb")
            ).resolve(),
            reports_dir=Path(os.environ.get("C360_REPORTS_DIR", project / "reports")).resolve(),
            dbt_target_path=Path(os.environ.get("DBT_TARGET_PATH", project / "target")).resolve(),
            dbt_log_path=Path(os.environ.get("DBT_LOG_PATH", project / "logs")).resolve(),
        )

    @property
    def truth_path(self) -> Path:
        return self.data_dir / "truth"

    @classmethod
    def for_directory(cls, root: Path, project_dir: Path | None = None) -> Settings:
        """Everything (data, build DB, published DB, dbt target, reports) under ``root``:
        what tests and benchmarks use to stay out of each other's way."""
        root = root.resolve()
        data_dir = root / "data"
        return cls(
            project_dir=(project_dir or PROJECT_DIR).resolve(),
            data_dir=data_dir,
            raw_path=data_dir / "raw",
            raw_format="parquet",
            build_db=root / "warehouse" / "build.duckdb",
            published_db=root / "warehouse" / "customer360.duckdb",
            reports_dir=root / "reports",
            dbt_target_path=root / "target",
            dbt_log_path=root / "logs",
        )

    def dbt_vars(self) -> dict[str, Any]:
        """The vars of every dbt call: the config's, then the command line's."""
        return {**self.config.dbt_vars(self.project_dir), **self.cli_vars}

    def dbt_env(self) -> dict[str, str]:
        """Environment for a dbt subprocess: absolute paths so any cwd works."""
        env = dict(os.environ)
        env.update(
            {
                "C360_RAW_PATH": str(self.raw_path),
                "C360_RAW_FORMAT": self.raw_format,
                "C360_BUILD_DB": str(self.build_db),
                "DBT_PROFILES_DIR": str(self.project_dir),
                "DBT_PROJECT_DIR": str(self.project_dir),
                "DBT_TARGET_PATH": str(self.dbt_target_path),
                "DBT_LOG_PATH": str(self.dbt_log_path),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            }
        )
        return env
