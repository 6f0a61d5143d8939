"""The simulated world: people, households and their behaviour over time (vectorised), and
``World``, the person-level identifiers (names, e-mails, phones) every table builder renders.

Times are int64 seconds since the Unix epoch (UTC). The world is simulated once up to
the end of the scenario horizon; a day-K export is a snapshot of it (see tables.py), so
every day's export comes from the same world and record keys stay stable across days.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from customer360.generate import noise as nz

DAY = 86_400
HISTORY_DAYS = 3 * 365
MAX_SCENARIO_DAY = 14
NEW_PEOPLE_PER_DAY = 0.0015  # arrivals per scenario day, as a share of ``people``

COUNTRIES = np.array(["DE", "AT", "CH", "GB", "US"])
COUNTRY_P = np.array([0.52, 0.12, 0.10, 0.14, 0.12])

CHANNELS = np.array(
    ["organic_search", "paid_search", "social", "email", "referral", "affiliate", "offline_store"]
)
CHANNEL_P = np.array([0.24, 0.18, 0.15, 0.07, 0.09, 0.09, 0.18])
# channel quality: multiplier on purchase rate, on dropout probability, on spend
CHANNEL_RATE = np.array([1.10, 0.95, 0.80, 1.25, 1.30, 0.70, 1.05])
CHANNEL_DROPOUT = np.array([0.95, 1.15, 1.45, 0.75, 0.70, 1.60, 0.85])
CHANNEL_SPEND = np.array([1.00, 0.95, 0.85, 1.10, 1.15, 0.80, 1.05])

KIND_CUSTOMER, KIND_VISITOR = 0, 1

# the last persons of the base population are planted for the evolving scenario
PLANTED = ("bridge", "wrong_link_owner", "wrong_link_victim", "erasure")


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent random stream per component: changing one part of the generator
    does not shift the random numbers of the others."""
    return np.random.default_rng([seed, *name.encode()])


def season_factor(t: np.ndarray) -> np.ndarray:
    """Relative purchase intensity at time t: Q4/Christmas peak and a weekly pattern."""
    days = t // DAY
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    week_w = np.array([0.92, 0.90, 0.95, 1.00, 1.08, 1.20, 0.95])[weekday]
    doy = (days % 365.25).astype(np.float64)  # close enough for a seasonal curve
    xmas = 1.3 * np.exp(-(((doy - 350.0) / 15.0) ** 2))
    black_friday = 0.5 * np.exp(-(((doy - 330.0) / 4.0) ** 2))
    summer_dip = -0.12 * np.exp(-(((doy - 200.0) / 30.0) ** 2))
    return week_w * (1.0 + xmas + black_friday + summer_dip)


SEASON_MAX = float(season_factor(np.arange(0, 4 * 366 * DAY, 3600)).max()) * 1.001


def time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds into the day, busier in the evening."""
    hours = np.array([0.5, 0.3, 0.2, 0.2, 0.2, 0.4, 1, 2, 3, 4, 5, 5.5, 6, 5.5, 5, 5, 5.5, 6, 7,
                      8, 8.5, 7, 4, 1.5])  # fmt: skip
    h = rng.choice(24, size=n, p=hours / hours.sum())
    return h * 3600 + rng.integers(0, 3600, n)


def group_starts(group: np.ndarray, n_groups: int) -> np.ndarray:
    """Index of the first row of every group in a group-sorted array."""
    counts = np.bincount(group, minlength=n_groups)
    return np.concatenate(([0], np.cumsum(counts)[:-1]))


def rank_in_group(group: np.ndarray, n_groups: int) -> np.ndarray:
    """1-based position of each row inside its group (array sorted by group)."""
    return np.arange(len(group)) - group_starts(group, n_groups)[group] + 1


@dataclass
class People:
    n: int
    n_base: int
    kind: np.ndarray
    household: np.ndarray
    country_idx: np.ndarray
    channel_idx: np.ndarray
    signup_at: np.ndarray
    first_name_idx: np.ndarray
    last_name_idx: np.ndarray
    birth_days: np.ndarray  # days since epoch
    is_en: np.ndarray  # English name lists
    email_domain_idx: np.ndarray
    alt_domain_idx: np.ndarray
    has_account: np.ndarray
    has_loyalty: np.ndarray
    is_guest_buyer: np.ndarray
    has_app: np.ndarray
    has_newsletter: np.ndarray
    has_crm: np.ndarray
    crm_duplicate: np.ndarray
    has_mobile: np.ndarray
    household_landline: np.ndarray  # landline shared by the household is on loyalty records
    family_email: np.ndarray  # shop account uses the household's shared e-mail
    lam: np.ndarray  # purchases per day while active
    p_drop: np.ndarray
    spend_mean: np.ndarray
    p_store: np.ndarray
    p_app_order: np.ndarray
    engagement: np.ndarray
    email_change_at: np.ndarray  # int64, INF if never
    phone_change_at: np.ndarray
    dropout_at: np.ndarray  # int64, INF if still alive at the horizon
    quiet_at: np.ndarray  # all activity fades after this time
    planted: dict[str, int]
    # people who must stay apart although a name/birth-date/address matcher is tempted:
    # twin_of = the twin (same household, last name and birth date, other first name),
    # namesake_of = the namesake (same household, first and last name, other birth date)
    twin_of: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    namesake_of: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


INF = np.iinfo(np.int64).max // 4


def make_people(seed: int, people: int, as_of0: int) -> People:
    rng = stream(seed, "people")
    n_new = int(round(people * NEW_PEOPLE_PER_DAY * MAX_SCENARIO_DAY))
    n = people + n_new
    start = as_of0 - HISTORY_DAYS * DAY
    horizon = as_of0 + MAX_SCENARIO_DAY * DAY

    # households: consecutive base persons; arrivals are single households
    sizes = rng.choice([1, 2, 3, 4], size=people, p=[0.55, 0.25, 0.12, 0.08])
    hh_of_base = np.repeat(np.arange(people), sizes)[:people]
    household = np.concatenate([hh_of_base, hh_of_base.max() + 1 + np.arange(n_new)])
    planted_idx = {name: people - len(PLANTED) + i for i, name in enumerate(PLANTED)}
    for i, idx in enumerate(planted_idx.values()):
        household[idx] = household.max() + 1 + i
    _, household = np.unique(household, return_inverse=True)
    n_hh = int(household.max()) + 1
    hh_size = np.bincount(household, minlength=n_hh)

    hh_country = rng.choice(len(COUNTRIES), size=n_hh, p=COUNTRY_P)
    country_idx = hh_country[household]
    is_en = np.isin(country_idx, (3, 4))
    hh_last = rng.integers(0, 1 << 30, n_hh)
    own_last = rng.random(n) < 0.2
    last_draw = np.where(own_last, rng.integers(0, 1 << 30, n), hh_last[household])
    first_name_idx = rng.integers(0, 1 << 30, n)  # reduced modulo the list length later
    last_name_idx = last_draw

    kind = np.where(rng.random(n) < 0.08, KIND_VISITOR, KIND_CUSTOMER)
    channel_idx = rng.choice(len(CHANNELS), size=n, p=CHANNEL_P)
    # sign-ups grow over time (more recent people); arrivals during the scenario days
    u = rng.random(n)
    signup = start + (u**0.75 * (as_of0 - start - DAY)).astype(np.int64)
    signup[people:] = as_of0 + (rng.random(n_new) * (horizon - as_of0 - 3600)).astype(np.int64)
    signup = signup - signup % DAY + time_of_day(rng, n)
    birth_days = (as_of0 // DAY) - (rng.normal(40, 13, n).clip(18, 90) * 365.25).astype(np.int64)

    cust = kind == KIND_CUSTOMER
    has_account = cust & (rng.random(n) < 0.60)
    has_loyalty = cust & (rng.random(n) < np.where(channel_idx == 6, 0.75, 0.28))
    is_guest_buyer = cust & ~has_account & (rng.random(n) < 0.55)
    has_app = has_account & (rng.random(n) < 0.35)
    has_newsletter = cust & (rng.random(n) < np.where(channel_idx == 3, 0.9, 0.40))
    has_crm = cust & (rng.random(n) < 0.22)
    crm_duplicate = has_crm & (rng.random(n) < 0.07)
    nothing = cust & ~(has_account | has_loyalty | is_guest_buyer | has_newsletter | has_crm)
    has_newsletter |= nothing
    has_mobile = rng.random(n) < 0.85

    # shared household landline: only on loyalty members, only where >= 2 members are
    # loyalty members (so the landline shows up on two loyalty numbers: guardable)
    hh_has_landline = rng.random(n_hh) < 0.6
    loyal_per_hh = np.bincount(household, weights=has_loyalty, minlength=n_hh)
    household_landline = has_loyalty & hh_has_landline[household] & (loyal_per_hh[household] >= 2)
    # family e-mail: >= 2 account holders of one household log in with one shared address
    acc_per_hh = np.bincount(household, weights=has_account, minlength=n_hh)
    hh_family = (rng.random(n_hh) < 0.10) & (hh_size >= 2)
    family_email = has_account & hh_family[household] & (acc_per_hh[household] >= 2)
    family_email &= has_mobile

    email_domain_idx = rng.random(n)
    alt_domain_idx = rng.random(n)

    # behaviour: BG/NBD-like
    can_buy = has_account | has_loyalty | is_guest_buyer
    lam = rng.gamma(0.9, 1.0 / 0.9, n) / 70.0 * CHANNEL_RATE[channel_idx]
    lam = np.where(can_buy, lam, 0.0)
    p_drop = np.clip(rng.beta(1.3, 6.0, n) * CHANNEL_DROPOUT[channel_idx], 0.005, 0.95)
    spend_mean = rng.gamma(6.0, 1.0, n) / 6.0 * 65.0 * CHANNEL_SPEND[channel_idx]
    online = has_account | is_guest_buyer
    p_store = np.where(has_loyalty & online, rng.beta(2, 2, n), np.where(has_loyalty, 1.0, 0.0))
    p_app_order = np.where(has_app, rng.uniform(0.2, 0.7, n), 0.0)
    engagement = rng.gamma(2.0, 0.5, n)

    # identifier changes: e-mail changes only for account holders (the account links old
    # and new), phone changes only for people with an e-mail on their phone records
    change = rng.random(n)
    email_change_at = np.full(n, INF, dtype=np.int64)
    phone_change_at = np.full(n, INF, dtype=np.int64)
    ec = has_account & ~family_email & (change < 0.08)
    pcm = has_mobile & ~ec & (change > 0.95)
    span = np.maximum(horizon - signup, DAY)
    email_change_at[ec] = signup[ec] + (rng.uniform(0.3, 1.0, n)[ec] * span[ec]).astype(np.int64)
    phone_change_at[pcm] = signup[pcm] + (rng.uniform(0.2, 1.0, n)[pcm] * span[pcm]).astype(
        np.int64
    )

    p = People(
        n=n,
        n_base=people,
        kind=kind,
        household=household,
        country_idx=country_idx,
        channel_idx=channel_idx,
        signup_at=signup,
        first_name_idx=first_name_idx,
        last_name_idx=last_name_idx,
        birth_days=birth_days,
        is_en=is_en,
        email_domain_idx=email_domain_idx,
        alt_domain_idx=alt_domain_idx,
        has_account=has_account,
        has_loyalty=has_loyalty,
        is_guest_buyer=is_guest_buyer,
        has_app=has_app,
        has_newsletter=has_newsletter,
        has_crm=has_crm,
        crm_duplicate=crm_duplicate,
        has_mobile=has_mobile,
        household_landline=household_landline,
        family_email=family_email,
        lam=lam,
        p_drop=p_drop,
        spend_mean=spend_mean,
        p_store=p_store,
        p_app_order=p_app_order,
        engagement=engagement,
        email_change_at=email_change_at,
        phone_change_at=phone_change_at,
        dropout_at=np.full(n, INF, dtype=np.int64),
        quiet_at=np.full(n, INF, dtype=np.int64),
        planted=planted_idx,
    )
    _plant(p, start, as_of0)
    _twins_and_namesakes(seed, p, as_of0)
    return p


# shares of the households with at least two people (and no planted person) that hold a
# pair of twins / of namesakes; both have a CRM contact at the household's address
TWIN_HOUSEHOLD_RATE = 0.02
NAMESAKE_HOUSEHOLD_RATE = 0.015


def _twins_and_namesakes(seed: int, p: People, as_of0: int) -> None:
    """The first two members of some households become twins (same birth date and last
    name, different first names) or namesakes (same first and last name, a generation
    apart, e.g. father and son); both get a CRM contact. Own random stream: the rest of
    the world is unchanged."""
    rng = stream(seed, "twins")
    p.twin_of = np.full(p.n, -1, dtype=np.int64)
    p.namesake_of = np.full(p.n, -1, dtype=np.int64)
    base = np.arange(p.n_base)
    first_idx = np.flatnonzero(np.r_[True, p.household[base][1:] != p.household[base][:-1]])
    has_second = first_idx + 1 < p.n_base
    a = first_idx[has_second]
    a = a[p.household[a + 1] == p.household[a]]
    planted = np.array(list(p.planted.values()))
    a = a[~np.isin(a, planted) & ~np.isin(a + 1, planted)]
    u = rng.random(len(a))
    twins = a[u < TWIN_HOUSEHOLD_RATE]
    names = a[(u >= TWIN_HOUSEHOLD_RATE) & (u < TWIN_HOUSEHOLD_RATE + NAMESAKE_HOUSEHOLD_RATE)]
    for pair_a in (twins, names):
        b = pair_a + 1
        for arr in (p.kind,):
            arr[pair_a] = KIND_CUSTOMER
            arr[b] = KIND_CUSTOMER
        p.has_crm[pair_a] = True
        p.has_crm[b] = True
        p.crm_duplicate[pair_a] = False
        p.crm_duplicate[b] = False
        p.last_name_idx[b] = p.last_name_idx[pair_a]
    tb = twins + 1
    p.birth_days[tb] = p.birth_days[twins]
    p.first_name_idx[tb] = p.first_name_idx[twins] + 1  # neighbours in the list differ
    nb = names + 1
    p.first_name_idx[nb] = p.first_name_idx[names]
    gap = ((25 + rng.random(len(names)) * 10) * 365.25).astype(np.int64)
    youngest = as_of0 // DAY - 18 * 365
    older = p.birth_days[names] - gap
    younger = p.birth_days[names] + gap
    p.birth_days[nb] = np.where(younger <= youngest, younger, older)
    p.twin_of[twins], p.twin_of[tb] = tb, twins
    p.namesake_of[names], p.namesake_of[nb] = nb, names


def _plant(p: People, start: int, as_of0: int) -> None:
    """Force the attributes the planted scenario events rely on (see scenario.py)."""
    early = start + 120 * DAY
    for name, i in p.planted.items():
        p.kind[i] = KIND_CUSTOMER
        p.signup_at[i] = early + i % 7 * DAY + 11 * 3600
        # few records: a planted wrong link or missing bridge costs few pairs in scoring
        p.lam[i] = 1 / 20 if name == "erasure" else 1 / 300
        p.engagement[i] = 1.0 if name == "erasure" else 0.1
        p.p_drop[i] = 0.005
        p.has_mobile[i] = True
        p.email_change_at[i] = INF
        p.phone_change_at[i] = INF
        p.household_landline[i] = False
        p.family_email[i] = False
        p.crm_duplicate[i] = False
        p.country_idx[i] = 0
        p.is_en[i] = False
        flags = {
            # two histories (shop account / loyalty) with nothing in common until day 2
            "bridge": dict(acc=True, loy=True, guest=False, app=False, nl=False, crm=False),
            # owns the e-mail an agent wrongly typed into the victim's CRM contact
            "wrong_link_owner": dict(acc=True, loy=False, guest=False, app=False, nl=True,
                                     crm=False),
            "wrong_link_victim": dict(acc=False, loy=True, guest=False, app=False, nl=False,
                                      crm=True),
            "erasure": dict(acc=True, loy=True, guest=False, app=True, nl=True, crm=True),
        }[name]  # fmt: skip
        p.has_account[i] = flags["acc"]
        p.has_loyalty[i] = flags["loy"]
        p.is_guest_buyer[i] = flags["guest"]
        p.has_app[i] = flags["app"]
        p.has_newsletter[i] = flags["nl"]
        p.has_crm[i] = flags["crm"]
        p.p_store[i] = 0.5 if flags["loy"] and flags["acc"] else (1.0 if flags["loy"] else 0.0)
        p.p_app_order[i] = 0.3 if flags["app"] else 0.0
    # the agent confused two customers of the same name: a name check cannot tell them apart
    owner, victim = p.planted["wrong_link_owner"], p.planted["wrong_link_victim"]
    p.first_name_idx[victim] = p.first_name_idx[owner]
    p.last_name_idx[victim] = p.last_name_idx[owner]


@dataclass
class Purchases:
    person: np.ndarray
    at: np.ndarray
    amount: np.ndarray  # in EUR-equivalent before currency conversion
    channel: np.ndarray  # 0 web, 1 app, 2 store
    guest: np.ndarray  # online order placed without logging in


def simulate_purchases(seed: int, p: People, horizon: int) -> Purchases:
    """BG/NBD-like buying: Poisson purchases at a personal rate, modulated by seasonality;
    after each purchase the person drops out for good with personal probability p.

    Vectorised by a time change: in "operational time" (the cumulative seasonal intensity)
    the process is homogeneous, so each person's purchases are cumulative exponential gaps,
    generated only up to their dropout (a geometric number) or a high quantile of what fits
    before the horizon, and mapped back to calendar time."""
    rng = stream(seed, "purchases")
    grid = np.arange(int(p.signup_at.min()) - DAY, horizon + 2 * 3600, 3600, dtype=np.int64)
    op = np.concatenate(([0.0], np.cumsum(season_factor(grid[:-1]) / 24.0)))  # in days
    u0 = np.interp(p.signup_at, grid, op)
    expected = p.lam * np.maximum(np.interp(horizon, grid, op) - u0, 0.0)
    k_max = rng.geometric(p.p_drop)  # number of purchases before dropping out
    cap = np.ceil(expected + 6.0 * np.sqrt(expected) + 6.0).astype(np.int64)
    n_gen = np.where(p.lam > 0, np.minimum(k_max, cap), 0)
    person = np.repeat(np.arange(p.n), n_gen)
    gaps = rng.exponential(1.0, len(person)) / p.lam[person]
    csum = np.cumsum(gaps)
    first = np.concatenate(([0], np.cumsum(n_gen)[:-1]))
    before = (csum - gaps)[first[person]]  # cumulative sum before the person's first gap
    u = u0[person] + csum - before
    at = np.interp(u, op, grid).astype(np.int64)
    at = at - at % DAY + time_of_day(rng, len(at))
    at = np.maximum(at, p.signup_at[person] + 600)
    keep = at < horizon
    person, at = person[keep], at[keep]
    order = np.lexsort((at, person))
    person, at = person[order], at[order]
    count = np.bincount(person, minlength=p.n)
    dropped_now = (count == k_max) & (count > 0)
    last_at = np.zeros(p.n, dtype=np.int64)
    has = count > 0
    last_at[has] = at[np.cumsum(count)[has] - 1]  # sorted by person, then time
    p.dropout_at[dropped_now] = last_at[dropped_now]
    # engagement fades a little after the dropout (a last look, then silence)
    quiet = p.dropout_at.copy()
    dropped = quiet < INF
    quiet[dropped] += (rng.exponential(10.0, dropped.sum()) * DAY).astype(np.int64)
    # non-buyers: engagement lasts an exponential time after sign-up
    nonbuyer = p.lam == 0
    quiet[nonbuyer] = p.signup_at[nonbuyer] + (rng.exponential(400.0, nonbuyer.sum()) * DAY).astype(
        np.int64
    )
    p.quiet_at[:] = quiet

    m = len(person)
    amount = rng.gamma(4.0, 1.0, m) / 4.0 * p.spend_mean[person]
    amount = np.maximum(amount, 4.0)
    r = rng.random((3, m))
    channel = np.where(r[0] < p.p_store[person], 2, np.where(r[1] < p.p_app_order[person], 1, 0))
    guest = ~p.has_account[person] | (r[2] < 0.08)
    return Purchases(person, at, amount, channel, guest & (channel != 2))


# ================================================================== World


class World:
    """Person-level identifiers and the helpers every table builder uses."""

    def __init__(self, seed: int, people: People, purchases: Purchases, as_of0: int) -> None:
        self.seed = seed
        self.p = people
        self.buy = purchases
        self.as_of0 = as_of0
        self.start = as_of0 - 3 * 365 * DAY
        self._names()
        self._emails()
        self._phones()
        self._email_changes()
        self.loyalty_digits = np.array([], dtype=np.int64)
        self.mobile_on_record = np.zeros(people.n, dtype=bool)
        self.shop_phone = np.zeros(people.n, dtype=bool)

    def _email_changes(self) -> None:
        """An e-mail change happens after the person's first logged-in online order, so that
        the shop account links the old and the new address (orders carry both the account
        and the e-mail used at the time). Without such an order there is no change."""
        p, b = self.p, self.buy
        rng = stream(self.seed, "email_change")
        logged = (b.channel != 2) & ~b.guest
        first = np.full(p.n, INF, dtype=np.int64)
        np.minimum.at(first, b.person[logged], b.at[logged])
        horizon = int(p.signup_at.max()) + DAY
        wants = p.email_change_at < INF
        ok = wants & (first < horizon)
        change = first + 3600 + (rng.random(p.n) * np.maximum(horizon - first, 0)).astype(np.int64)
        p.email_change_at[:] = np.where(ok, change, INF)

    # -------------------------------------------------------------- identities
    def _names(self) -> None:
        p = self.p
        fde, fde_t, fde_a = nz.name_table(nz.FIRST_NAMES_DE)
        lde, lde_t, lde_a = nz.name_table(nz.LAST_NAMES_DE)
        fen, fen_t, fen_a = nz.name_table(nz.FIRST_NAMES_EN)
        len_, len_t, len_a = nz.name_table(nz.LAST_NAMES_EN)
        fi_de = p.first_name_idx % len(fde)
        fi_en = p.first_name_idx % len(fen)
        li_de = p.last_name_idx % len(lde)
        li_en = p.last_name_idx % len(len_)
        en = pa.array(p.is_en)

        def pick(de: pa.Array, eng: pa.Array, i_de: np.ndarray, i_en: np.ndarray) -> pa.Array:
            return pc.if_else(en, nz.take(eng, i_en), nz.take(de, i_de))

        self.first = pick(fde, fen, fi_de, fi_en)
        self.first_t = pick(fde_t, fen_t, fi_de, fi_en)
        self.first_a = pick(fde_a, fen_a, fi_de, fi_en)
        self.last = pick(lde, len_, li_de, li_en)
        self.last_t = pick(lde_t, len_t, li_de, li_en)
        self.last_a = pick(lde_a, len_a, li_de, li_en)

    def _domains(self, u: np.ndarray) -> pa.Array:
        """An e-mail domain per person, by country (index arithmetic, one take)."""
        names: list[str] = []
        idx = np.zeros(len(u), dtype=np.int64)
        for ci, country in enumerate(COUNTRIES):
            sel = self.p.country_idx == ci
            doms, probs = zip(*nz.EMAIL_DOMAINS[str(country)], strict=True)
            cum = np.cumsum(probs)
            idx[sel] = len(names) + np.searchsorted(cum, u[sel] * cum[-1])
            names.extend(doms)
        return nz.take(pa.array(names), idx)

    def _emails(self) -> None:
        p = self.p
        rng = stream(self.seed, "emails")
        pid = nz.digits(np.arange(p.n), 1)
        sep = nz.choose(rng.integers(0, 3, p.n), ".", "_", "")
        self.e0_local = nz.join(self.first_a, sep, self.last_a, pid)
        self.e0_domain = self._domains(p.email_domain_idx)
        self.e1_local = nz.join(pc.utf8_slice_codeunits(self.first_a, 0, 1), self.last_a, ".",
                                nz.digits(np.arange(p.n) * 7 + 3, 1))  # fmt: skip
        self.e1_domain = self._domains(p.alt_domain_idx)
        hh = nz.digits(p.household, 1)
        fam_prefix = pc.if_else(pa.array(p.is_en), "the", "familie.")
        _, first_member = np.unique(p.household, return_index=True)
        head = first_member[p.household]
        self.fam_local = nz.take(nz.join(fam_prefix, self.last_a, hh), head)
        self.fam_domain = nz.take(self.e0_domain, head)

    def email_parts(self, person: np.ndarray, at: np.ndarray, family: np.ndarray | None = None):
        """(local, domain) of the e-mail a person used at time ``at``."""
        changed = pa.array(at >= self.p.email_change_at[person])
        local = pc.if_else(changed, nz.take(self.e1_local, person), nz.take(self.e0_local, person))
        domain = pc.if_else(
            changed, nz.take(self.e1_domain, person), nz.take(self.e0_domain, person)
        )
        if family is not None:
            fam = pa.array(family)
            local = pc.if_else(fam, nz.take(self.fam_local, person), local)
            domain = pc.if_else(fam, nz.take(self.fam_domain, person), domain)
        return local, domain

    def _phones(self) -> None:
        """Mobile (and a second mobile after a change) per person, landline per household:
        numbers unique by construction (see noise.phone_subscriber)."""
        p = self.p
        rng = stream(self.seed, "phones")
        plans = [nz.PHONE_PLAN[str(c)] for c in COUNTRIES]
        ci = p.country_idx

        def flat(lists: list[tuple[str, ...]]) -> tuple[pa.Array, np.ndarray, np.ndarray]:
            values = [v for lst in lists for v in lst]
            counts = np.array([len(lst) for lst in lists])
            return pa.array(values), np.concatenate(([0], np.cumsum(counts)[:-1])), counts

        mob, mob_base, mob_n = flat([pl[2] for pl in plans])
        land, land_base, land_n = flat([pl[4] for pl in plans])
        mob_digits = np.array([pl[3] for pl in plans])[ci]
        land_digits = np.array([pl[5] for pl in plans])[ci]
        r = rng.integers(0, 1 << 30, (2, p.n))
        self.ph_cc = nz.take(pa.array([pl[0] for pl in plans]), ci)
        self.ph_trunk = nz.take(pa.array([pl[1] for pl in plans]), ci)
        self.mob_area = nz.take(mob, mob_base[ci] + r[0] % mob_n[ci])
        self.mob2_area = nz.take(mob, mob_base[ci] + r[1] % mob_n[ci])
        self.land_area = nz.take(land, land_base[ci] + p.household % land_n[ci])
        people = np.arange(p.n)
        self.mob_sub = nz.digits(nz.phone_subscriber(people, mob_digits, 1_234), 1)
        self.mob2_sub = nz.digits(nz.phone_subscriber(people + p.n, mob_digits, 1_234), 1)
        self.land_sub = nz.digits(nz.phone_subscriber(p.household, land_digits, 4_321), 1)

    def phone(
        self,
        rng: np.random.Generator,
        person: np.ndarray,
        at: np.ndarray,
        allow_national: np.ndarray | bool,
        landline: np.ndarray | None = None,
    ) -> pa.Array:
        """The phone a person gave at ``at`` (new mobile after a change), rendered."""
        changed = pa.array(at >= self.p.phone_change_at[person])
        area = pc.if_else(changed, nz.take(self.mob2_area, person), nz.take(self.mob_area, person))
        sub = pc.if_else(changed, nz.take(self.mob2_sub, person), nz.take(self.mob_sub, person))
        if landline is not None:
            land = pa.array(landline)
            area = pc.if_else(land, nz.take(self.land_area, person), area)
            sub = pc.if_else(land, nz.take(self.land_sub, person), sub)
        allow = np.broadcast_to(np.asarray(allow_national, dtype=bool), len(person))
        # a DE number can be written nationally anywhere (DE is the default country)
        allow = allow | (self.p.country_idx[person] == 0)
        text, _ = nz.render_phone(
            rng,
            nz.take(self.ph_cc, person),
            nz.take(self.ph_trunk, person),
            area,
            sub,
            allow,
        )
        return text

    def junk(self, rng: np.random.Generator, values: pa.Array, rate: float, pool) -> pa.Array:
        n = len(values)
        mask = rng.random(n) < rate
        junk = nz.take(pa.array(pool), rng.integers(0, len(pool), n))
        return pc.if_else(pa.array(mask), junk, values)

    def currency(self, rng: np.random.Generator, person: np.ndarray) -> np.ndarray:
        c = self.p.country_idx[person]
        cur = np.zeros(len(person), dtype=np.int64)  # EUR
        cur[c == 4] = 1
        cur[c == 3] = 2
        cur[(c == 2) & (rng.random(len(person)) < 0.8)] = 3
        return cur
