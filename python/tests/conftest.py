"""Shared fixtures: real warehouses built by real dbt invocations in temp directories.

Building is the slow part, so one small demo warehouse is built once per test session
(`demo_warehouse`) and shared read-only; tests that change data build their own.

Tests that run dbt are marked ``warehouse``: automatically when they use a fixture in
``WAREHOUSE_FIXTURES`` (directly or through another fixture), explicitly
(``@pytest.mark.warehouse``) when the test body runs dbt. ``scripts/test.sh --fast`` runs
the others (``-m "not warehouse"``); there a test that runs dbt without the mark fails
with a message saying so, so the fast lane never builds a warehouse by accident.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from customer360.dbt import run_dbt
from customer360.generate import GenerationResult
from customer360.settings import Settings

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# the analyst layer pseudonymises with a keyed HMAC (docs/privacy.md); tests use a fixed,
# non-secret key so that a build without one is a deliberate test, not an accident
os.environ.setdefault("C360_HMAC_KEY", "customer360-test-key-not-a-secret")
# the suite's many throwaway builds are plaintext so that tests can open them directly;
# test_privacy_restricted.py builds with encryption on (the default) and proves it
os.environ.setdefault("C360_DB_ENCRYPTION", "off")
# pytest-xdist's workers start with COLUMNS=80, which rich would pin as the width of the
# CLI's console when customer360.cli is first imported; the tests that read CLI tables
# pass COLUMNS per invocation, which rich reads at print time only while none is pinned
os.environ.pop("COLUMNS", None)

DEMO_PEOPLE = int(os.environ.get("C360_TEST_PEOPLE", "2000"))
DEMO_SEED = 7

#: fixtures that build a warehouse with dbt (in this file and in the test modules)
WAREHOUSE_FIXTURES = frozenset(
    {
        "demo_warehouse",
        "scenario_days",  # test_identity
        "erased_build",  # test_privacy
        "row_cases_warehouse",  # test_quality_build
        "bad_csv_warehouse",  # test_staging
        "built",  # test_probabilistic
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if WAREHOUSE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.warehouse)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    """A test not marked ``warehouse`` (with its fixtures) cannot start dbt."""
    if item.get_closest_marker("warehouse"):
        return (yield)
    import customer360.dbt as dbt_module

    def refuse() -> str:
        raise RuntimeError(
            f"{item.nodeid} runs dbt but is not marked warehouse: add "
            "@pytest.mark.warehouse (or its building fixture to WAREHOUSE_FIXTURES in "
            "conftest.py) so that scripts/test.sh --fast leaves it out"
        )

    original = dbt_module.dbt_executable
    dbt_module.dbt_executable = refuse
    try:
        return (yield)
    finally:
        dbt_module.dbt_executable = original


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


@dataclass(frozen=True)
class DemoExports:
    settings: Settings
    generation: GenerationResult


@pytest.fixture(scope="session")
def demo_exports(tmp_path_factory: pytest.TempPathFactory) -> DemoExports:
    """The demo's raw exports and ground truth, generated once (no dbt): `demo_warehouse`
    builds on them, and tests that only read the generated data (test_churn) or copy it
    (test_quality_build) share them instead of generating the same files again. Read-only."""
    from customer360.generate import generate

    settings = Settings.for_directory(tmp_path_factory.mktemp("demo"))
    generation = generate(settings.data_dir, people=DEMO_PEOPLE, seed=DEMO_SEED)
    return DemoExports(settings, generation)


@pytest.fixture(scope="session")
def demo_warehouse(demo_exports: DemoExports) -> BuiltWarehouse:
    """`dbt build` of the demo exports (as build_warehouse does), shared read-only."""
    run_dbt(["build"], demo_exports.settings)
    return BuiltWarehouse(demo_exports.settings, DEMO_PEOPLE, DEMO_SEED)


@pytest.fixture(scope="session")
def published_demo(
    demo_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """The demo build published once to a private path (reports to a private folder too),
    shared read-only by the tests that read the published file (test_privacy, test_report)."""
    from customer360.publish import publish

    root = tmp_path_factory.mktemp("published-demo")
    settings = dataclasses.replace(
        demo_warehouse.settings,
        published_db=root / "warehouse" / "customer360.duckdb",
        reports_dir=root / "reports",
    )
    publish(settings)
    return settings
