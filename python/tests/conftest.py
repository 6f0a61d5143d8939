"""Shared fixtures: real warehouses built by real dbt invocations in temp directories.

Building is the slow part, so one small demo warehouse is built once per test session
(`demo_warehouse`) and shared read-only; tests that change data build their own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from customer360.dbt import run_dbt
from customer360.settings import Settings

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# the analyst layer pseudonymises with a keyed HMAC (docs/privacy.md); tests use a fixed,
# non-secret key so that a build without one is a deliberate test, not an accident
os.environ.setdefault("C360_HMAC_KEY", "customer360-test-key-not-a-secret")
# the suite's many throwaway builds are plaintext so that tests can open them directly;
# test_privacy_restricted.py builds with encryption on (the default) and proves it
os.environ.setdefault("C360_DB_ENCRYPTION", "off")

DEMO_PEOPLE = int(os.environ.get("C360_TEST_PEOPLE", "2000"))
DEMO_SEED = 7


@dataclass(frozen=True)
class BuiltWarehouse:
    settings: Settings
    people: int
    seed: int

    @property
    def db(self) -> Path:
        return self.settings.build_db


def build_warehouse(
    root: Path, people: int, seed: int, **generate_kwargs: object
) -> BuiltWarehouse:
    """Generate sources under ``root`` and run a real `dbt build` on them."""
    from customer360.generate import generate

    settings = Settings.for_directory(root)
    generate(settings.data_dir, people=people, seed=seed, **generate_kwargs)
    run_dbt(["build"], settings)
    return BuiltWarehouse(settings, people, seed)


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    return build_warehouse(tmp_path_factory.mktemp("demo"), DEMO_PEOPLE, DEMO_SEED)
