"""Synthetic source generator: seven source systems with realistic noise, ground truth and
an evolving day-by-day scenario.

``generate(data_dir, people, seed, fmt, day, end_date)`` writes

* ``<data_dir>/raw/<system>/<table>.<fmt>``: exactly the tables and columns of
  :mod:`customer360.contracts`;
* ``<data_dir>/truth/records.parquet``: every raw row -> its true person;
* ``<data_dir>/truth/people.parquet``: the people behind the data and their behaviour;
* ``<data_dir>/truth/scenario.json``: the planted scenario events and the junk identifiers;
* ``<data_dir>/truth/noise.parquet``: per record the noise kinds it carries (NOISE_KINDS).

See docs/generator.md for what links which records, the noise rates and what a correct
identity resolver must do.
"""

from __future__ import annotations

import json
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from customer360.contracts import RAW_TABLES, RawTable, table
from customer360.generate import noise as nz
from customer360.generate import tables as tb
from customer360.generate.world import (
    CHANNELS,
    COUNTRIES,
    DAY,
    INF,
    MAX_SCENARIO_DAY,
    World,
    make_people,
    simulate_purchases,
)

__all__ = ["GenerationResult", "generate", "MAX_SCENARIO_DAY", "NOISE_KINDS"]

FORMATS = ("parquet", "csv")
# event tables whose rows map to a person through their parent record (truth/records.parquet
# covers the parent): order line -> order, e-mail event -> subscriber, app event -> device
CHILD_TABLES = {
    ("shop", "order_lines"): ("order_id", "shop", "orders"),
    ("newsletter", "email_events"): ("subscriber_id", "newsletter", "subscribers"),
    ("app", "events"): ("device_id", "app", "devices"),
}
# days on which the planted scenario events become visible in the exports
BRIDGE_DAY = 2
SPLIT_DAY = 3
ERASURE_DAY = 4

_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "TIMESTAMP": pa.timestamp("us"),
    "DATE": pa.date32(),
    "INTEGER": pa.int32(),
    "DECIMAL(12,2)": pa.decimal128(12, 2),
}


@dataclass
class GenerationResult:
    data_dir: Path
    people: int
    seed: int
    day: int
    fmt: str
    end_date: date
    as_of: datetime
    rows: dict[str, int] = field(default_factory=dict)  # "system.table" -> rows
    truth_rows: int = 0
    people_in_truth: int = 0
    seconds: float = 0.0
    seconds_by_step: dict[str, float] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def arrow_schema(t: RawTable) -> pa.Schema:
    return pa.schema([pa.field(c.name, _ARROW_TYPES[c.type]) for c in t.columns])


def _epoch(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def generate(
    data_dir: Path,
    people: int = 10_000,
    seed: int = 42,
    fmt: str = "parquet",
    day: int | None = None,
    end_date: date | None = None,
) -> GenerationResult:
    """Write the raw exports of day ``day`` (0 = ``end_date``) and the ground truth.

    ``end_date`` defaults to today's UTC date; the export of day K holds everything that
    happened before midnight (UTC) at the start of ``end_date + K days``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    day = 0 if day is None else int(day)
    if not 0 <= day <= MAX_SCENARIO_DAY:
        raise ValueError(f"day must be between 0 and {MAX_SCENARIO_DAY}, got {day}")
    if people < 50:
        raise ValueError(f"people must be at least 50 (the scenario plants 4), got {people}")
    end_date = end_date or datetime.now(UTC).date()
    data_dir = Path(data_dir)
    started = time.perf_counter()
    steps: dict[str, float] = {}

    def lap(name: str, t0: float) -> float:
        now = time.perf_counter()
        steps[name] = round(now - t0, 3)
        return now

    as_of0 = _epoch(end_date)
    as_of = as_of0 + day * DAY
    horizon = as_of0 + MAX_SCENARIO_DAY * DAY
    t0 = time.perf_counter()
    p = make_people(seed, people, as_of0)
    buy = simulate_purchases(seed, p, horizon)
    t0 = lap("people_and_purchases", t0)

    raw_dir = data_dir / "raw"
    truth_dir = data_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    result = GenerationResult(
        data_dir=data_dir,
        people=people,
        seed=seed,
        day=day,
        fmt=fmt,
        end_date=end_date,
        as_of=datetime.fromtimestamp(as_of, UTC).replace(tzinfo=None),
    )
    erasure_person = p.planted["erasure"]
    exported: dict[tuple[str, str], tuple[int, pa.Table | None, list[dict[str, str]]]] = {}
    noise_parts: list[pa.Table] = []

    def export(rows: tb.TableRows, snap: dict[str, pa.Array]) -> None:
        """Write one table as of ``as_of`` (and keep its truth); the caller drops ``rows``."""
        key = (rows.system, rows.name)
        contract = table(*key)
        visible = rows.visible_at <= as_of
        cols = {**rows.columns, **snap}
        arrays = []
        for col in contract.columns:
            if col.name not in cols and col.omittable:  # a column the generator does not
                # simulate (the CRM's id number): present in the header, empty
                cols[col.name] = pa.nulls(len(cols[contract.primary_key]), pa.string())
            arr = cols[col.name]
            if not isinstance(arr, pa.Array | pa.ChunkedArray):
                arr = pa.array(arr)
            arrays.append(arr.cast(_ARROW_TYPES[col.type]))
        out = pa.Table.from_arrays(arrays, schema=arrow_schema(contract))
        del arrays, cols
        if not visible.all():
            out = out.filter(pa.array(visible))
        path = raw_dir / contract.system / f"{contract.name}.{fmt}"
        path.parent.mkdir(parents=True, exist_ok=True)
        for other in FORMATS:
            (path.parent / f"{contract.name}.{other}").unlink(missing_ok=True)
        if fmt == "parquet":
            pq.write_table(out, path, compression="snappy")
        else:
            pacsv.write_csv(out, path)
        person = rows.person[visible]
        truth = None
        if key not in CHILD_TABLES:
            truth = pa.table(
                {
                    "source_system": pa.repeat(pa.scalar(contract.system), out.num_rows),
                    "source_table": pa.repeat(pa.scalar(contract.name), out.num_rows),
                    "record_key": out.column(contract.primary_key),
                    "person_id": pa.array(person.astype(np.int64)),
                }
            )
        mine = out.column(contract.primary_key).take(
            pa.array(np.flatnonzero(person == erasure_person))
        )
        erased = [{"source_system": contract.system, "source_table": contract.name,
                   "record_key": k} for k in mine.to_pylist()]  # fmt: skip
        exported[key] = (out.num_rows, truth, erased)
        if rows.noise:
            keys = out.column(contract.primary_key)
            related = rows.related_person[visible] if rows.related_person is not None else None
            for kind, flag in rows.noise.items():
                sel = np.flatnonzero(np.asarray(flag)[visible])
                if len(sel) == 0:
                    continue
                take = pa.array(sel)
                rel = np.full(len(sel), -1)
                if related is not None and kind in ("twin", "namesake"):
                    rel = related[sel]
                noise_parts.append(
                    pa.table(
                        {
                            "source_system": pa.repeat(pa.scalar(contract.system), len(sel)),
                            "source_table": pa.repeat(pa.scalar(contract.name), len(sel)),
                            "record_key": keys.take(take),
                            "person_id": pa.array(person[sel].astype(np.int64)),
                            "noise_kind": pa.repeat(pa.scalar(kind), len(sel)),
                            "related_person_id": pa.array(
                                np.where(rel >= 0, rel, 0).astype(np.int64), mask=rel < 0
                            ),
                        }
                    )
                )

    t_build = time.perf_counter()
    w = World(seed, p, buy, as_of0)
    customers, *shop_rest = tb.shop_tables(w)
    events: list[dict[str, object]] = []

    def shop_and_identities() -> None:
        # shop first (the others need the shop's keys), then loyalty -> crm -> support:
        # each step needs the phones the previous ones put on record
        orders, lines = shop_rest.pop(0), shop_rest.pop(0)  # dropped once written
        export(orders, tb.snapshot_orders(orders, as_of))
        export(lines, {})
        del orders, lines
        members, pos = tb.loyalty_tables(w)
        export(pos, {})
        crm = tb.crm_table(w)
        support = tb.support_table(w, w.mobile_on_record)
        events.extend(_plant_scenario(w, customers, members, crm, support, as_of0))
        export(customers, tb.snapshot_shop_customers(customers, as_of))
        export(members, tb.snapshot_members(members, as_of, p.n))
        export(crm, tb.snapshot_crm(crm, as_of))
        export(support, tb.snapshot_support(support, as_of))

    def activity() -> None:
        subscribers, email_events = tb.newsletter_tables(w)
        export(subscribers, tb.snapshot_subscribers(subscribers, as_of))
        export(email_events, {})
        del subscribers, email_events
        for rows in tb.app_tables(w):
            export(rows, {})
        export(tb.web_table(w), {})

    # two independent chains (own random streams, disjoint state), one per core
    with ThreadPoolExecutor(max_workers=2) as pool:
        for job in [pool.submit(shop_and_identities), pool.submit(activity)]:
            job.result()
    steps["build_and_write_raw"] = round(time.perf_counter() - t_build, 3)
    t0 = time.perf_counter()
    truth_parts = []
    erasure_records: list[dict[str, str]] = []
    for t in RAW_TABLES:
        n, truth, erased = exported[(t.system, t.name)]
        result.rows[f"{t.system}.{t.name}"] = n
        erasure_records += erased
        if truth is not None:
            truth_parts.append(truth)

    records = pa.concat_tables(truth_parts)
    pq.write_table(records, truth_dir / "records.parquet", compression="snappy")
    result.truth_rows = records.num_rows
    noise = pa.concat_tables(noise_parts) if noise_parts else _empty_noise()
    noise = noise.sort_by([("source_system", "ascending"), ("source_table", "ascending"),
                           ("record_key", "ascending"), ("noise_kind", "ascending")])  # fmt: skip
    pq.write_table(noise, truth_dir / "noise.parquet", compression="snappy")
    people_table = _people_table(w, as_of, records)
    pq.write_table(people_table, truth_dir / "people.parquet", compression="snappy")
    result.people_in_truth = people_table.num_rows
    scenario = _scenario_json(w, result, as_of0, as_of, events, erasure_records)
    (truth_dir / "scenario.json").write_text(json.dumps(scenario, indent=2, sort_keys=True) + "\n")
    lap("write_truth", t0)
    result.seconds = round(time.perf_counter() - started, 3)
    result.seconds_by_step = steps
    return result


# ------------------------------------------------------------------ planted scenario


def _row_of(rows: tb.TableRows, person: int) -> int:
    idx = np.flatnonzero(rows.person == person)
    if len(idx) == 0:
        raise RuntimeError(f"planted person {person} has no {rows.system}.{rows.name} row")
    return int(idx[0])


def _append(rows: tb.TableRows, values: dict[str, object], at: int, person: int) -> None:
    for name, arr in rows.columns.items():
        typ = arr.type if isinstance(arr, pa.Array) else None
        rows.columns[name] = pa.concat_arrays([arr, pa.array([values.get(name)], typ)])
    rows.visible_at = np.append(rows.visible_at, at)
    rows.person = np.append(rows.person, person)
    for name, arr in rows.mutable.items():
        if isinstance(arr, np.ndarray):
            rows.mutable[name] = np.append(arr, values.get(f"_{name}", arr[-1]))


def _plant_scenario(
    w: World,
    customers: tb.TableRows,
    members: tb.TableRows,
    crm: tb.TableRows,
    support: tb.TableRows,
    as_of0: int,
) -> list[dict[str, object]]:
    p = w.p
    rng = np.random.default_rng([w.seed, 99])
    events: list[dict[str, object]] = []
    b = p.planted["bridge"]
    # bridge: a support ticket carrying the shop e-mail and the loyalty phone of one person
    opened = as_of0 + BRIDGE_DAY * DAY - 5 * 3600
    shop_email = f"{w.e0_local[b].as_py()}@{w.e0_domain[b].as_py()}"
    phone = w.phone(rng, np.array([b]), np.array([opened]), False)[0].as_py()
    ticket_id = f"T-{len(support.person) + 1:07d}"
    _append(
        support,
        {
            "ticket_id": ticket_id,
            "requester_email": shop_email.upper(),
            "requester_phone": phone,
            "channel": "email",
            "category": "account",
            "opened_at": datetime.fromtimestamp(opened, UTC).replace(tzinfo=None),
            "_resolved": opened + 7200,
            "_answered": True,
            "_score": 5,
        },
        opened,
        b,
    )
    events.append(
        {
            "type": "bridge",
            "day": BRIDGE_DAY,
            "person_id": b,
            "description": "a support ticket carries the shop e-mail and the loyalty phone of "
            "one person whose shop history and loyalty history had nothing in common: "
            "the two clusters must merge",
            "record": {"source_system": "support", "source_table": "tickets",
                       "record_key": ticket_id},
            "clusters_before": [
                {"source_system": "shop", "source_table": "customers",
                 "record_key": customers.columns["customer_id"][_row_of(customers, b)].as_py()},
                {"source_system": "loyalty", "source_table": "members",
                 "record_key": members.columns["loyalty_number"][_row_of(members, b)].as_py()},
            ],
        }
    )  # fmt: skip

    # wrong link: an agent typed the owner's e-mail into the victim's CRM contact; the
    # CRM export corrects it on SPLIT_DAY
    owner, victim = p.planted["wrong_link_owner"], p.planted["wrong_link_victim"]
    row = _row_of(crm, victim)
    wrong = f"{w.e0_local[owner].as_py()}@{w.e0_domain[owner].as_py()}"
    fix_at = as_of0 + SPLIT_DAY * DAY - 3 * 3600
    crm.mutable["fix"] = {"row": row, "wrong_email": wrong, "fix_at": fix_at}
    events.append(
        {
            "type": "wrong_link_corrected",
            "day": SPLIT_DAY,
            "person_id": victim,
            "wrong_person_id": owner,
            "description": "until this day the CRM contact carries another person's e-mail "
            "(agent typo), linking two people; the export of this day corrects it: the "
            "cluster must split",
            "record": {"source_system": "crm", "source_table": "contacts",
                       "record_key": crm.columns["contact_id"][row].as_py()},
            "wrong_email": wrong,
            "correct_email": crm.columns["email"][row].as_py(),
            "owner_records": [
                {"source_system": "shop", "source_table": "customers",
                 "record_key": customers.columns["customer_id"][_row_of(customers, owner)]
                 .as_py()},
            ],
            "victim_records": [
                {"source_system": "loyalty", "source_table": "members",
                 "record_key": members.columns["loyalty_number"][_row_of(members, victim)]
                 .as_py()},
            ],
        }
    )  # fmt: skip
    e = p.planted["erasure"]
    events.append(
        {
            "type": "erasure_request",
            "day": ERASURE_DAY,
            "person_id": e,
            "requested_at": datetime.fromtimestamp(as_of0 + ERASURE_DAY * DAY - 7200, UTC)
            .replace(tzinfo=None)
            .isoformat(),
            "email": f"{w.e0_local[e].as_py()}@{w.e0_domain[e].as_py()}",
            "shop_customer_id": customers.columns["customer_id"][_row_of(customers, e)].as_py(),
            "description": "the person asks for erasure; the exports keep their records",
        }
    )
    return events


# ------------------------------------------------------------------ truth

# noise kinds in truth/noise.parquet (docs/generator.md)
NOISE_KINDS = (
    "crm_duplicate",
    "crm_duplicate_no_shared_identifier",
    "name_transliterated",
    "name_typo",
    "names_swapped",
    "birth_date_day_month_swapped",
    "birth_date_digit_off",
    "moved",
    "twin",
    "namesake",
)


def _empty_noise() -> pa.Table:
    return pa.table(
        {
            "source_system": pa.array([], pa.string()),
            "source_table": pa.array([], pa.string()),
            "record_key": pa.array([], pa.string()),
            "person_id": pa.array([], pa.int64()),
            "noise_kind": pa.array([], pa.string()),
            "related_person_id": pa.array([], pa.int64()),
        }
    )


def _people_table(w: World, as_of: int, records: pa.Table) -> pa.Table:
    p, b = w.p, w.buy
    person_ids = records.column("person_id").to_numpy()
    person_ids = person_ids[person_ids >= 0]
    first_seen = np.full(p.n, INF, dtype=np.int64)
    # first activity: sign-up or first record, whichever is earlier (approximated by signup)
    present = np.zeros(p.n, dtype=bool)
    present[np.unique(person_ids)] = True
    first_seen[:] = p.signup_at
    done = b.at <= as_of
    n_purchases = np.bincount(b.person[done], minlength=p.n)
    revenue = np.bincount(b.person[done], weights=b.amount[done], minlength=p.n)
    last_purchase = np.full(p.n, -1, dtype=np.int64)
    np.maximum.at(last_purchase, b.person[done], b.at[done])
    role = np.full(p.n, None, dtype=object)
    for name, i in p.planted.items():
        role[i] = name
    sel = np.flatnonzero(present)

    def ts(values: np.ndarray, ok: np.ndarray) -> pa.Array:
        return pa.array(
            values.astype("datetime64[s]").astype("datetime64[us]"), mask=~ok.astype(bool)
        )

    return pa.table(
        {
            "person_id": pa.array(sel.astype(np.int64)),
            "kind": nz.take(pa.array(["customer", "visitor"]), p.kind[sel]),
            "household_id": pa.array(p.household[sel].astype(np.int64)),
            "country": nz.take(pa.array(COUNTRIES), p.country_idx[sel]),
            "acquisition_channel": nz.take(pa.array(CHANNELS), p.channel_idx[sel]),
            "signup_at": ts(p.signup_at[sel], np.ones(len(sel), bool)),
            "is_new_in_scenario": pa.array(sel >= p.n_base),
            "has_shop_account": pa.array(p.has_account[sel]),
            "has_loyalty": pa.array(p.has_loyalty[sel]),
            "has_app": pa.array(p.has_app[sel]),
            "has_newsletter": pa.array(p.has_newsletter[sel]),
            "has_crm_contact": pa.array(p.has_crm[sel]),
            "is_guest_buyer": pa.array(p.is_guest_buyer[sel]),
            "uses_family_email": pa.array(p.family_email[sel]),
            "uses_household_landline": pa.array(p.household_landline[sel]),
            "purchase_rate_per_day": pa.array(p.lam[sel]),
            "dropout_probability": pa.array(p.p_drop[sel]),
            "spend_mean_eur": pa.array(p.spend_mean[sel]),
            "engagement": pa.array(p.engagement[sel]),
            "dropout_at": ts(p.dropout_at[sel], p.dropout_at[sel] <= as_of),
            "quiet_at": ts(p.quiet_at[sel], p.quiet_at[sel] <= as_of),
            "is_alive": pa.array(p.dropout_at[sel] > as_of),
            "email_changed_at": ts(p.email_change_at[sel], p.email_change_at[sel] <= as_of),
            "phone_changed_at": ts(p.phone_change_at[sel], p.phone_change_at[sel] <= as_of),
            "n_purchases": pa.array(n_purchases[sel].astype(np.int64)),
            "revenue_eur": pa.array(np.round(revenue[sel], 2)),
            "last_purchase_at": ts(np.maximum(last_purchase[sel], 0), last_purchase[sel] >= 0),
            "planted_role": pa.array(role[sel], pa.string()),
        }
    )


def _scenario_json(
    w: World,
    result: GenerationResult,
    as_of0: int,
    as_of: int,
    events: list[dict[str, object]],
    erasure_records: list[dict[str, str]],
) -> dict[str, object]:
    p = w.p
    iso = lambda t: datetime.fromtimestamp(t, UTC).replace(tzinfo=None).isoformat()  # noqa: E731
    new_people = {}
    for k in range(1, MAX_SCENARIO_DAY + 1):
        lo, hi = as_of0 + (k - 1) * DAY, as_of0 + k * DAY
        new_people[str(k)] = [int(i) for i in np.flatnonzero((p.signup_at > lo) &
                                                              (p.signup_at <= hi))]  # fmt: skip
    erasure = next(e for e in events if e["type"] == "erasure_request")
    erasure["records_in_this_export"] = erasure_records
    return {
        "seed": result.seed,
        "people": result.people,
        "day": result.day,
        "end_date": result.end_date.isoformat(),
        "as_of": iso(as_of),
        "as_of_by_day": {str(k): iso(as_of0 + k * DAY) for k in range(MAX_SCENARIO_DAY + 1)},
        "max_day": MAX_SCENARIO_DAY,
        "events": events,
        "new_people_by_day": new_people,
        "junk_identifiers": {
            "emails": list(nz.JUNK_EMAILS),
            "phones": list(nz.JUNK_PHONES),
            "store_loyalty_numbers": [f"{int(c):012d}" for c in w.store_cards],
            "store_email_domain": tb.COMPANY_DOMAIN,
        },
    }


def clear(data_dir: Path) -> None:
    """Remove a data directory's raw exports and truth (what ``generate`` writes)."""
    for sub in ("raw", "truth"):
        shutil.rmtree(Path(data_dir) / sub, ignore_errors=True)
