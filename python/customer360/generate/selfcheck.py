"""Self-check of the generator's noise: how well do a naive and a reference resolver do?

The reference resolver is the minimum a correct identity stage has to do (docs/generator.md):
normalise identifiers, drop junk values (blocklist incl. the stores' own loyalty cards),
and not link through an e-mail or phone that appears on records of more than one shop
account, loyalty number or app login. The naive resolver links records that share an
exact raw value. Both are scored with pairwise precision and recall against the ground
truth. This is a test aid, not the project's identity stage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

# (system, table, key column, {identifier type: column}); people-key types are namespaces
IDENTIFIERS: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    ("shop", "customers", "customer_id", {"shop": "customer_id", "email": "email",
                                          "phone": "phone"}),
    ("shop", "orders", "order_id", {"shop": "customer_id", "email": "email"}),
    ("shop", "order_lines", "order_line_id", {"order": "order_id"}),
    ("crm", "contacts", "contact_id", {"email": "email", "phone": "phone"}),
    ("support", "tickets", "ticket_id", {"email": "requester_email", "phone": "requester_phone"}),
    ("newsletter", "subscribers", "subscriber_id", {"subscriber": "subscriber_id",
                                                    "email": "email"}),
    ("newsletter", "email_events", "event_id", {"subscriber": "subscriber_id"}),
    ("app", "users", "login_id", {"login": "login_id", "email": "email"}),
    ("app", "devices", "device_id", {"device": "device_id", "login": "login_id"}),
    ("app", "events", "event_id", {"device": "device_id", "login": "login_id"}),
    ("web", "events", "event_id", {"cookie": "cookie_id", "shop": "user_id"}),
    ("loyalty", "members", "loyalty_number", {"loyalty": "loyalty_number", "email": "email",
                                              "phone": "phone"}),
    ("loyalty", "pos_transactions", "transaction_id", {"loyalty": "loyalty_number"}),
)  # fmt: skip
# orders link their lines, subscribers their e-mail events: the key is an identifier too
PARENT_KEYS = {("shop", "orders"): "order"}
NAMESPACES = ("shop", "loyalty", "login")


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    records: int
    clusters: int
    people: int


def _email_sql(col: str) -> str:
    e = f"lower(trim({col}))"
    local = f"split_part(split_part({e}, '@', 1), '+', 1)"
    domain = f"replace(split_part({e}, '@', 2), 'googlemail.com', 'gmail.com')"
    local = f"case when {domain} = 'gmail.com' then replace({local}, '.', '') else {local} end"
    return (
        f"case when {col} is null or strpos({e}, '@') < 2 or strpos({e}, '.') = 0 "
        f"then null else {local} || '@' || {domain} end"
    )


def _phone_sql(col: str, country: str) -> str:
    raw = f"trim({col})"
    d = f"regexp_replace(replace({raw}, '(0)', ''), '[^0-9+]', '', 'g')"
    cc = (
        f"case {country} when 'DE' then '49' when 'AT' then '43' when 'CH' then '41' "
        f"when 'GB' then '44' when 'US' then '1' else '49' end"
    )
    e164 = (
        f"case when {d} like '+%' then substr({d}, 2) "
        f"when {d} like '00%' then substr({d}, 3) "
        f"when {d} like '0%' then {cc} || substr({d}, 2) "
        f"when {country} = 'US' and length({d}) = 10 then '1' || {d} "
        f"else null end"
    )
    return f"case when length({e164}) between 9 and 15 then '+' || {e164} else null end"


def _identifier_rows(con: duckdb.DuckDBPyConnection, raw: Path, fmt: str, clean: bool) -> str:
    parts = []
    for system, name, key, ids in IDENTIFIERS:
        path = raw / system / f"{name}.{fmt}"
        src = f"read_{'parquet' if fmt == 'parquet' else 'csv'}('{path}')"
        has_country = system in ("shop", "crm") and name in ("customers", "contacts")
        country = "country_code" if has_country else "'DE'"
        # a record's own key is an identifier of it, so every record is a node
        parts.append(
            f"select '{system}' as s, '{name}' as t, cast({key} as varchar) as k, "
            f"'{system}.{name}.key' as typ, cast({key} as varchar) as v from {src}"
        )
        for typ, col in ids.items():
            c = f"cast({col} as varchar)"
            if not clean:
                v = c
            elif typ == "email":
                v = _email_sql(c)
            elif typ == "phone":
                v = _phone_sql(c, country)
            elif typ == "loyalty":
                v = f"nullif(regexp_replace({c}, '[^0-9]', '', 'g'), '')"
            elif typ in ("device", "login", "cookie"):
                v = f"lower(trim({c}))"
            else:
                v = c
            parts.append(
                f"select '{system}' as s, '{name}' as t, cast({key} as varchar) as k, "
                f"'{typ}' as typ, {v} as v from {src}"
            )
        if (system, name) in PARENT_KEYS:
            typ = PARENT_KEYS[(system, name)]
            parts.append(
                f"select '{system}' as s, '{name}' as t, cast({key} as varchar) as k, "
                f"'{typ}' as typ, cast({key} as varchar) as v from {src}"
            )
    return " union all ".join(parts)


def resolve_and_score(data_dir: Path, *, clean: bool, fmt: str = "parquet") -> Score:
    """Cluster every raw record and score the clusters against the ground truth."""
    data_dir = Path(data_dir)
    raw, truth = data_dir / "raw", data_dir / "truth"
    scenario = json.loads((truth / "scenario.json").read_text())
    junk = scenario["junk_identifiers"]
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    try:
        con.execute(
            f"create temp table ids as select * from ({_identifier_rows(con, raw, fmt, clean)}) "
            "where v is not null and v <> ''"
        )
        if clean:
            blocked = [e.lower() for e in junk["emails"]] + [
                p for p in junk["phones"]
            ] + junk["store_loyalty_numbers"]  # fmt: skip
            con.execute("create temp table blocked(v varchar)")
            con.executemany("insert into blocked values (?)", [[b] for b in blocked])
            con.execute(
                "delete from ids where v in (select v from blocked) "
                f"or (typ = 'email' and v like '%@{junk['store_email_domain']}')"
            )
            # shared e-mails/phones: on the records of more than one account of a namespace
            con.execute(f"""
                create temp table shared as
                with rec_ns as (
                  select s, t, k, typ, v from ids where typ in {NAMESPACES}
                ), personal as (
                  select i.typ as id_typ, i.v as id_v, n.typ as ns, n.v as ns_v
                  from ids i join rec_ns n using (s, t, k)
                  where i.typ in ('email', 'phone')
                )
                select id_typ, id_v from personal group by id_typ, id_v, ns
                having count(distinct ns_v) > 1
            """)
            con.execute("delete from ids where (typ, v) in (select id_typ, id_v from shared)")
        con.execute("""
            create temp table nodes as
            select s, t, k,
                   dense_rank() over (order by s, t, k) - 1 as rec,
                   dense_rank() over (order by typ, v) - 1 as val
            from ids
        """)
        nodes = con.execute("select rec, val from nodes").fetchnumpy()
        n_rec = int(nodes["rec"].max()) + 1
        n_val = int(nodes["val"].max()) + 1
        rec = nodes["rec"].astype(np.int64)
        val = nodes["val"].astype(np.int64) + n_rec
        graph = coo_matrix((np.ones(len(rec)), (rec, val)), shape=(n_rec + n_val,) * 2)
        _, labels = connected_components(graph, directed=False)
        con.execute("create temp table rec_key as select distinct s, t, k, rec from nodes")
        keys = con.execute("select s, t, k, rec from rec_key").fetchnumpy()
        con.register(
            "clusters",
            {"s": keys["s"], "t": keys["t"], "k": keys["k"], "cluster": labels[keys["rec"]]},
        )
        con.execute(
            f"create temp table joined as select r.person_id, c.cluster from "
            f"read_parquet('{truth / 'records.parquet'}') r join clusters c "
            "on r.source_system = c.s and r.source_table = c.t and r.record_key = c.k"
        )
        tp, pred, true, n, ncl, npe = con.execute("""
            with cp as (select cluster, person_id, count(*) as n from joined group by all),
                 c as (select cluster, count(*) as n from joined group by all),
                 p as (select person_id, count(*) as n from joined group by all)
            select (select sum(n * (n - 1) / 2) from cp), (select sum(n * (n - 1) / 2) from c),
                   (select sum(n * (n - 1) / 2) from p), (select count(*) from joined),
                   (select count(*) from c), (select count(*) from p)
        """).fetchone()
        return Score(
            precision=float(tp / pred) if pred else 1.0,
            recall=float(tp / true) if true else 1.0,
            records=int(n),
            clusters=int(ncl),
            people=int(npe),
        )
    finally:
        con.close()
