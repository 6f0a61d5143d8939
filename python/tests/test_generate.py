"""The synthetic source generator: contract, determinism, ground truth, noise, behaviour and
the evolving scenario. Small sizes; no dbt needed."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from customer360.contracts import RAW_TABLES
from customer360.generate import (
    BRIDGE_DAY,
    CHILD_TABLES,
    ERASURE_DAY,
    SPLIT_DAY,
    arrow_schema,
    generate,
)
from customer360.generate.selfcheck import resolve_and_score

END = date(2026, 11, 23)
PEOPLE = 1_500
SEED = 11


def _files(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gen-base")
    generate(root, people=PEOPLE, seed=SEED, end_date=END)
    return root


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    out = {}
    for k in range(0, ERASURE_DAY + 1):
        root = tmp_path_factory.mktemp(f"gen-day{k}")
        generate(root, people=1_000, seed=SEED, end_date=END, day=k)
        out[k] = root
    return out


def _con(root: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for t in RAW_TABLES:
        con.execute(
            f"create view {t.system}__{t.name} as "
            f"select * from read_parquet('{root}/raw/{t.system}/{t.name}.parquet')"
        )
    con.execute(f"create view truth as select * from read_parquet('{root}/truth/records.parquet')")
    con.execute(f"create view people as select * from read_parquet('{root}/truth/people.parquet')")
    return con


# ------------------------------------------------------------------ contract and determinism


def test_every_contract_table_and_column_with_its_type(base: Path) -> None:
    for t in RAW_TABLES:
        path = base / "raw" / t.system / f"{t.name}.parquet"
        schema = pq.read_schema(path)
        assert schema.names == [c.name for c in t.columns], path
        assert schema.equals(arrow_schema(t)), (path, schema)
        assert pq.read_metadata(path).num_rows > 0, path
    con = _con(base)
    # DuckDB reads the declared logical types
    for t in RAW_TABLES:
        types = {r[0]: r[1] for r in con.execute(f"describe {t.system}__{t.name}").fetchall()}
        assert types == {c.name: c.type for c in t.columns}, t.name


def test_same_seed_gives_identical_files_and_another_seed_does_not(
    base: Path, tmp_path: Path
) -> None:
    generate(tmp_path / "again", people=PEOPLE, seed=SEED, end_date=END)
    generate(tmp_path / "other", people=PEOPLE, seed=SEED + 1, end_date=END)
    assert _files(base) == _files(tmp_path / "again")
    other = _files(tmp_path / "other")
    assert set(other) == set(_files(base))
    assert all(other[f] != h for f, h in _files(base).items() if f.startswith("raw/"))


def test_keys_are_unique_in_every_table(base: Path) -> None:
    con = _con(base)
    for t in RAW_TABLES:
        n, distinct, nulls = con.execute(
            f"select count(*), count(distinct {t.primary_key}), count(*) - count({t.primary_key}) "
            f"from {t.system}__{t.name}"
        ).fetchone()
        assert n == distinct and nulls == 0, t.name


# ------------------------------------------------------------------ ground truth


def test_truth_covers_every_identity_row_exactly_once(base: Path) -> None:
    con = _con(base)
    for t in RAW_TABLES:
        if (t.system, t.name) in CHILD_TABLES:
            continue
        raw_only, truth_only, dup = con.execute(f"""
            with r as (select {t.primary_key} as k from {t.system}__{t.name}),
                 tr as (select record_key as k from truth
                        where source_system = '{t.system}' and source_table = '{t.name}')
            select (select count(*) from r anti join tr using (k)),
                   (select count(*) from tr anti join r using (k)),
                   (select count(*) - count(distinct k) from tr)
        """).fetchone()
        assert (raw_only, truth_only, dup) == (0, 0, 0), t.name
    # child rows map to a person through their parent (device ids compare case-insensitively)
    for (system, name), (fk, psys, ptab) in CHILD_TABLES.items():
        orphans = con.execute(f"""
            select count(*) from {system}__{name} c anti join truth p
            on p.source_system = '{psys}' and p.source_table = '{ptab}'
               and lower(p.record_key) = lower(c.{fk})
        """).fetchone()[0]
        assert orphans == 0, name
    # every person of the truth exists in people.parquet, unknown one-off people are negative
    missing = con.execute(
        "select count(*) from (select distinct person_id from truth where person_id >= 0) "
        "anti join people using (person_id)"
    ).fetchone()[0]
    assert missing == 0


def test_people_carry_behaviour_for_later_stages(base: Path) -> None:
    con = _con(base)
    cols = {r[0] for r in con.execute("describe people").fetchall()}
    for needed in ("household_id", "country", "acquisition_channel", "signup_at",
                   "purchase_rate_per_day", "dropout_probability", "dropout_at", "is_alive",
                   "spend_mean_eur", "n_purchases", "revenue_eur"):  # fmt: skip
        assert needed in cols
    channels = con.execute("select count(distinct acquisition_channel) from people").fetchone()
    assert channels[0] == 7


# ------------------------------------------------------------------ noise


def test_identifier_noise_is_present(base: Path) -> None:
    con = _con(base)
    emails = con.execute("""
        select email from shop__orders union all select email from newsletter__subscribers
        union all select requester_email from support__tickets
        union all select email from loyalty__members union all select email from crm__contacts
    """).fetchnumpy()["email"]
    emails = [e for e in emails if isinstance(e, str)]
    assert any(e != e.strip() for e in emails), "whitespace"
    assert any(e.strip() != e.strip().lower() for e in emails), "upper case"
    assert any("+" in e.split("@")[0] for e in emails), "plus tags"
    assert any(e.strip().lower().endswith("@googlemail.com") for e in emails), "googlemail"
    assert {"test@test.com", "n/a"} & {e.strip().lower() for e in emails}, "junk e-mails"
    phones = [p for (p,) in con.execute("""
        select phone from shop__customers union all select phone from crm__contacts
        union all select requester_phone from support__tickets
        union all select phone from loyalty__members""").fetchall() if p]  # fmt: skip
    assert any(p.startswith("+") and " " not in p for p in phones), "E.164"
    assert any(p.startswith("00") for p in phones), "00 prefix"
    assert any(p.startswith("0") and not p.startswith("00") for p in phones), "national"
    assert any("(" in p for p in phones), "brackets"
    assert {p[:3] for p in phones if p.startswith("+")} >= {"+49", "+43", "+41", "+44", "+1 "}
    assert any(p in ("0000000000", "n/a", "-") for p in phones), "junk phones"
    cards = [c for (c,) in con.execute("select loyalty_number from loyalty__members").fetchall()]
    assert any(" " in c.strip() for c in cards) and any("-" in c for c in cards)
    devices = [d for (d,) in con.execute("select device_id from app__events").fetchall()]
    assert any(d != d.lower() for d in devices) and any(d == d.lower() for d in devices)
    names = {n for (n,) in con.execute(
        "select last_name from crm__contacts union select last_name from loyalty__members"
    ).fetchall()}  # fmt: skip
    assert any(ch in "".join(names) for ch in "äöüß"), "umlauts"
    assert any("ue" in n or "oe" in n for n in names), "transliterations"


def test_junk_store_cards_anonymous_visitors_and_duplicates(base: Path) -> None:
    con = _con(base)
    scenario = json.loads((base / "truth" / "scenario.json").read_text())
    store_cards = scenario["junk_identifiers"]["store_loyalty_numbers"]
    on_store_card = con.execute(
        "select count(*) from loyalty__pos_transactions "
        "where regexp_replace(loyalty_number, '[^0-9]', '', 'g') in (select unnest(?))",
        [store_cards],
    ).fetchone()[0]
    assert on_store_card > 20
    store_members = con.execute(
        f"select count(*) from loyalty__members where email like "
        f"'%@{scenario['junk_identifiers']['store_email_domain']}'"
    ).fetchone()[0]
    assert store_members == len(store_cards)
    never_logged_in = con.execute("""
        select count(*) from (select cookie_id from web__events group by 1
                              having count(user_id) = 0)""").fetchone()[0]
    assert never_logged_in > 10
    guest_orders = con.execute("select count(*) from shop__orders where customer_id is null")
    assert guest_orders.fetchone()[0] > 10
    crm_dups = con.execute("""
        select count(*) from (select person_id from truth where source_table = 'contacts'
                              group by 1 having count(*) > 1)""").fetchone()[0]
    assert crm_dups > 0


def test_noise_defeats_naive_matching_but_a_careful_resolver_reaches_the_targets(
    tmp_path: Path,
) -> None:
    generate(tmp_path, people=3_000, seed=SEED, end_date=END)
    naive = resolve_and_score(tmp_path, clean=False)
    careful = resolve_and_score(tmp_path, clean=True)
    assert naive.precision < 0.99 and naive.recall < 0.97, naive
    assert careful.precision >= 0.999 and careful.recall >= 0.99, careful


# ------------------------------------------------------------------ behaviour


def test_behaviour_currencies_statuses_seasonality(base: Path) -> None:
    con = _con(base)
    currencies = {
        c for (c,) in con.execute("select distinct currency from shop__orders").fetchall()
    }
    assert currencies == {"EUR", "USD", "GBP", "CHF"}
    shares = dict(con.execute(
        "select status, count(*) / sum(count(*)) over () from shop__orders group by 1"
    ).fetchall())  # fmt: skip
    assert 0.005 < shares["refunded"] < 0.08 and 0.005 < shares["cancelled"] < 0.06
    assert (
        con.execute("select count(*) from loyalty__pos_transactions where amount < 0").fetchone()[0]
        > 0
    )
    # Christmas peak: December against September/October of the same year
    ratios = con.execute("""
        select y, count(*) filter (where m = 12) / (count(*) filter (where m in (9, 10)) / 2)
        from (select month(ordered_at) m, year(ordered_at) y from shop__orders)
        group by y having count(*) filter (where m = 12) > 0
                       and count(*) filter (where m = 9) > 0""").fetchall()
    assert ratios and all(r > 1.25 for _, r in ratios), ratios
    # order totals are the sum of their lines
    bad = con.execute("""
        select count(*) from shop__orders o join (
          select order_id, sum(quantity * unit_price) s from shop__order_lines group by 1) l
        using (order_id) where o.order_total <> l.s""").fetchone()[0]
    assert bad == 0


def test_churn_is_predictable_from_recency_frequency_and_engagement(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    generate(tmp_path, people=4_000, seed=SEED, end_date=END)
    con = _con(tmp_path)
    df = con.execute("""
        with tx as (
          select t.person_id, o.ordered_at as ts from shop__orders o
          join truth t on t.source_table = 'orders' and t.record_key = o.order_id
          union all
          select t.person_id, p.transacted_at from loyalty__pos_transactions p
          join truth t on t.source_table = 'pos_transactions' and t.record_key = p.transaction_id
          where t.person_id >= 0 and p.amount > 0),
        cut as (select max(ts) - interval 90 day as c from tx),
        web as (select t.person_id, max(w.occurred_at) as last_web from web__events w
                join truth t on t.source_system = 'web' and t.record_key = w.event_id, cut
                where w.occurred_at < cut.c group by 1),
        f as (select person_id, count(*) as n, date_diff('day', max(ts), any_value(c)) as rec,
                     date_diff('day', min(ts), any_value(c)) as ten
              from tx, cut where ts < c group by 1),
        after as (select distinct person_id from tx, cut where ts >= c)
        select f.n, f.rec, f.ten,
               coalesce(date_diff('day', web.last_web, (select c from cut)), 9999) as web_rec,
               (after.person_id is null)::int as churned
        from f left join web using (person_id) left join after using (person_id)
    """).df()
    x, y = df[["n", "rec", "ten", "web_rec"]], df["churned"]
    assert 0.2 < y.mean() < 0.95
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    model = LogisticRegression(max_iter=2_000).fit(xtr, ytr)
    assert roc_auc_score(yte, model.predict_proba(xte)[:, 1]) >= 0.75


def test_acquisition_channels_differ_in_quality(tmp_path: Path) -> None:
    generate(tmp_path, people=6_000, seed=SEED, end_date=END)
    con = _con(tmp_path)
    by_channel = dict(con.execute("""
        select acquisition_channel, avg(revenue_eur) from people where kind = 'customer'
        group by 1""").fetchall())  # fmt: skip
    assert by_channel["referral"] > by_channel["affiliate"]
    assert by_channel["email"] > by_channel["social"]


# ------------------------------------------------------------------ evolving scenario


def _keys(root: Path) -> dict[str, set[str]]:
    con = _con(root)
    out = {}
    for t in RAW_TABLES:
        rows = con.execute(f"select {t.primary_key} from {t.system}__{t.name}").fetchall()
        out[f"{t.system}.{t.name}"] = {k for (k,) in rows}
    return out


def test_scenario_days_are_growing_snapshots(days: dict[int, Path]) -> None:
    keys = {k: _keys(root) for k, root in days.items()}
    for k in range(1, len(days)):
        for table_name, before in keys[k - 1].items():
            assert before <= keys[k][table_name], (k, table_name)
        assert sum(map(len, keys[k].values())) > sum(map(len, keys[k - 1].values()))
    last = max(days)
    scenario = json.loads((days[last] / "truth" / "scenario.json").read_text())
    new = {p for d in range(1, last + 1) for p in scenario["new_people_by_day"][str(d)]}
    people = {k: set(pq.read_table(root / "truth" / "people.parquet")["person_id"].to_pylist())
              for k, root in days.items()}  # fmt: skip
    # people arrive: before their sign-up they can only have browsed anonymously
    assert new & people[last] and people[0] <= people[last]
    early = pq.read_table(days[0] / "truth" / "records.parquet").to_pandas()
    assert set(early[early.person_id.isin(new)].source_system) <= {"web"}


def test_day_zero_is_the_default_export(days: dict[int, Path], tmp_path: Path) -> None:
    generate(tmp_path, people=1_000, seed=SEED, end_date=END)
    assert _files(tmp_path) == _files(days[0])


def test_planted_bridge_split_and_erasure(days: dict[int, Path]) -> None:
    scenario = json.loads((days[0] / "truth" / "scenario.json").read_text())
    events = {e["type"]: e for e in scenario["events"]}
    assert {"bridge", "wrong_link_corrected", "erasure_request"} <= set(events)

    def row(k: int, rec: dict, column: str) -> object:
        t = next(t for t in RAW_TABLES if (t.system, t.name) ==
                 (rec["source_system"], rec["source_table"]))  # fmt: skip
        got = (
            _con(days[k])
            .execute(
                f"select {column} from {t.system}__{t.name} where {t.primary_key} = ?",
                [rec["record_key"]],
            )
            .fetchall()
        )
        return got[0][0] if got else None

    bridge = events["bridge"]
    assert bridge["day"] == BRIDGE_DAY
    assert row(BRIDGE_DAY - 1, bridge["record"], "requester_email") is None
    email = row(BRIDGE_DAY, bridge["record"], "requester_email")
    phone = row(BRIDGE_DAY, bridge["record"], "requester_phone")
    assert email and phone
    truth = pq.read_table(days[BRIDGE_DAY] / "truth" / "records.parquet").to_pandas()
    owners = truth[truth.record_key.isin([r["record_key"] for r in bridge["clusters_before"]]
                                         + [bridge["record"]["record_key"]])]  # fmt: skip
    assert set(owners.person_id) == {bridge["person_id"]}

    split = events["wrong_link_corrected"]
    assert split["day"] == SPLIT_DAY
    assert row(SPLIT_DAY - 1, split["record"], "email") == split["wrong_email"]
    assert row(SPLIT_DAY, split["record"], "email") == split["correct_email"]
    assert split["wrong_email"] != split["correct_email"]
    assert row(SPLIT_DAY, split["record"], "updated_at") > row(
        SPLIT_DAY - 1, split["record"], "updated_at"
    )

    erasure = json.loads((days[ERASURE_DAY] / "truth" / "scenario.json").read_text())
    er = next(e for e in erasure["events"] if e["type"] == "erasure_request")
    assert er["day"] == ERASURE_DAY and len(er["records_in_this_export"]) >= 5
    systems = {r["source_system"] for r in er["records_in_this_export"]}
    assert {"shop", "loyalty", "newsletter", "app"} <= systems
    truth = pq.read_table(days[ERASURE_DAY] / "truth" / "records.parquet").to_pandas()
    keys = {r["record_key"] for r in er["records_in_this_export"]}
    assert set(truth[truth.record_key.isin(keys)].person_id) == {er["person_id"]}


# ------------------------------------------------------------------ formats and errors


def test_csv_export_matches_parquet(base: Path, tmp_path: Path) -> None:
    generate(tmp_path, people=PEOPLE, seed=SEED, end_date=END, fmt="csv")
    con = duckdb.connect()
    for t in RAW_TABLES:
        csv = tmp_path / "raw" / t.system / f"{t.name}.csv"
        assert not (tmp_path / "raw" / t.system / f"{t.name}.parquet").exists()
        header = csv.read_text(encoding="utf-8").splitlines()[0]
        assert header == ",".join(f'"{c.name}"' for c in t.columns)
        types = "{" + ", ".join(f"'{c.name}': '{c.type}'" for c in t.columns) + "}"
        typed = f"read_csv('{csv}', header = true, columns = {types})"
        parquet = f"read_parquet('{base}/raw/{t.system}/{t.name}.parquet')"
        rows, diff = con.execute(f"""
            select (select count(*) from {typed}),
                   (select count(*) from (select * from {typed} except all select * from {parquet}))
        """).fetchone()
        assert rows == pq.read_metadata(base / "raw" / t.system / f"{t.name}.parquet").num_rows
        assert diff == 0, t.name


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"fmt": "xlsx"}, "unknown format"), ({"day": 99}, "day must be"), ({"people": 3}, "people")],
)
def test_bad_arguments_fail_clearly(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate(tmp_path, **{"people": 100, **kwargs})


def test_cli_generate(tmp_path: Path) -> None:
    from customer360.cli import app

    result = CliRunner().invoke(
        app,
        [
            "generate",
            "--people",
            "200",
            "--out",
            str(tmp_path),
            "--end-date",
            "2026-11-23",
            "--day",
            "1",
        ],  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    scenario = json.loads((tmp_path / "truth" / "scenario.json").read_text())
    assert scenario["day"] == 1 and scenario["as_of"] == "2026-11-24T00:00:00"
    bad = CliRunner().invoke(app, ["generate", "--format", "xml", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "unknown format" in bad.output


# ------------------------------------------------------------------ noise for fuzzy matching


def test_noise_truth_records_what_exact_keys_cannot_resolve(tmp_path: Path) -> None:
    """truth/noise.parquet lists every kind of noise for the probabilistic tier, and each
    row really carries it: duplicates sharing no e-mail/phone with the first entry, birth
    dates with day/month swapped or one digit off, moves, twins and namesakes who share
    the address (and the birth date / the name) but are different people."""
    generate(tmp_path, people=6_000, seed=SEED, end_date=END)
    con = _con(tmp_path)
    con.execute(
        f"create view noise as select * from read_parquet('{tmp_path}/truth/noise.parquet')"
    )
    kinds = dict(con.execute("select noise_kind, count(*) from noise group by 1").fetchall())
    from customer360.generate import NOISE_KINDS

    assert set(kinds) == set(NOISE_KINDS), kinds
    con.execute("""
        create view crm as
        select c.*, t.person_id, lower(trim(c.email)) as em,
               regexp_replace(c.phone, '[^0-9]', '', 'g') as ph
        from crm__contacts c
        join truth t on t.source_table = 'contacts' and t.record_key = c.contact_id""")

    def pairs_of(kind: str) -> list[tuple]:
        return con.execute(f"""
            select d.contact_id, d.em, d.ph, o.em, o.ph, d.birth_date, o.birth_date,
                   d.street, o.street, d.first_name, o.first_name, d.last_name, o.last_name
            from noise n join crm d on d.contact_id = n.record_key
            join crm o on o.person_id = d.person_id and o.contact_id <> d.contact_id
            where n.noise_kind = '{kind}'""").fetchall()

    no_shared = pairs_of("crm_duplicate_no_shared_identifier")
    assert no_shared and all(r[1] is None and r[2] is None for r in no_shared)
    for r in pairs_of("birth_date_day_month_swapped"):
        d, o = r[5], r[6]
        if d is not None and o is not None:
            assert (d.year, d.month, d.day) == (o.year, o.day, o.month), r
    for r in pairs_of("birth_date_digit_off"):
        if r[5] is not None and r[6] is not None:
            assert abs((r[5] - r[6]).days) == 1, r
    moved = pairs_of("moved")
    assert any(r[7] is not None and r[8] is not None and r[7] != r[8] for r in moved)
    twins = con.execute("""
        select a.first_name, b.first_name, a.last_name, b.last_name, a.birth_date,
               b.birth_date, a.street, b.street
        from noise n join crm a on a.contact_id = n.record_key
        join crm b on b.person_id = n.related_person_id
        where n.noise_kind = 'twin'""").fetchall()
    assert len(twins) > 20
    same_bday_other_first = [t for t in twins if t[4] is not None and t[4] == t[5]]
    assert same_bday_other_first
    assert all(t[0].lower() != t[1].lower() for t in same_bday_other_first
               if t[0].lower() not in (t[3].lower(), t[2].lower()))  # fmt: skip
    namesakes = con.execute("""
        select a.birth_date, b.birth_date
        from noise n join crm a on a.contact_id = n.record_key
        join crm b on b.person_id = n.related_person_id
        where n.noise_kind = 'namesake'""").fetchall()
    assert namesakes and all(
        abs((a - b).days) > 20 * 365 for a, b in namesakes if a is not None and b is not None
    )
