"""Turn the simulated world into the thirteen raw tables of the contract, as of a time.

Every random draw depends only on the seed and the world (never on ``as_of``), and every
key is numbered over the whole simulated horizon; the snapshot for day K only filters rows
created after ``as_of`` and evaluates mutable fields (status, e-mail of an account, ...)
at ``as_of``. So a later day's export is a superset of an earlier one, keys are stable,
and only the planted correction (``_plant_scenario`` in ``generate/__init__.py``) changes
an existing row's identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from customer360.generate import noise as nz
from customer360.generate.world import (
    CHANNELS,
    COUNTRIES,
    DAY,
    INF,
    KIND_VISITOR,
    SEASON_MAX,
    People,
    World,
    rank_in_group,
    season_factor,
    stream,
    time_of_day,
)

COMPANY_DOMAIN = "customer360-shop.example"
FX_FROM_EUR = {"EUR": 1.0, "USD": 1.08, "GBP": 0.86, "CHF": 0.96}
CURRENCIES = np.array(["EUR", "USD", "GBP", "CHF"])
FX = np.array([1.0, 1.08, 0.86, 0.96])
STORES_PER_COUNTRY = np.array([24, 6, 5, 6, 4])
CITIES = {
    "DE": ("Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Düsseldorf"),
    "AT": ("Wien", "Graz", "Linz", "Salzburg"),
    "CH": ("Zürich", "Genève", "Basel", "Bern"),
    "GB": ("London", "Manchester", "Birmingham", "Leeds"),
    "US": ("New York", "San Francisco", "Chicago", "Boston"),
}
STREETS = {
    "DE": ("Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstr.", "Lindenweg"),
    "AT": ("Hauptplatz", "Mariahilfer Straße", "Kirchengasse", "Bahnhofstraße"),
    "CH": ("Bahnhofstrasse", "Dorfstrasse", "Seestrasse", "Kirchweg"),
    "GB": ("High Street", "Station Road", "Church Lane", "Victoria Road"),
    "US": ("Main Street", "Oak Avenue", "Maple Drive", "2nd Street"),
}
# CRM duplicates (the second entry of one person by another agent): noise that exact keys
# cannot resolve (docs/generator.md)
CRM_DUP_NO_SHARED_RATE = 0.45  # neither the e-mail nor the phone of the first entry
CRM_DUP_TYPO_RATE = 0.10  # one more typo in the last name
CRM_DUP_DAY_MONTH_SWAP_RATE = 0.15  # birth date with day and month swapped (day <= 12)
CRM_DUP_DIGIT_OFF_RATE = 0.10  # birth date one digit off (the day's last digit)
CRM_DUP_MOVED_RATE = 0.20  # another address (the person moved between the two entries)
AGENTS = tuple(f"agent_{i:02d}" for i in range(1, 26))
CATEGORIES = np.array(["apparel", "shoes", "home", "beauty", "electronics", "toys", "books"])
TICKET_CATEGORIES = np.array(
    ["order_status", "returns", "payment", "product_question", "account", "complaint"]
)
SIGNUP_SOURCES = np.array(["footer", "checkout", "popup", "store", "app"])
UTM = {  # channel -> (utm_source options, utm_medium, campaign prefix, referrer options)
    "organic_search": ((None,), None, None, ("www.google.com", "www.bing.com", "duckduckgo.com")),
    "paid_search": (("google", "bing"), "cpc", "search", ("www.google.com", "www.bing.com")),
    "social": (("facebook", "instagram", "tiktok"), "paid_social", "social",
               ("l.facebook.com", "l.instagram.com", "www.tiktok.com")),
    "email": (("newsletter",), "email", "nl", (None,)),
    "referral": ((None,), None, None, ("www.mydealz.de", "blog.modestyle.example",
                                       "www.reddit.com")),
    "affiliate": (("awin", "tradedoubler", "rakuten"), "affiliate", "aff",
                  ("www.awin1.com", "clk.tradedoubler.com")),
    "offline_store": ((None,), None, None, (None,)),
}  # fmt: skip


@dataclass
class TableRows:
    """One raw table for the whole horizon: columns, the time each row appears, the true
    person (negative: an unknown one-off person, see docs/generator.md)."""

    system: str
    name: str
    key: str
    columns: dict[str, pa.Array | np.ndarray]
    visible_at: np.ndarray
    person: np.ndarray
    mutable: dict[str, object] = field(default_factory=dict)
    # noise kind -> per-row flag (truth/noise.parquet); related_person: the other person a
    # twin/namesake row must stay apart from (-1 if none)
    noise: dict[str, np.ndarray] = field(default_factory=dict)
    related_person: np.ndarray | None = None


def _ts(seconds: np.ndarray) -> pa.Array:
    return pa.array(seconds.astype("datetime64[s]").astype("datetime64[us]"))


def _ts_or_null(seconds: np.ndarray, present: np.ndarray) -> pa.Array:
    return pa.array(
        seconds.astype("datetime64[s]").astype("datetime64[us]"), mask=~present.astype(bool)
    )


def _money(values: np.ndarray) -> pa.Array:
    return pa.array(np.round(values, 2)).cast(pa.decimal128(12, 2))


def _sequence(times: np.ndarray, tiebreak: np.ndarray) -> np.ndarray:
    """1-based sequence number of each row in (time, tiebreak) order: keys grow with time."""
    order = np.lexsort((tiebreak, times))
    seq = np.empty(len(times), dtype=np.int64)
    seq[order] = np.arange(1, len(times) + 1)
    return seq


# ================================================================== shop


def shop_tables(w: World) -> tuple[TableRows, TableRows, TableRows]:
    p, b = w.p, w.buy
    rng = stream(w.seed, "shop")
    # --- customers
    person = np.flatnonzero(p.has_account)
    created = p.signup_at[person]
    seq = _sequence(created, person)
    w.shop_customer_seq = np.zeros(p.n, dtype=np.int64)
    w.shop_customer_seq[person] = seq
    customer_id = nz.ids("SC", seq, 7)
    e0l, e0d = w.email_parts(person, np.zeros(len(person), dtype=np.int64))
    e1l, e1d = w.email_parts(person, np.full(len(person), INF))
    email_before = w.junk(rng, nz.render_email(rng, e0l, e0d, noise=0.6), 0.0, nz.JUNK_EMAILS)
    email_after = nz.render_email(rng, e1l, e1d, noise=0.6)
    has_phone = rng.random(len(person)) < 0.5
    has_phone &= p.has_mobile[person]
    has_phone &= ~np.isin(person, list(p.planted.values()))
    w.mobile_on_record[person[has_phone]] = True
    w.shop_phone[person[has_phone]] = True
    phone_before = w.phone(rng, person, np.zeros(len(person), dtype=np.int64), True)
    phone_after = w.phone(rng, person, np.full(len(person), INF), True)
    junk_phone = (rng.random(len(person)) < 0.015) & ~has_phone
    jp = nz.take(pa.array(nz.JUNK_PHONES), rng.integers(0, len(nz.JUNK_PHONES), len(person)))
    first = nz.render_name(rng, nz.take(w.first, person), nz.take(w.first_t, person),
                           translit_rate=0.1, typo_rate=0.005)  # fmt: skip
    last = nz.render_name(rng, nz.take(w.last, person), nz.take(w.last_t, person),
                          translit_rate=0.1, typo_rate=0.005)  # fmt: skip
    profile_edit = created + (rng.exponential(200, len(person)) * DAY).astype(np.int64)
    customers = TableRows(
        "shop",
        "customers",
        "customer_id",
        {
            "customer_id": customer_id,
            "first_name": first,
            "last_name": last,
            "country_code": nz.take(pa.array(COUNTRIES), p.country_idx[person]),
            "created_at": _ts(created),
        },
        created,
        person,
        mutable={
            "email_change_at": p.email_change_at[person],
            "phone_change_at": p.phone_change_at[person],
            "email_before": email_before,
            "email_after": email_after,
            "phone_before": pc.if_else(pa.array(junk_phone), jp, phone_before),
            "phone_after": pc.if_else(pa.array(junk_phone), jp, phone_after),
            "has_phone": has_phone | junk_phone,
            "profile_edit": profile_edit,
            "created": created,
        },
    )

    # --- orders (web and app purchases)
    online = b.channel != 2
    o_person, o_at, o_amount = b.person[online], b.at[online], b.amount[online]
    o_guest, o_channel = b.guest[online], b.channel[online]
    n = len(o_person)
    o_seq = _sequence(o_at, o_person)
    order_id = nz.ids("SO", o_seq, 8)
    # family accounts: order confirmations often go to the household's shared address
    fam_o = p.family_email[o_person] & ~o_guest & (rng.random(n) < 0.6)
    loc, dom = w.email_parts(o_person, o_at, fam_o)
    email = nz.render_email(rng, loc, dom, noise=1.0)
    junk_email = o_guest & (rng.random(n) < 0.003)
    email = w.junk(rng, email, 0.0, nz.JUNK_EMAILS)
    email = pc.if_else(pa.array(junk_email), "test@test.com", email)
    cust = pc.if_else(pa.array(o_guest), pa.scalar(None, pa.string()),
                      nz.take(nz.ids("SC", w.shop_customer_seq, 7), o_person))  # fmt: skip
    cur = w.currency(rng, o_person)
    status_r = rng.random(n)
    cancelled = status_r < 0.025
    refunded = (status_r > 0.96) & ~cancelled
    refund_at = o_at + (rng.uniform(3, 25, n) * DAY).astype(np.int64)

    # order lines: 1..6 lines; the order total is the exact sum of its lines
    n_lines = np.minimum(1 + rng.poisson(0.3, n), 6)
    line_order = np.repeat(np.arange(n), n_lines)
    share = rng.gamma(1.0, 1.0, len(line_order))
    share /= np.bincount(line_order, weights=share, minlength=n)[line_order]
    qty = np.where(rng.random(len(line_order)) < 0.8, 1, rng.integers(2, 4, len(line_order)))
    fx = FX[cur][line_order]
    unit = np.maximum(np.round(o_amount[line_order] * share * fx / qty, 2), 0.99)
    total = np.round(np.bincount(line_order, weights=unit * qty, minlength=n), 2)
    cat = rng.integers(0, len(CATEGORIES), len(line_order))
    product = cat * 1000 + rng.zipf(1.6, len(line_order)) % 400
    line_no = rank_in_group(line_order, n)
    line_id = nz.fixed("SO", (o_seq[line_order], 8), "-", (line_no, 2))
    ship = p.country_idx[o_person].copy()
    moved = rng.random(n) < 0.02
    ship[moved] = rng.integers(0, len(COUNTRIES), moved.sum())

    orders = TableRows(
        "shop",
        "orders",
        "order_id",
        {
            "order_id": order_id,
            "customer_id": cust,
            "email": email,
            "ordered_at": _ts(o_at),
            "currency": nz.take(pa.array(CURRENCIES), cur),
            "order_total": _money(total),
            "order_channel": nz.take(pa.array(["web", "app"]), o_channel),
            "shipping_country": nz.take(pa.array(COUNTRIES), ship),
        },
        o_at,
        o_person,
        mutable={"cancelled": cancelled, "refunded": refunded, "refund_at": refund_at},
    )
    w.orders_view = (o_person, o_at, o_channel, o_guest, order_id)
    lines = TableRows(
        "shop",
        "order_lines",
        "order_line_id",
        {
            "order_line_id": line_id,
            "order_id": nz.take(order_id, line_order),
            "product_id": nz.fixed("SKU-", (product, 5)),
            "product_category": nz.take(pa.array(CATEGORIES), cat),
            "quantity": pa.array(qty.astype(np.int32)),
            "unit_price": _money(unit),
        },
        o_at[line_order],
        o_person[line_order],
    )
    return customers, orders, lines


def snapshot_shop_customers(t: TableRows, as_of: int) -> dict[str, pa.Array]:
    m = t.mutable
    email_changed = pa.array(m["email_change_at"] <= as_of)
    phone_changed = pa.array(m["phone_change_at"] <= as_of)
    phone = pc.if_else(phone_changed, m["phone_after"], m["phone_before"])
    phone = pc.if_else(pa.array(m["has_phone"]), phone, pa.scalar(None, pa.string()))
    upd = m["created"].copy()
    for change in (m["email_change_at"], m["phone_change_at"], m["profile_edit"]):
        upd = np.where((change <= as_of) & (change > upd), change, upd)
    return {
        "email": pc.if_else(email_changed, m["email_after"], m["email_before"]),
        "phone": phone,
        "updated_at": _ts(upd),
    }


def snapshot_orders(t: TableRows, as_of: int) -> dict[str, pa.Array]:
    m = t.mutable
    refunded = m["refunded"] & (m["refund_at"] <= as_of)
    status = np.where(m["cancelled"], 2, np.where(refunded, 1, 0))
    return {"status": nz.take(pa.array(["completed", "refunded", "cancelled"]), status)}


# ================================================================== loyalty


def loyalty_tables(w: World) -> tuple[TableRows, TableRows]:
    p, b = w.p, w.buy
    rng = stream(w.seed, "loyalty")
    person = np.flatnonzero(p.has_loyalty)
    first_store = np.where(p.p_store[person] >= 1.0, 0, rng.integers(10, 400, len(person)))
    enrolled = p.signup_at[person] + first_store * DAY
    enrolled = np.minimum(enrolled, p.signup_at[person] + 400 * DAY)
    number = 700_000_000_000 + (person.astype(np.int64) * 104_729 + 17) % 99_999_999_999
    w.loyalty_digits = np.zeros(p.n, dtype=np.int64)
    w.loyalty_digits[person] = number
    w.loyalty_enrolled = np.full(p.n, INF, dtype=np.int64)
    w.loyalty_enrolled[person] = enrolled

    n_stores = int(STORES_PER_COUNTRY.sum())
    store_country = np.repeat(np.arange(len(COUNTRIES)), STORES_PER_COUNTRY)
    store_first = np.concatenate(([0], np.cumsum(STORES_PER_COUNTRY)[:-1]))
    home_store = store_first[p.country_idx] + p.household % STORES_PER_COUNTRY[p.country_idx]
    store_card = 900_000_000_000 + np.arange(1, n_stores + 1)

    landline = p.household_landline[person]
    has_email = (rng.random(len(person)) < 0.8) | landline
    has_phone = ((rng.random(len(person)) < 0.7) & p.has_mobile[person]) | landline
    # phone-only members only where the phone also sits on the shop account (resolvable)
    has_email |= ~has_phone | ~w.shop_phone[person]
    planted = np.isin(person, list(p.planted.values()))
    has_email |= planted
    has_phone |= planted
    loc, dom = w.email_parts(person, enrolled)
    # the bridge person enrolled with a second (work) address: nothing links it yet
    bridge = pa.array(person == p.planted["bridge"])
    loc = pc.if_else(bridge, nz.take(w.e1_local, person), loc)
    dom = pc.if_else(bridge, nz.take(w.e1_domain, person), dom)
    email = nz.render_email(rng, loc, dom, noise=1.0)
    # junk in one field only where the other field still links the member
    email_junk = ~planted & has_phone & w.shop_phone[person] & ~landline
    email = pc.if_else(pa.array(email_junk), w.junk(rng, email, 0.05, nz.JUNK_EMAILS), email)
    phone = w.phone(rng, person, enrolled, False, landline=landline)
    w.mobile_on_record[person[has_phone & ~landline]] = True
    phone_junk = ~planted & has_email & ~has_phone & (rng.random(len(person)) < 0.03)
    junk_phone = nz.take(
        pa.array(nz.JUNK_PHONES), rng.integers(0, len(nz.JUNK_PHONES), len(person))
    )
    phone = pc.if_else(pa.array(phone_junk), junk_phone, phone)
    has_phone = has_phone | phone_junk
    swap = rng.random(len(person)) < 0.02
    first = nz.render_name(rng, nz.take(w.first, person), nz.take(w.first_t, person),
                           translit_rate=0.25, typo_rate=0.02)  # fmt: skip
    last = nz.render_name(rng, nz.take(w.last, person), nz.take(w.last_t, person),
                          translit_rate=0.25, typo_rate=0.02)  # fmt: skip
    first, last = pc.if_else(pa.array(swap), last, first), pc.if_else(pa.array(swap), first, last)

    def render_card(digits_: np.ndarray) -> pa.Array:
        a, b, c = (digits_ // 10**8, 4), (digits_ // 10**4 % 10**4, 4), (digits_ % 10**4, 4)
        style = rng.choice(4, size=len(digits_), p=(0.35, 0.3, 0.25, 0.1))
        return nz.choose(style, nz.fixed(a, b, c), nz.fixed(a, " ", b, " ", c),
                         nz.fixed(a, "-", b, "-", c), nz.fixed(" ", a, b, c, " "))  # fmt: skip

    store_city = [CITIES[str(COUNTRIES[c])][i % len(CITIES[str(COUNTRIES[c])])]
                  for i, c in enumerate(store_country)]  # fmt: skip
    n_m = len(person)
    members_cols = {
        "loyalty_number": pa.concat_arrays([render_card(number), nz.digits(store_card, 12)]),
        "email": pa.concat_arrays([
            pc.if_else(pa.array(has_email), email, pa.scalar(None, pa.string())),
            pa.array([f"store.{i + 1:03d}@{COMPANY_DOMAIN}" for i in range(n_stores)]),
        ]),
        "phone": pa.concat_arrays([
            pc.if_else(pa.array(has_phone), phone, pa.scalar(None, pa.string())),
            pa.nulls(n_stores, pa.string()),
        ]),
        "first_name": pa.concat_arrays([first, pa.array(["Store"] * n_stores)]),
        "last_name": pa.concat_arrays([last, pa.array(store_city)]),
        "enrolled_at": _ts(np.concatenate([enrolled, np.full(n_stores, w.start)])),
    }  # fmt: skip
    member_person = np.concatenate([person, -(10**12) - np.arange(1, n_stores + 1)])

    # --- POS transactions of members
    store = b.channel == 2
    t_person, t_at, t_amount = b.person[store], b.at[store], b.amount[store]
    t_at = np.maximum(t_at, w.loyalty_enrolled[t_person])
    n_t = len(t_person)
    t_store = np.where(rng.random(n_t) < 0.85, home_store[t_person],
                       rng.integers(0, n_stores, n_t))  # fmt: skip
    cur_t = w.currency(rng, t_person)
    amount = np.round(t_amount * FX[cur_t], 2)
    # returns: a later negative transaction of part of the amount
    ret = rng.random(n_t) < 0.03
    r_person, r_at = t_person[ret], t_at[ret] + (rng.uniform(2, 20, ret.sum()) * DAY).astype(int)
    r_amount = -np.round(amount[ret] * rng.uniform(0.2, 1.0, ret.sum()), 2)
    # walk-in customers without a card: the cashier scans the store's own card, or nothing
    n_walk = int(round(0.15 * n_t)) + 10
    walk_at = w.start + (rng.random(n_walk * 2) * (w.p.signup_at.max() - w.start)).astype(int)
    walk_at = walk_at[rng.random(len(walk_at)) * SEASON_MAX < season_factor(walk_at)][:n_walk]
    walk_at = walk_at - walk_at % DAY + time_of_day(rng, len(walk_at))
    n_walk = len(walk_at)
    walk_store = rng.integers(0, n_stores, n_walk)
    walk_card = rng.random(n_walk) < 0.55
    walk_cur = np.where(store_country[walk_store] == 4, 1,
                        np.where(store_country[walk_store] == 3, 2,
                                 np.where(store_country[walk_store] == 2, 3, 0)))  # fmt: skip
    walk_amount = np.round(rng.gamma(2.0, 25.0, n_walk) * FX[walk_cur], 2)

    all_person = np.concatenate([t_person, r_person, np.full(n_walk, -1)])
    all_at = np.concatenate([t_at, r_at, walk_at])
    all_store = np.concatenate([t_store, t_store[ret], walk_store])
    all_cur = np.concatenate([cur_t, cur_t[ret], walk_cur])
    all_amount = np.concatenate([amount, r_amount, walk_amount])
    card_digits = np.concatenate(
        [w.loyalty_digits[t_person], w.loyalty_digits[r_person], store_card[walk_store]]
    )
    has_card = np.concatenate([np.ones(n_t + ret.sum(), bool), walk_card])
    seq = _sequence(all_at, np.arange(len(all_at)))
    # unknown walk-ins are one-off people: a distinct negative person id each
    all_person = np.where(all_person == -1, -seq, all_person)
    card = pc.if_else(pa.array(has_card), render_card(card_digits), pa.scalar(None, pa.string()))
    store_ids = pa.array([f"ST{s + 1:03d}" for s in range(n_stores)])
    pos = TableRows(
        "loyalty",
        "pos_transactions",
        "transaction_id",
        {
            "transaction_id": nz.ids("POS", seq, 9),
            "loyalty_number": card,
            "store_id": nz.take(store_ids, all_store),
            "transacted_at": _ts(all_at),
            "currency": nz.take(pa.array(CURRENCIES), all_cur),
            "amount": _money(all_amount),
        },
        all_at,
        all_person,
    )
    # tier as of the snapshot from the member's transactions so far (see snapshot_members)
    members = TableRows(
        "loyalty",
        "members",
        "loyalty_number",
        members_cols,
        np.concatenate([enrolled, np.full(n_stores, w.start)]),
        member_person,
        mutable={"n_members": n_m, "tx_person": t_person, "tx_at": t_at},
    )
    w.store_cards = store_card
    return members, pos


def snapshot_members(t: TableRows, as_of: int, n_people: int) -> dict[str, pa.Array]:
    m = t.mutable
    seen = m["tx_at"] <= as_of
    counts = np.bincount(m["tx_person"][seen], minlength=n_people)
    person = t.person[: m["n_members"]]
    c = counts[person]
    tier = np.concatenate([np.where(c >= 15, 2, np.where(c >= 5, 1, 0)),
                           np.zeros(len(t.person) - m["n_members"], dtype=np.int64)])  # fmt: skip
    return {"tier": nz.take(pa.array(["bronze", "silver", "gold"]), tier)}


# ================================================================== crm


def crm_table(w: World) -> TableRows:
    p = w.p
    rng = stream(w.seed, "crm")
    base = np.flatnonzero(p.has_crm)
    n_b = len(base)
    created_b = p.signup_at[base] + (rng.exponential(150, n_b) * DAY).astype(np.int64)
    dup = p.crm_duplicate[base]
    created_d = created_b[dup] + (rng.uniform(1, 200, dup.sum()) * DAY).astype(np.int64)
    person = np.concatenate([base, base[dup]])
    created = np.concatenate([created_b, created_d])
    is_dup = np.concatenate([np.zeros(n_b, bool), np.ones(dup.sum(), bool)])
    n = len(person)
    has_email_b = rng.random(n_b) < 0.75
    has_phone_b = (rng.random(n_b) < 0.65) & p.has_mobile[base]
    has_email_b |= ~has_phone_b | ~w.mobile_on_record[base]
    victim = base == p.planted["wrong_link_victim"]
    has_email_b |= victim
    has_phone_b |= victim
    # a duplicate shares at least one identifier with the first entry (rendered anew) -
    # except CRM_DUP_NO_SHARED_RATE of them, entered with neither (only the names, birth
    # date and address can tell: the probabilistic tier's job). Own stream from here on.
    nrng = stream(w.seed, "crm_noise")
    no_shared = is_dup & (nrng.random(n) < CRM_DUP_NO_SHARED_RATE)
    has_email = np.concatenate([has_email_b, has_email_b[dup]]) & ~no_shared
    has_phone = np.concatenate([has_phone_b, has_phone_b[dup]]) & ~no_shared
    loc, dom = w.email_parts(person, created)
    email = nz.render_email(rng, loc, dom, noise=1.2)
    junk_email = has_phone & w.mobile_on_record[person] & (rng.random(n) < 0.05)
    junk_email &= ~np.isin(person, list(p.planted.values()))
    email = pc.if_else(pa.array(junk_email), nz.take(pa.array(["n/a", "-", "keine@angabe.de"]),
                       rng.integers(0, 3, n)), email)  # fmt: skip
    email = pc.if_else(pa.array(has_email | junk_email), email, pa.scalar(None, pa.string()))
    phone = w.phone(rng, person, created, True)
    phone = pc.if_else(pa.array(has_phone), phone, pa.scalar(None, pa.string()))
    w.mobile_on_record[person[has_phone]] = True
    translit = np.where(is_dup, 0.5, 0.25)
    first = nz.render_name(rng, nz.take(w.first, person), nz.take(w.first_t, person),
                           translit_rate=0.0, typo_rate=0.03, upper_rate=0.04)  # fmt: skip
    last = nz.render_name(rng, nz.take(w.last, person), nz.take(w.last_t, person),
                          translit_rate=0.0, typo_rate=0.03, upper_rate=0.04)  # fmt: skip
    tl = rng.random(n) < translit
    first = pc.if_else(pa.array(tl), nz.take(w.first_t, person), first)
    last = pc.if_else(pa.array(tl), nz.take(w.last_t, person), last)
    swap = rng.random(n) < np.where(is_dup, 0.15, 0.02)
    # duplicates: one more typo in the last name now and then
    extra_typo = is_dup & (nrng.random(n) < CRM_DUP_TYPO_RATE)
    last = pc.if_else(pa.array(extra_typo), nz.render_name(nrng, last, last, translit_rate=0.0,
                      typo_rate=1.0), last)  # fmt: skip
    clean_first, clean_last = nz.take(w.first, person), nz.take(w.last, person)
    translit_first, translit_last = nz.take(w.first_t, person), nz.take(w.last_t, person)
    noise = {
        "crm_duplicate": is_dup.copy(),
        "crm_duplicate_no_shared_identifier": no_shared,
        "name_transliterated": _differs(first, clean_first) & ~_differs(first, translit_first)
        | _differs(last, clean_last) & ~_differs(last, translit_last),
        "name_typo": _typo(first, clean_first, translit_first)
        | _typo(last, clean_last, translit_last),
        "names_swapped": swap,
    }
    first, last = pc.if_else(pa.array(swap), last, first), pc.if_else(pa.array(swap), first, last)
    days = p.birth_days[person].copy()
    # duplicates: birth date with day and month swapped, or one digit off
    ymd = days.astype("datetime64[D]")
    year = ymd.astype("datetime64[Y]")
    month = (ymd.astype("datetime64[M]") - year).astype(np.int64) + 1
    day = (ymd - ymd.astype("datetime64[M]")).astype(np.int64) + 1
    r_birth = nrng.random(n)
    dm = is_dup & (r_birth < CRM_DUP_DAY_MONTH_SWAP_RATE) & (day <= 12) & (day != month)
    swapped_days = (year + (day - 1).astype("timedelta64[M]")).astype("datetime64[D]") + (
        month - 1
    ).astype("timedelta64[D]")
    days = np.where(dm, swapped_days.astype(np.int64), days)
    off = is_dup & ~dm & (r_birth > 1 - CRM_DUP_DIGIT_OFF_RATE)
    step = np.where(day % 10 == 9, -1, 1)  # the day's last digit moves by one
    days = np.where(off, days + step, days)
    noise["birth_date_day_month_swapped"] = dm
    noise["birth_date_digit_off"] = off
    birth = days.astype("datetime64[D]")
    has_birth = rng.random(n) < 0.92
    country = p.country_idx[person]
    hh = p.household[person]
    # duplicates: the person moved - the second entry has another household's address
    moved = is_dup & (nrng.random(n) < CRM_DUP_MOVED_RATE)
    hh = np.where(moved, (hh + 1 + nrng.integers(0, 1 << 20, n)) % (p.household.max() + 1), hh)
    noise["moved"] = moved
    noise["twin"] = p.twin_of[person] >= 0
    noise["namesake"] = p.namesake_of[person] >= 0
    related = np.where(p.twin_of[person] >= 0, p.twin_of[person], p.namesake_of[person])
    street = np.empty(n, dtype=object)
    city = np.empty(n, dtype=object)
    postal = np.empty(n, dtype=object)
    for ci, c in enumerate(COUNTRIES):
        sel = np.flatnonzero(country == ci)
        streets, cities = STREETS[str(c)], CITIES[str(c)]
        num = (hh[sel] % 140 + 1).astype(str)
        street[sel] = np.char.add(np.char.add(np.array(streets)[hh[sel] % len(streets)], " "), num)
        city[sel] = np.array(cities)[(hh[sel] // 7) % len(cities)]
        if c == "GB":
            postal[sel] = np.char.add("SW", ((hh[sel] % 19) + 1).astype(str))
            postal[sel] = np.char.add(postal[sel].astype(str), " 1AA")
        else:
            width = 5 if c in ("DE", "US") else 4
            code = 10 ** (width - 1) + (hh[sel] * 37) % (9 * 10 ** (width - 1))
            postal[sel] = code.astype(str)
    has_addr = rng.random(n) < 0.8
    agent_b = rng.integers(0, len(AGENTS), n_b)
    agent_d = (agent_b[dup] + rng.integers(1, len(AGENTS), dup.sum())) % len(AGENTS)
    seq = _sequence(created, person)
    null = pa.scalar(None, pa.string())
    cols = {
        "contact_id": nz.ids("CRM-", seq, 6),
        "email": email,
        "phone": phone,
        "first_name": first,
        "last_name": last,
        "birth_date": pa.array(birth, mask=~has_birth),
        "street": pc.if_else(pa.array(has_addr), pa.array(street, pa.string()), null),
        "postal_code": pc.if_else(pa.array(has_addr), pa.array(postal, pa.string()), null),
        "city": pc.if_else(pa.array(has_addr), pa.array(city, pa.string()), null),
        "country_code": nz.take(pa.array(COUNTRIES), country),
        "created_by": nz.take(pa.array(AGENTS), np.concatenate([agent_b, agent_d])),
        "created_at": _ts(created),
    }
    edit = created + (rng.exponential(300, n) * DAY).astype(np.int64)
    return TableRows("crm", "contacts", "contact_id", cols, created, person,
                     mutable={"created": created, "edit": edit}, noise=noise,
                     related_person=related)  # fmt: skip


def _differs(a: pa.Array, b: pa.Array) -> np.ndarray:
    """Per row: the rendered name differs from ``b`` (ignoring case)."""
    return pc.not_equal(pc.utf8_lower(a), pc.utf8_lower(b)).to_numpy(zero_copy_only=False)


def _typo(rendered: pa.Array, clean: pa.Array, translit: pa.Array) -> np.ndarray:
    """Per row: the rendered name is neither the name nor its transliteration."""
    return _differs(rendered, clean) & _differs(rendered, translit)


def snapshot_crm(t: TableRows, as_of: int) -> dict[str, pa.Array]:
    m = t.mutable
    upd = np.where(m["edit"] <= as_of, m["edit"], m["created"])
    email = t.columns["email"]
    fix = m.get("fix")
    if fix:  # the planted wrong e-mail, corrected by an agent at fix_at (scenario)
        row = np.zeros(len(upd), dtype=bool)
        row[fix["row"]] = True
        if as_of < fix["fix_at"]:
            email = pc.if_else(pa.array(row), fix["wrong_email"], email)
        else:
            upd[fix["row"]] = max(int(upd[fix["row"]]), fix["fix_at"])
    return {"updated_at": _ts(upd), "email": email}


# ================================================================== support


def support_table(w: World, mobile_on_record: np.ndarray) -> TableRows:
    p = w.p
    rng = stream(w.seed, "support")
    horizon = int(p.signup_at.max()) + DAY
    end = np.minimum(p.quiet_at, horizon)
    active_days = np.maximum(end - p.signup_at, 0) / DAY
    rate = np.where(p.kind == KIND_VISITOR, 0.0, p.engagement * active_days / 550.0)
    for i in p.planted.values():
        rate[i] = 0.0
    rate[p.planted["erasure"]] = 3.0
    count = np.minimum(rng.poisson(rate), 20)
    person = np.repeat(np.arange(p.n), count)
    n = len(person)
    opened = p.signup_at[person] + (rng.random(n) * (end - p.signup_at)[person]).astype(np.int64)
    opened = opened - opened % DAY + time_of_day(rng, n)
    opened = np.minimum(opened, horizon - 3600)
    ch = rng.choice(3, size=n, p=(0.55, 0.2, 0.25))  # email, chat, phone
    phone_known = mobile_on_record[person] & (
        (opened < p.phone_change_at[person]) | w.shop_phone[person]
    )
    ch = np.where((ch == 2) & ~phone_known, 0, ch)
    with_email = (ch != 2) | (rng.random(n) < 0.15)
    with_phone = (ch == 2) | ((rng.random(n) < 0.10) & phone_known)
    loc, dom = w.email_parts(person, opened)
    email = nz.render_email(rng, loc, dom, noise=1.0)
    junk_only = (ch != 2) & ~with_phone & (rng.random(n) < 0.005)
    email = pc.if_else(pa.array(junk_only), nz.take(pa.array(["n/a", "test@test.com"]),
                       rng.integers(0, 2, n)), email)  # fmt: skip
    phone = w.phone(rng, person, opened, False)
    phone = w.junk(rng, phone, 0.01, nz.JUNK_PHONES)
    null = pa.scalar(None, pa.string())
    # unhappy customers: tickets close to the dropout get lower scores
    near_drop = (p.dropout_at[person] - opened) < 60 * DAY
    score = np.clip(np.round(rng.normal(np.where(near_drop, 2.6, 4.1), 0.9)), 1, 5)
    seq = _sequence(opened, person)
    cols = {
        "ticket_id": nz.ids("T-", seq, 7),
        "requester_email": pc.if_else(pa.array(with_email), email, null),
        "requester_phone": pc.if_else(pa.array(with_phone), phone, null),
        "channel": nz.take(pa.array(["email", "chat", "phone"]), ch),
        "category": nz.take(pa.array(TICKET_CATEGORIES), rng.integers(0, 6, n)),
        "opened_at": _ts(opened),
    }
    resolved = opened + (rng.exponential(1.8, n) * DAY).astype(np.int64) + 600
    answered = rng.random(n) < 0.55
    return TableRows("support", "tickets", "ticket_id", cols, opened, person,
                     mutable={"resolved": resolved, "answered": answered,
                              "score": score.astype(np.int32)})  # fmt: skip


def snapshot_support(t: TableRows, as_of: int) -> dict[str, pa.Array]:
    m = t.mutable
    done = m["resolved"] <= as_of
    return {
        "resolved_at": _ts_or_null(m["resolved"], done),
        "satisfaction_score": pa.array(m["score"], mask=~(done & m["answered"])),
    }


# ================================================================== newsletter


def newsletter_tables(w: World) -> tuple[TableRows, TableRows]:
    p = w.p
    rng = stream(w.seed, "newsletter")
    horizon = int(p.signup_at.max()) + DAY
    base = np.flatnonzero(p.has_newsletter)
    nb = len(base)
    quick = p.channel_idx[base] == 3
    opted_in = p.signup_at[base] + np.where(
        quick, rng.integers(60, 3600, nb), (rng.exponential(60, nb) * DAY).astype(np.int64)
    )
    # after an e-mail change some people subscribe again with the new address
    resub = (p.email_change_at[base] < horizon) & (rng.random(nb) < 0.5)
    resub_at = p.email_change_at[base][resub] + (rng.exponential(10, resub.sum()) * DAY).astype(
        np.int64
    )
    person = np.concatenate([base, base[resub]])
    opted = np.concatenate([opted_in, resub_at])
    n = len(person)
    confirmed_ok = rng.random(n) < 0.88
    confirmed = opted + (rng.exponential(3, n) * 3600).astype(np.int64) + 30
    drop = p.quiet_at[person] < INF
    out_r = rng.random(n)
    opted_out = np.full(n, INF, dtype=np.int64)
    churn_out = confirmed_ok & drop & (out_r < 0.55)
    opted_out[churn_out] = (p.quiet_at[person] + (rng.exponential(40, n) * DAY).astype(np.int64))[
        churn_out
    ]
    random_out = confirmed_ok & ~churn_out & (out_r > 0.93)
    opted_out[random_out] = (confirmed + (rng.exponential(300, n) * DAY).astype(np.int64))[
        random_out
    ]
    # the first subscription of a re-subscriber ends when the new one starts
    old = np.flatnonzero(resub)
    opted_out[old] = np.minimum(opted_out[old], resub_at)
    opted_out = np.where(opted_out <= confirmed, confirmed + 3600, opted_out)
    opted_out = np.where(confirmed_ok, opted_out, INF)
    loc, dom = w.email_parts(person, opted)
    email = nz.render_email(rng, loc, dom, noise=1.0)
    email = w.junk(rng, email, 0.0, nz.JUNK_EMAILS)
    source = np.where(p.has_account[person] & (rng.random(n) < 0.4), 1,
                      rng.choice([0, 2, 3, 4], size=n, p=(0.5, 0.3, 0.1, 0.1)))  # fmt: skip
    seq = _sequence(opted, person)
    sub_id = nz.ids("NL", seq, 7)
    subscribers = TableRows(
        "newsletter",
        "subscribers",
        "subscriber_id",
        {
            "subscriber_id": sub_id,
            "email": email,
            "opted_in_at": _ts(opted),
            "signup_source": nz.take(pa.array(SIGNUP_SOURCES), source),
        },
        opted,
        person,
        mutable={"confirmed": confirmed, "confirmed_ok": confirmed_ok, "opted_out": opted_out},
    )

    # e-mail events: a campaign every 14 days, each to a segment (~13%) of the subscribers
    first_campaign = w.start + 10 * 3600
    n_campaigns = int((horizon - first_campaign) // (14 * DAY)) + 1
    camp_at = first_campaign + np.arange(n_campaigns) * 14 * DAY
    lo = np.searchsorted(camp_at, np.where(confirmed_ok, confirmed, INF))
    hi = np.searchsorted(camp_at, np.minimum(opted_out, horizon))
    avail = np.maximum(hi - lo, 0)
    k = rng.binomial(avail, 0.13)
    sub = np.repeat(np.arange(n), k)
    camp = lo[sub] + (rng.random(len(sub)) * avail[sub]).astype(np.int64)
    camp_key = np.unique(sub.astype(np.int64) * n_campaigns + camp)
    sub, camp = camp_key // n_campaigns, camp_key % n_campaigns
    sent = camp_at[camp] + rng.integers(0, 3600, len(sub))
    sp = person[sub]
    active = sent < p.quiet_at[sp]
    p_open = np.where(active, np.clip(0.25 * p.engagement[sp] + 0.1, 0, 0.8), 0.03)
    r = rng.random((3, len(sub)))
    bounce = r[0] < 0.01
    opened = ~bounce & (r[1] < p_open)
    clicked = opened & (r[2] < 0.3)
    open_at = sent + (rng.exponential(5, len(sub)) * 3600).astype(np.int64) + 60
    click_at = open_at + rng.integers(5, 300, len(sub))
    unsub = np.flatnonzero(opted_out < INF)
    unsub = unsub[rng.random(len(unsub)) < 0.7]
    ev_sub = np.concatenate([sub, sub[bounce], sub[opened], sub[clicked], unsub])
    ev_camp = np.concatenate([camp, camp[bounce], camp[opened], camp[clicked],
                              np.searchsorted(camp_at, opted_out[unsub]) - 1])  # fmt: skip
    ev_camp = np.maximum(ev_camp, 0)
    ev_type = np.concatenate([np.zeros(len(sub), int), np.full(bounce.sum(), 4),
                              np.ones(opened.sum(), int), np.full(clicked.sum(), 2),
                              np.full(len(unsub), 3)])  # fmt: skip
    ev_at = np.concatenate([sent, sent[bounce] + 30, open_at[opened], click_at[clicked],
                            opted_out[unsub]])  # fmt: skip
    dt = camp_at[ev_camp].astype("datetime64[s]")
    year = dt.astype("datetime64[Y]").astype(int) + 1970
    doy = (dt.astype("datetime64[D]") - dt.astype("datetime64[Y]")).astype(int)
    campaign = nz.fixed("CMP-", (year, 4), "-", (doy // 14 + 1, 2))
    eseq = _sequence(ev_at, ev_sub * 8 + ev_type)
    events = TableRows(
        "newsletter",
        "email_events",
        "event_id",
        {
            "event_id": nz.ids("EE", eseq, 9),
            "subscriber_id": nz.take(sub_id, ev_sub),
            "campaign_id": campaign,
            "event_type": nz.take(
                pa.array(["sent", "open", "click", "unsubscribe", "bounce"]), ev_type
            ),  # fmt: skip
            "occurred_at": _ts(ev_at),
        },
        ev_at,
        person[ev_sub],
    )
    w.campaign_times = camp_at
    return subscribers, events


def snapshot_subscribers(t: TableRows, as_of: int) -> dict[str, pa.Array]:
    m = t.mutable
    conf = m["confirmed_ok"] & (m["confirmed"] <= as_of)
    out = conf & (m["opted_out"] <= as_of)
    status = np.where(out, 2, np.where(conf, 1, 0))
    return {
        "status": nz.take(pa.array(["pending", "subscribed", "unsubscribed"]), status),
        "confirmed_at": _ts_or_null(m["confirmed"], conf),
        "opted_out_at": _ts_or_null(m["opted_out"], out),
    }


# ================================================================== sessions (app and web)


def _sessions(
    rng: np.random.Generator, p: People, who: np.ndarray, rate_per_day: float, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """Browsing sessions of ``who`` while they are active (a trickle after they go quiet)."""
    start = p.signup_at[who]
    end = np.minimum(p.quiet_at[who], horizon)
    active = np.maximum(end - start, 0) / DAY
    after = np.maximum(horizon - end, 0) / DAY
    k1 = rng.poisson(p.engagement[who] * active * rate_per_day)
    k2 = rng.poisson(p.engagement[who] * after * rate_per_day * 0.04)
    i1, i2 = np.repeat(np.arange(len(who)), k1), np.repeat(np.arange(len(who)), k2)
    t1 = start[i1] + (rng.random(len(i1)) * (end - start)[i1]).astype(np.int64)
    t2 = end[i2] + (rng.random(len(i2)) * (horizon - end)[i2]).astype(np.int64)
    person = np.concatenate([who[i1], who[i2]])
    t = np.concatenate([t1, t2])
    t = t - t % DAY + time_of_day(rng, len(t))
    return person, np.clip(t, p.signup_at[person] + 60, horizon - 7200)


def _expand_events(
    rng: np.random.Generator, n_events: np.ndarray, start: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events of sessions: (session index, position in session, time). Gaps between events
    are minutes (never 30 minutes or more, so 30-minute sessionisation recovers them)."""
    sess = np.repeat(np.arange(len(n_events)), n_events)
    pos = rank_in_group(sess, len(n_events)) - 1
    gap = np.minimum(rng.exponential(100.0, len(sess)), 25 * 60).astype(np.int64) + 5
    gap[pos == 0] = 0
    cum = np.cumsum(gap)
    first = np.concatenate(([0], np.cumsum(n_events)[:-1]))
    offset = cum - cum[first[sess]]
    return sess, pos, start[sess] + offset


# ================================================================== app


def app_tables(w: World) -> tuple[TableRows, TableRows, TableRows]:
    p = w.p
    rng = stream(w.seed, "app")
    horizon = int(p.signup_at.max()) + DAY
    users = np.flatnonzero(p.has_app)
    nu = len(users)
    created = p.signup_at[users] + (rng.exponential(60, nu) * DAY).astype(np.int64)
    created = np.minimum(created, horizon - DAY)
    login = nz.join(nz.take(w.first_a, users), ".",
                    pc.utf8_slice_codeunits(nz.take(w.last_a, users), 0, 1),
                    nz.digits(users, 1))  # fmt: skip
    loc, dom = w.email_parts(users, created)
    email = nz.render_email(rng, loc, dom, noise=0.8)
    user_rows = TableRows(
        "app",
        "users",
        "login_id",
        {"login_id": login, "email": email, "created_at": _ts(created)},
        created,
        users,
    )
    # devices: 1-2 per user; app-only visitors have a device that never logs in
    n_dev = 1 + (rng.random(nu) < 0.3)
    d_user = np.repeat(np.arange(nu), n_dev)
    d_pos = rank_in_group(d_user, nu) - 1
    d_first = created[d_user] + np.where(
        d_pos == 0, 0, (rng.random(len(d_user)) * (horizon - created[d_user]) * 0.8)
    ).astype(np.int64)
    anon = np.flatnonzero(p.kind == KIND_VISITOR)
    anon = anon[(anon % 4) == 0]  # a quarter of the visitors use the app only (see web)
    d_person = np.concatenate([users[d_user], anon])
    d_first = np.concatenate([d_first, p.signup_at[anon]])
    d_login = pa.concat_arrays([nz.take(login, d_user), pa.nulls(len(anon), pa.string())])
    nd = len(d_person)
    ios = rng.random(nd) < 0.55
    dev = nz.uuid_like(rng, nd)
    dev = pc.if_else(pa.array(ios), pc.utf8_upper(dev), dev)
    devices = TableRows(
        "app",
        "devices",
        "device_id",
        {
            "device_id": dev,
            "login_id": d_login,
            "platform": nz.take(pa.array(["android", "ios"]), ios.astype(np.int64)),
            "first_seen_at": _ts(d_first),
        },
        d_first,
        d_person,
    )
    # sessions: browsing + one per app order; events carry the device (case varies by SDK
    # version) and the login when logged in
    who = np.concatenate([users, anon])
    s_person, s_at = _sessions(rng, p, who, 1 / 150, horizon)
    o_person, o_at, o_channel, _, _ = w.orders_view
    app_order = o_channel == 1
    s_person = np.concatenate([s_person, o_person[app_order]])
    s_at = np.concatenate([s_at, o_at[app_order] - rng.integers(120, 1200, app_order.sum())])
    s_buy = np.concatenate([np.zeros(len(s_at) - app_order.sum(), bool), np.ones(app_order.sum(),
                            bool)])  # fmt: skip
    # the device: one of the person's devices already seen at that time
    dev_index = np.full(p.n, -1, dtype=np.int64)
    order = np.argsort(d_first, kind="stable")
    dev_first_of_person = np.full(p.n, -1, dtype=np.int64)
    dev_first_of_person[d_person[order[::-1]]] = order[::-1]
    dev_index[:] = dev_first_of_person
    # second device (if any and already seen): used half of the time
    second = np.full(p.n, -1, dtype=np.int64)
    is_second = d_pos == 1
    second[users[d_user[is_second]]] = np.flatnonzero(is_second)
    s_dev = dev_index[s_person]
    sec = second[s_person]
    use_sec = (sec >= 0) & (rng.random(len(s_person)) < 0.5)
    use_sec &= s_at >= d_first[np.where(sec >= 0, sec, 0)]
    s_dev = np.where(use_sec, sec, s_dev)
    s_at = np.maximum(s_at, d_first[s_dev] + 1)
    keep = s_at < horizon
    s_person, s_at, s_dev, s_buy = s_person[keep], s_at[keep], s_dev[keep], s_buy[keep]
    s_logged = (rng.random(len(s_person)) < 0.85) & p.has_app[s_person]
    n_ev = 1 + rng.poisson(1.0, len(s_person)) + 2 * s_buy
    sess, pos, ev_at = _expand_events(rng, n_ev, s_at)
    names = np.array(["app_open", "product_view", "search", "add_to_cart", "purchase"])
    kind = np.where(pos == 0, 0, rng.choice([1, 2], size=len(sess), p=(0.75, 0.25)))
    last = pos == n_ev[sess] - 1
    kind = np.where(s_buy[sess] & last, 4, np.where(s_buy[sess] & (pos == n_ev[sess] - 2), 3,
                                                    kind))  # fmt: skip
    ev_dev = nz.take(dev, s_dev[sess])
    flip = rng.random(len(sess)) < 0.2
    ev_dev = pc.if_else(pa.array(flip & ios[s_dev[sess]]), pc.utf8_lower(ev_dev),
                        pc.if_else(pa.array(flip), pc.utf8_upper(ev_dev), ev_dev))  # fmt: skip
    ev_login = pc.if_else(pa.array(s_logged[sess]), nz.take(d_login, s_dev[sess]),
                          pa.scalar(None, pa.string()))  # fmt: skip
    ev_person = s_person[sess]
    eseq = _sequence(ev_at, ev_person)
    events = TableRows(
        "app",
        "events",
        "event_id",
        {
            "event_id": nz.ids("AE", eseq, 9),
            "device_id": ev_dev,
            "login_id": ev_login,
            "event_name": nz.take(pa.array(names), kind),
            "occurred_at": _ts(ev_at),
        },
        ev_at,
        ev_person,
    )
    return user_rows, devices, events


# ================================================================== web


def web_table(w: World) -> TableRows:
    p = w.p
    rng = stream(w.seed, "web")
    horizon = int(p.signup_at.max()) + DAY
    acc = np.flatnonzero(p.has_account)
    vis = np.flatnonzero(p.kind == KIND_VISITOR)
    vis = vis[(vis % 4) != 0]  # the others are app-only visitors (see app_tables)
    # cookies: account holders have 1-3 (browsers/devices), visitors one
    n_ck = 1 + (rng.random(p.n) < 0.3) + (rng.random(p.n) < 0.08)
    ck_start = np.zeros((p.n, 3), dtype=np.int64)
    span = np.maximum(horizon - p.signup_at, DAY)
    ck_start[:, 0] = p.signup_at - 30 * DAY
    ck_start[:, 1] = p.signup_at + (rng.uniform(0.05, 0.8, p.n) * span).astype(np.int64)
    ck_start[:, 2] = p.signup_at + (rng.uniform(0.2, 0.95, p.n) * span).astype(np.int64)
    ck_start[:, 1:] = np.where(np.arange(1, 3) < n_ck[:, None], ck_start[:, 1:], INF)

    # sessions: (person, start, traffic kind, logged in, purchase)
    pre_n = rng.poisson(0.5, len(acc))
    pre_p = np.repeat(acc, pre_n)
    pre_t = p.signup_at[pre_p] - (rng.uniform(0.05, 30, len(pre_p)) * DAY).astype(np.int64)
    br_p, br_t = _sessions(rng, p, acc, 1 / 400, horizon)
    o_person, o_at, o_channel, o_guest, _ = w.orders_view
    web_order = (o_channel == 0) & p.has_account[o_person]
    bu_p = o_person[web_order]
    bu_t = o_at[web_order] - rng.integers(120, 1500, web_order.sum())
    vis_n = 1 + rng.poisson(1.5, len(vis))
    vi_p = np.repeat(vis, vis_n)
    vi_t = p.signup_at[vi_p] + (rng.random(len(vi_p)) * 60 * DAY).astype(np.int64)
    su_p = acc
    su_t = p.signup_at[acc] - 240
    s_person = np.concatenate([pre_p, su_p, br_p, bu_p, vi_p])
    s_at = np.concatenate([pre_t, su_t, br_t, bu_t, vi_t])
    s_kind = np.concatenate([np.full(len(pre_p), 0), np.full(len(su_p), 1),
                             np.full(len(br_p), 2), np.full(len(bu_p), 3),
                             np.full(len(vi_p), 4)])  # fmt: skip
    s_guest = np.concatenate([np.zeros(len(s_at) - len(vi_p) - len(bu_p), bool),
                              o_guest[web_order], np.zeros(len(vi_p), bool)])  # fmt: skip
    keep = s_at < horizon - 3600
    s_person, s_at, s_kind, s_guest = s_person[keep], s_at[keep], s_kind[keep], s_guest[keep]
    ns = len(s_person)
    # the cookie: pre-sign-up, sign-up and visitor sessions on the first cookie, others on any
    # cookie the person already had at that time
    started = (ck_start[s_person] <= s_at[:, None]).sum(axis=1)
    started = np.maximum(started, 1)
    s_ck = np.where(np.isin(s_kind, (0, 1, 4)), 0, (rng.random(ns) * started).astype(np.int64))
    post = s_kind >= 1
    s_logged = (
        (s_kind == 1) | ((s_kind == 2) & (rng.random(ns) < 0.55)) | ((s_kind == 3) & ~s_guest)
    )
    s_logged &= s_kind != 4
    # every cookie of an account holder logs in: its first session after the sign-up (so
    # each day's export already links the cookie, however early it is cut)
    ck_key = s_person.astype(np.int64) * 4 + s_ck
    post_key = np.where(post & (s_kind != 4), ck_key, -1)
    order = np.lexsort((s_at, post_key))
    first_of_cookie = np.zeros(ns, bool)
    ko = post_key[order]
    first_of_cookie[order[np.r_[True, ko[1:] != ko[:-1]]]] = True
    s_logged |= first_of_cookie & post & (s_kind != 4)
    # traffic source of the landing event
    n_ev = 1 + rng.poisson(np.where(s_kind == 3, 0.3, 0.9)) + (s_kind == 3) + (s_kind == 1)
    sess, pos, ev_at = _expand_events(rng, n_ev, s_at)
    ne = len(sess)
    src = np.where(np.isin(s_kind, (0, 1)), p.channel_idx[s_person],
                   rng.choice([-1, 0, 3, 99], size=ns, p=(0.4, 0.25, 0.15, 0.2)))  # fmt: skip
    src = np.where(src == 99, p.channel_idx[s_person], src)
    src = np.where((src == 3) & ~p.has_newsletter[s_person], -1, src)
    src = np.where(s_kind == 4, p.channel_idx[s_person], src)
    # UTM parameters and referrer per session (landing event only), from small lookups
    landing = pos == 0
    on_landing = pa.array(sess, mask=~landing)

    def per_session(options: list[tuple[str | None, ...]]) -> pa.Array:
        flat: list[str | None] = []
        base, cnt = [], []
        for opts in options:
            base.append(len(flat))
            cnt.append(len(opts))
            flat.extend(opts)
        ok = src >= 0
        ch = np.where(ok, src, 0)
        idx = np.asarray(base)[ch] + (rng.random(ns) * np.asarray(cnt)[ch]).astype(np.int64)
        return pa.array(flat, pa.string()).take(pa.array(idx, mask=~ok))

    utm = [UTM[str(c)] for c in CHANNELS]
    sess_source = per_session([u[0] for u in utm])
    sess_medium = per_session([(u[1],) for u in utm])
    sess_referrer = per_session([u[3] for u in utm])
    dt = s_at.astype("datetime64[s]")
    year = dt.astype("datetime64[Y]").astype(np.int64) + 1970
    quarter = dt.astype("datetime64[M]").astype(np.int64) % 12 // 3
    y0, n_years = int(year.min()), int(year.max() - year.min()) + 1
    names = [
        None if u[2] is None else f"{u[2]}_{y0 + y}q{q + 1}"
        for u in utm
        for y in range(n_years)
        for q in range(4)
    ]
    cidx = np.where(src >= 0, src, 0) * n_years * 4 + (year - y0) * 4 + quarter
    sess_campaign = pa.array(names, pa.string()).take(pa.array(cidx, mask=src < 0))
    utm_source = sess_source.take(on_landing)
    utm_medium = sess_medium.take(on_landing)
    utm_campaign = sess_campaign.take(on_landing)
    referrer = sess_referrer.take(on_landing)
    s_logged_ev = s_logged[sess] & ~((s_kind[sess] == 1) & (pos == 0))
    etype = np.where(pos == 0, 0, rng.choice([0, 1], size=ne, p=(0.4, 0.6)))
    last = pos == n_ev[sess] - 1
    buy = s_kind[sess] == 3
    etype = np.where(buy & last, 4, np.where(buy & (pos > 0) & (pos == n_ev[sess] - 2), 2, etype))
    etype = np.where((s_kind[sess] == 1) & (pos == 1), 3, etype)
    page_kind = np.where(etype == 0, rng.integers(0, 3, ne), 3 + etype)
    # static pages: /, /sale, /cart, /login, /checkout, then one per category
    static = pa.array(["/", "/sale", "/cart", "/login", "/checkout"]
                      + [f"/c/{c}" for c in CATEGORIES])  # fmt: skip
    static_idx = np.array([0, 5, 1, 0, 0, 2, 3, 4])[page_kind]
    static_idx = np.where(page_kind == 1, 5 + rng.integers(0, len(CATEGORIES), ne), static_idx)
    sku = rng.integers(0, 7, ne) * 1000 + rng.zipf(1.6, ne) % 400
    url = pc.if_else(pa.array(np.isin(page_kind, (3, 4))), nz.fixed("/p/SKU-", (sku, 5)),
                     static.take(pa.array(static_idx)))  # fmt: skip
    # cookie ids: GA-style "<random>.<first seen epoch>", unique by construction
    ck_global = s_person[sess].astype(np.int64) * 3 + s_ck[sess]
    rand_part = (ck_global * 2_654_435_761 + 12_345) % 9_000_000_000 + 1_000_000_000
    first_seen = np.where(s_ck[sess] == 0, p.signup_at[s_person[sess]] - 30 * DAY,
                          ck_start[s_person[sess], s_ck[sess]])  # fmt: skip
    cookie = nz.fixed((rand_part, 10), ".", (first_seen, 10))
    user = pc.if_else(pa.array(s_logged_ev), nz.take(nz.ids("SC", w.shop_customer_seq, 7),
                      s_person[sess]), pa.scalar(None, pa.string()))  # fmt: skip
    ev_person = s_person[sess]
    eseq = _sequence(ev_at, ev_person)
    return TableRows(
        "web",
        "events",
        "event_id",
        {
            "event_id": nz.ids("WE", eseq, 10),
            "cookie_id": cookie,
            "user_id": user,
            "event_type": nz.take(
                pa.array(["page_view", "product_view", "add_to_cart", "login", "checkout"]), etype
            ),  # fmt: skip
            "page_url": url,
            "referrer": referrer,
            "utm_source": utm_source,
            "utm_medium": utm_medium,
            "utm_campaign": utm_campaign,
            "occurred_at": _ts(ev_at),
        },
        ev_at,
        ev_person,
    )
