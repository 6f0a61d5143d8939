"""The identity declaration beside each staging model (config.meta.identity), as Python
reads it (customer360.identity.identity_sources): no dbt build needed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from customer360.identity import IdentityError, identity_sources
from customer360.settings import PROJECT_DIR


def test_every_listed_staging_model_declares_its_identity() -> None:
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    listed = project["vars"]["identity_source_models"]
    types = set(project["vars"]["identity_identifier_types"])
    kinds = set(project["vars"]["identity_people_key_kinds"])
    sources = identity_sources(PROJECT_DIR)
    assert [s["model"] for s in sources] == listed
    for s in sources:
        assert s["model"] == f"stg_{s['source_system']}__{s['source_table']}"
        assert s["key"] and s["observed_at"] and s["identifiers"]
        assert set(s["identifiers"]) <= types, s["model"]
        assert set(s["people_keys"]) <= kinds, s["model"]
    by_model = {s["model"]: s for s in sources}
    assert by_model["stg_web__events"]["identifiers"] == {
        "web_cookie_id": "cookie_id",
        "shop_customer_id": "shop_customer_id",
    }
    assert by_model["stg_crm__contacts"]["person_record"] is True
    assert by_model["stg_shop__orders"]["person_record"] is False


def _project(tmp_path: Path, listed: list[str], declared: dict[str, dict]) -> Path:
    tmp_path.mkdir(parents=True)
    (tmp_path / "dbt_project.yml").write_text(
        yaml.safe_dump({"name": "p", "vars": {"identity_source_models": listed}})
    )
    folder = tmp_path / "models" / "staging" / "x"
    folder.mkdir(parents=True)
    models = [
        {"name": name, "config": {"meta": {"identity": identity}}}
        for name, identity in declared.items()
    ]
    (folder / "_x__models.yml").write_text(yaml.safe_dump({"version": 2, "models": models}))
    return tmp_path


IDENTITY = {"key": "k", "observed_at": "t", "identifiers": {"email": "email"}}


def test_declared_but_unlisted_or_listed_but_undeclared_is_a_clear_error(tmp_path: Path) -> None:
    unlisted = _project(tmp_path / "a", [], {"stg_x__rows": IDENTITY})
    with pytest.raises(IdentityError, match="stg_x__rows declare config.meta.identity"):
        identity_sources(unlisted)
    undeclared = _project(tmp_path / "b", ["stg_x__rows"], {})
    with pytest.raises(IdentityError, match="lists stg_x__rows, but its YAML has no"):
        identity_sources(undeclared)
    ok = _project(tmp_path / "c", ["stg_x__rows"], {"stg_x__rows": IDENTITY})
    (source,) = identity_sources(ok)
    assert (source["source_system"], source["source_table"]) == ("x", "rows")
    assert source["person_record"] is False and source["people_keys"] == {}
