"""Probabilistic (Fellegi-Sunter) record matching in DuckDB SQL.

The model is the one Splink implements; the work is split so that every step over pairs
is one SQL statement on the caller's DuckDB connection and only tiny arrays reach Python:

1. **Records** (``prepare``): the caller's relation with a unique ``record_id`` and the
   compared columns; phonetic keys (``<column>__ph``) for name comparisons and the
   term frequency of each value of a ``tf`` comparison are added here.
2. **Candidate pairs** (``candidate_pairs``): the union of the blocking rules (equi-joins on
   column lists, each pair once, found-by = the first rule that found it); the pair count
   of every rule is reported before anything is scored.
3. **Comparison vectors** (``comparison_vectors``): one integer level per comparison and
   pair (``-1`` = a value is missing: no evidence either way).
4. **Training** (``train``): ``u`` from random record pairs (deterministic by seed), ``m``
   (and the share of matches among candidates) by expectation maximisation over the
   *distinct* comparison patterns and their counts - a few hundred rows, so EM is numpy
   and takes milliseconds whatever the number of pairs. The prior ``lambda`` (probability
   that two random records match) = expected matches among the candidates / all pairs.
5. **Scoring** (``score``): match weight = log2(lambda / (1 - lambda)) + sum of the
   comparison's log2(m / u) at its level; exact agreement on a ``tf`` column uses the
   value's own frequency instead of the average u (a common surname counts for less than
   a rare one). The model is plain data (``Model``), so a stored model scores new data
   without retraining.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

__all__ = [
    "BlockingRule",
    "Comparison",
    "Level",
    "Model",
    "ComparisonModel",
    "MatchSpec",
    "candidate_pairs",
    "comparison_vectors",
    "estimate_u",
    "expectation_maximisation",
    "name_key_sql",
    "phonetic_sql",
    "prepare",
    "score",
    "train",
]

KINDS = ("name", "date", "string", "code", "id")
# German/Nordic letters and their usual ASCII spellings, then accents stripped
_TRANSLIT = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("æ", "ae"), ("ø", "oe"))
# a phonetic key robust to transliteration and common spelling variants
_PHONETIC = (
    ("ae", "a"), ("oe", "o"), ("ue", "u"), ("ph", "f"), ("th", "t"), ("ck", "k"),
    ("dt", "t"), ("tz", "z"), ("ch", "k"), ("c", "k"), ("z", "s"), ("y", "i"), ("w", "v"),
    ("ie", "i"), ("ei", "ai"), ("h", ""),
)  # fmt: skip


def name_key_sql(expr: str) -> str:
    """SQL: a name lower-cased, umlauts transliterated (Müller -> mueller), accents
    stripped, only letters kept; null when nothing is left."""
    out = f"lower(trim({expr}))"
    for a, b in _TRANSLIT:
        out = f"replace({out}, '{a}', '{b}')"
    out = f"regexp_replace(strip_accents({out}), '[^a-z]', '', 'g')"
    return f"nullif({out}, '')"


def phonetic_sql(expr: str) -> str:
    """SQL: a phonetic key of an already normalised name (``name_key_sql``): Müller,
    Mueller and Muller share ``muler``; Meyer/Meier/Maier share ``mair``; doubled letters
    are collapsed."""
    out = expr
    for a, b in _PHONETIC:
        out = f"replace({out}, '{a}', '{b}')"
    # doubled letters collapse (plain replace: far cheaper than a regexp per letter)
    for letter in "abdefgiklmnoprstuv":
        out = f"replace({out}, '{letter}{letter}', '{letter}')"
    return out


@dataclass(frozen=True)
class Comparison:
    """One compared attribute. ``kind`` decides the levels (strongest first):

    * ``name``: exact, same phonetic key (transliteration), swapped with ``swap_with``
      (first/last; exactly, or each within Jaro-Winkler 0.92), Damerau-Levenshtein <= 1,
      Jaro-Winkler >= 0.92, >= 0.80, else;
    * ``date`` (``YYYYMMDD`` text): exact, day and month swapped, one digit off
      (Damerau-Levenshtein 1), same year, else;
    * ``string`` (street, city, e-mail local part): exact, Damerau-Levenshtein <= 1,
      Jaro-Winkler >= 0.90, else;
    * ``code`` (postcode, house number, phone): exact, Damerau-Levenshtein <= 1, else;
    * ``id`` (an id number): exact, Damerau-Levenshtein <= 1, <= 2, else.
    """

    name: str
    kind: str
    column: str
    tf: bool = False
    swap_with: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"comparison {self.name!r}: unknown kind {self.kind!r} "
                             f"(use one of {', '.join(KINDS)})")  # fmt: skip

    def levels(self) -> list[tuple[str, str]]:
        """(label, SQL condition on ``l.``/``r.``) strongest first; 'else' is level 0."""
        c = self.column
        lc, rc = f"l.{c}", f"r.{c}"
        lev = f"levenshtein({lc}, {rc})"
        # Damerau-Levenshtein is slow in DuckDB: it is only computed where plain
        # Levenshtein (>= DL, and <= 2 x DL) leaves the answer open
        # (and both only where the lengths allow it)
        dlen = f"abs(length({lc}) - length({rc}))"
        dl1 = (f"({dlen} <= 1 and ({lev} <= 1 or ({lev} = 2 and "
               f"damerau_levenshtein({lc}, {rc}) <= 1)))")  # fmt: skip
        dl2 = (f"({dlen} <= 2 and ({lev} <= 2 or ({lev} <= 4 and "
               f"damerau_levenshtein({lc}, {rc}) <= 2)))")  # fmt: skip
        jw = f"jaro_winkler_similarity({lc}, {rc})"
        if self.kind == "name":
            out = [("exact", f"{lc} = {rc}"), ("same phonetic key", f"l.{c}__ph = r.{c}__ph")]
            if self.swap_with:
                o = self.swap_with
                out.append(("swapped first/last", f"{lc} = r.{o} and l.{o} = {rc}"))
                # swapped, and a typo in one of them (FEBRL's "mccarrhy timothy" for
                # "timothy mccarthy"): without it the first name reads as different
                out.append((
                    "swapped first/last, Jaro-Winkler >= 0.92",
                    f"jaro_winkler_similarity({lc}, r.{o}) >= 0.92 and "
                    f"jaro_winkler_similarity(l.{o}, {rc}) >= 0.92",
                ))  # fmt: skip
            out += [
                ("Damerau-Levenshtein <= 1", dl1),
                ("Jaro-Winkler >= 0.92", f"{jw} >= 0.92"),
                ("Jaro-Winkler >= 0.80", f"{jw} >= 0.80"),
            ]
            return out
        if self.kind == "date":
            swapped = (f"left({lc}, 4) = left({rc}, 4) and substr({lc}, 5, 2) = substr({rc}, 7, 2)"
                       f" and substr({lc}, 7, 2) = substr({rc}, 5, 2)")  # fmt: skip
            return [
                ("exact", f"{lc} = {rc}"),
                ("day and month swapped", swapped),
                ("one digit off", dl1),
                ("same year", f"left({lc}, 4) = left({rc}, 4)"),
            ]
        if self.kind == "string":
            return [
                ("exact", f"{lc} = {rc}"),
                ("Damerau-Levenshtein <= 1", dl1),
                ("Jaro-Winkler >= 0.90", f"{jw} >= 0.90"),
            ]
        if self.kind == "code":
            return [("exact", f"{lc} = {rc}"), ("Damerau-Levenshtein <= 1", dl1)]
        return [
            ("exact", f"{lc} = {rc}"),
            ("Damerau-Levenshtein <= 1", dl1),
            ("Damerau-Levenshtein <= 2", dl2),
        ]

    @property
    def n_levels(self) -> int:
        return len(self.levels()) + 1

    def level_sql(self) -> str:
        """SQL CASE giving the level: -1 missing, n..1 the levels above, 0 else. Trailing
        thresholds on one similarity (Jaro-Winkler >= 0.92, >= 0.80) are nested so the
        similarity of a pair is computed once on the way down."""
        lv = self.levels()
        n = len(lv)
        whens = []
        i = 0
        while i < n:
            cond = lv[i][1]
            nxt = lv[i + 1][1] if i + 1 < n else ""
            metric = cond.rsplit(" >= ", 1)[0] if " >= " in cond else None
            if metric and nxt.startswith(metric + " >= ") and i + 2 == n:
                whens.append(
                    f"when {nxt} then (case when {cond} then {n - i} else {n - i - 1} end)"
                )
                i += 2
                continue
            whens.append(f"when {cond} then {n - i}")
            i += 1
        return (f"case when l.{self.column} is null or r.{self.column} is null then -1 "
                f"{' '.join(whens)} else 0 end")  # fmt: skip

    def labels(self) -> dict[int, str]:
        lv = self.levels()
        n = len(lv)
        out = {n - i: label for i, (label, _) in enumerate(lv)}
        out[0] = "different"
        out[-1] = "missing"
        return out


@dataclass(frozen=True)
class BlockingRule:
    """Candidate pairs agree exactly on every column (non-null); ``name`` for reports."""

    columns: tuple[str, ...]
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or " + ".join(self.columns)

    @classmethod
    def of(cls, value: Any) -> BlockingRule:
        if isinstance(value, BlockingRule):
            return value
        if isinstance(value, str):
            return cls((value,))
        if isinstance(value, dict):
            return cls(tuple(value["columns"]), value.get("name", ""))
        return cls(tuple(value))


@dataclass
class MatchSpec:
    """What to compare and how to find candidates (the declaration)."""

    comparisons: list[Comparison]
    blocking: list[BlockingRule]
    threshold: float = 0.99  # match probability at or above which a pair is a link
    u_max_pairs: int = 50_000
    seed: int = 42
    # only pairs whose records differ in this column are candidates (None: any two records)
    different: str | None = None
    # blocking keys shared by more records than this find no pairs (None: no limit)
    max_block_size: int | None = None
    # comparisons whose "different" level vetoes a link whatever the weight (a person has
    # one birth date: twins and namesakes at one address differ in first name or in it)
    vetoes: list[str] = field(default_factory=list)
    # comparisons whose exact agreement lifts the vetoes: one id number (a national id, a
    # card number) outweighs a replaced first name or a mistyped birth date; twins and
    # namesakes have different ones
    veto_lifted_by: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MatchSpec:
        return cls(
            comparisons=[Comparison(**c) for c in d["comparisons"]],
            blocking=[BlockingRule.of(b) for b in d["blocking"]],
            threshold=float(d.get("threshold", 0.99)),
            u_max_pairs=int(d.get("u_max_pairs", 50_000)),
            seed=int(d.get("seed", 42)),
            different=d.get("different"),
            max_block_size=d.get("max_block_size"),
            vetoes=list(d.get("vetoes") or []),
            veto_lifted_by=list(d.get("veto_lifted_by") or []),
        )


@dataclass
class Level:
    level: int
    label: str
    m: float
    u: float

    @property
    def weight(self) -> float:
        return math.log2(self.m / self.u)


@dataclass
class ComparisonModel:
    comparison: Comparison
    levels: list[Level]

    def level(self, k: int) -> Level:
        return next(lv for lv in self.levels if lv.level == k)


@dataclass
class Model:
    """A trained model: everything scoring needs (term frequencies live in ``tf``)."""

    comparisons: list[ComparisonModel]
    lam: float  # probability that two random records match
    threshold: float
    tf: dict[str, dict[str, float]] = field(default_factory=dict)  # column -> value -> freq
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def prior_weight(self) -> float:
        return math.log2(self.lam / (1 - self.lam))

    @property
    def threshold_weight(self) -> float:
        p = self.threshold
        return math.log2(p / (1 - p))

    def to_json(self) -> str:
        d = {
            "lam": self.lam,
            "threshold": self.threshold,
            "comparisons": [
                {"comparison": asdict(cm.comparison), "levels": [asdict(lv) for lv in cm.levels]}
                for cm in self.comparisons
            ],
            "stats": self.stats,
        }
        return json.dumps(d, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, tf: dict[str, dict[str, float]] | None = None) -> Model:
        d = json.loads(text)
        comps = [
            ComparisonModel(Comparison(**c["comparison"]), [Level(**lv) for lv in c["levels"]])
            for c in d["comparisons"]
        ]
        return cls(comps, d["lam"], d["threshold"], tf or {}, d.get("stats", {}))


# --------------------------------------------------------------------------- SQL steps


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def prepare(
    con: duckdb.DuckDBPyConnection,
    source_sql: str,
    spec: MatchSpec,
    out: str,
    tf: dict[str, dict[str, float]] | None = None,
) -> dict[str, dict[str, float]]:
    """Create table ``out``: the records of ``source_sql`` (needs ``record_id``) plus a
    phonetic key per name comparison and ``<column>__tf`` per tf comparison. Term
    frequencies come from ``tf`` (a stored model) or, if None, from these records; the
    ones used are returned."""
    # the source is read where it is (no copy of the wide records): the checks, phonetic
    # keys and term frequencies scan it, then one statement writes ``out``
    src = f"({source_sql})"
    dup = con.execute(
        f"select record_id, count(*) from {src} group by 1 having count(*) > 1 limit 3"
    ).fetchall()
    if dup:
        raise ValueError(f"probabilistic matching: record_id not unique, e.g. {dup}")
    extra, joins, scratch = [], [], []
    for c in spec.comparisons:
        if c.kind == "name":
            # the phonetic key of each distinct name (far fewer than records), joined back
            t = f"{out}__ph{len(scratch)}"
            con.execute(
                f"create or replace temp table {t} as select value, "
                f"{phonetic_sql('value')} as ph from (select distinct {_q(c.column)} as value "
                f"from {src} where {_q(c.column)} is not null)"
            )
            scratch.append(t)
            joins.append(f"left join {t} on {t}.value = s.{_q(c.column)}")
            extra.append(f"{t}.ph as {_q(c.column + '__ph')}")
    tf_cols = [c.column for c in spec.comparisons if c.tf]
    used: dict[str, dict[str, float]] = {}
    sel = []
    for i, col in enumerate(dict.fromkeys(tf_cols)):
        t = f"{out}__tf{i}"
        if tf is None or col not in tf:
            con.execute(
                f"create or replace temp table {t} as select {_q(col)}::varchar as value, "
                f"count(*) / sum(count(*)) over () as tf from {src} "
                f"where {_q(col)} is not null group by 1"
            )
            values = con.sql(f"select value, tf from {t}").to_arrow_table()
            used[col] = dict(
                zip(values.column(0).to_pylist(), values.column(1).to_pylist(), strict=True)
            )
        else:
            used[col] = tf[col]
            table = pa.table(
                {"value": pa.array(list(tf[col]), pa.string()),
                 "tf": pa.array(list(tf[col].values()), pa.float64())}
            )  # fmt: skip
            con.register(f"{t}__arrow", table)
            con.execute(f"create or replace temp table {t} as select * from {t}__arrow")
            con.unregister(f"{t}__arrow")
        joins.append(f"left join {t} on {t}.value = s.{_q(col)}::varchar")
        sel.append(f"{t}.tf as {_q(col + '__tf')}")
    # _rid: the record's position in record_id order, the key pairs are built and joined on
    # (integers, not id strings; the same order, so id_l < id_r means the same)
    cols = ", ".join(["s.*", *extra, *sel, "row_number() over (order by s.record_id) as _rid"])
    con.execute(f"create or replace temp table {out} as select {cols} from {src} s "
                + " ".join(joins))  # fmt: skip
    for t in scratch:
        con.execute(f"drop table {t}")
    return used


def candidate_pairs(
    con: duckdb.DuckDBPyConnection, records: str, spec: MatchSpec, out: str
) -> list[tuple[str, int, int]]:
    """Create table ``out(id_l, id_r, rule)``: each pair (id_l < id_r, the records' ``_rid``)
    once, with the first rule that found it. Returns (rule, pairs it finds, pairs new to
    it) per rule."""
    parts, report = [], []
    for i, rule in enumerate(spec.blocking):
        on = " and ".join(f"l.{_q(c)} = r.{_q(c)}" for c in rule.columns)
        extra = f" and l.{_q(spec.different)} <> r.{_q(spec.different)}" if spec.different else ""
        side = records
        if spec.max_block_size:
            # a blocking key shared by more records than max_block_size finds no pairs
            # (a placeholder or a very common value would make the pair count explode)
            cols = ", ".join(_q(c) for c in rule.columns)
            keyed = " and ".join(f"k.{_q(c)} = b.{_q(c)}" for c in rule.columns)
            notnull = " and ".join(f"{_q(c)} is not null" for c in rule.columns)
            side = f"{records}__block{i}"
            # only what the self-join reads (not the wide records)
            different = [spec.different] if spec.different else []
            keep = dict.fromkeys(["_rid", *rule.columns, *different])
            kept = ", ".join(f"b.{_q(c)}" for c in keep)
            con.execute(
                f"create or replace temp table {side} as select {kept} from {records} b "
                f"semi join (select {cols} from {records} where {notnull} group by all "
                f"having count(*) <= {int(spec.max_block_size)}) k on {keyed}"
            )
        parts.append(
            f"select l._rid as id_l, r._rid as id_r, {i} as rule from {side} l "
            f"join {side} r on {on} and l._rid < r._rid{extra}"
        )
    union = " union all ".join(parts)
    con.execute(
        f"create or replace temp table {out} as select id_l, id_r, min(rule) as rule "
        f"from ({union}) group by id_l, id_r"
    )
    found = dict(con.execute(f"select rule, count(*) from {out} group by 1").fetchall())
    if spec.max_block_size:
        for i in range(len(spec.blocking)):
            con.execute(f"drop table if exists {records}__block{i}")
    for i, rule in enumerate(spec.blocking):
        report.append((rule.label, -1, int(found.get(i, 0))))
    return report


def comparison_vectors(
    con: duckdb.DuckDBPyConnection,
    records: str,
    pairs: str,
    comparisons: list[Comparison],
    out: str,
) -> None:
    """Create table ``out(id_l, id_r, rule, g0.., tf0..)``: the level of every comparison
    (and the left value's term frequency where the comparison is tf-adjusted)."""
    cols = [f"{c.level_sql()} as g{i}" for i, c in enumerate(comparisons)]
    cols += [f"l.{_q(c.column + '__tf')} as tf{i}" for i, c in enumerate(comparisons) if c.tf]
    con.execute(
        f"create or replace temp table {out} as select p.id_l, p.id_r, p.rule, "
        f"{', '.join(cols)} from {pairs} p join {records} l on l._rid = p.id_l "
        f"join {records} r on r._rid = p.id_r"
    )


def estimate_u(
    con: duckdb.DuckDBPyConnection, records: str, spec: MatchSpec
) -> tuple[list[np.ndarray], int]:
    """u per comparison level from random record pairs: records in a seeded random order,
    record i paired with records i+1 .. i+k (distinct pairs, no self pairs) for about
    ``u_max_pairs`` pairs. With more than ``u_max_pairs`` records only the first
    ``u_max_pairs + 1`` of that order take part (k = 1), so the pairs, and the time, stay
    at ``u_max_pairs`` however large the data. Returns (u arrays indexed by level, pairs
    used)."""
    total = con.execute(f"select count(*) from {records}").fetchone()[0]
    n = min(total, spec.u_max_pairs + 1)  # records sampled: a top-n, not a sort of all
    k = max(1, min(n - 1, math.ceil(spec.u_max_pairs / max(n, 1))))
    levels = ", ".join(f"{c.level_sql()} as g{i}" for i, c in enumerate(spec.comparisons))
    diff = f" and l.{_q(spec.different)} <> r.{_q(spec.different)}" if spec.different else ""
    con.execute(
        f"""
        create or replace temp table {records}__ordered as
        with sampled as (
            select record_id, hash(record_id::varchar || '{spec.seed}') as h
            from {records}
            order by h, record_id
            limit {n}
        )
        select record_id, row_number() over (order by h, record_id) - 1 as pos
        from sampled
        """
    )  # only ids and positions are ordered; the ~u_max_pairs pairs fetch their records below
    con.execute(
        f"""
        create or replace temp table {records}__random as
        select l.pos as pos_l, (l.pos + o.k) % {n} as pos_r
        from {records}__ordered l cross join (select unnest(range(1, {k + 1})) as k) o
        """
    )
    rows = con.execute(
        f"""
        select {levels}
        from {records}__random p
        join {records}__ordered ol on ol.pos = p.pos_l
        join {records}__ordered o_r on o_r.pos = p.pos_r
        join {records} l on l.record_id = ol.record_id
        join {records} r on r.record_id = o_r.record_id
        where l.record_id <> r.record_id{diff}
        """
    ).fetchnumpy()
    con.execute(f"drop table {records}__random")
    con.execute(f"drop table {records}__ordered")
    us, used = [], 0
    for i, c in enumerate(spec.comparisons):
        g = rows[f"g{i}"]
        used = len(g)
        counts = np.bincount(g[g >= 0], minlength=c.n_levels).astype(float)
        # a level never seen among random pairs gets half a pair (finite weight)
        counts = np.where(counts == 0, 0.5, counts)
        u = counts / counts.sum()
        # exact agreement: computed exactly from the value counts over all pairs
        top = c.n_levels - 1
        exact = _exact_share(con, records, c.column, spec.different)
        if exact is not None and 0 < exact < 1:
            rest = u[:top].sum()
            u[:top] = u[:top] * (1 - exact) / rest if rest > 0 else (1 - exact) / top
            u[top] = exact
        us.append(u)
    return us, used


def _exact_share(
    con: duckdb.DuckDBPyConnection, records: str, column: str, different: str | None
) -> float | None:
    """Share of record pairs (both values present) with equal values, from value counts."""
    col = _q(column)
    if different is None:
        row = con.execute(
            f"with v as (select count(*)::double as n from {records} where {col} is not null "
            f"group by {col}) select sum(n * (n - 1)) / 2, (sum(n) * (sum(n) - 1)) / 2 from v"
        ).fetchone()
    else:
        d = _q(different)
        row = con.execute(
            f"""
            with vg as (select {col} as v, {d} as g, count(*)::double as n from {records}
                        where {col} is not null group by all),
            v as (select sum(n) as n, sum(n * n) as n2 from vg group by v),
            g as (select sum(n) as n from vg group by g)
            select (select sum(n * n - n2) / 2 from v),
                   (select (sum(n) * sum(n) - sum(n * n)) / 2 from g)
            """
        ).fetchone()
    if row is None or not row[1]:
        return None
    return float(row[0] or 0.0) / float(row[1])


def expectation_maximisation(
    patterns: np.ndarray,
    counts: np.ndarray,
    n_levels: list[int],
    u_init: list[np.ndarray] | None = None,
    max_iter: int = 500,
    tol: float = 1e-7,
) -> tuple[list[np.ndarray], list[np.ndarray], float, int]:
    """EM for a two-class latent model over distinct comparison patterns (rows of level
    indices, -1 = missing) with their pair counts. Returns (m, u within candidates, share
    of matches, iterations). Deterministic: fixed start, no sampling. The non-match class
    starts from ``u_init`` (u of random pairs) so that it cannot swap roles with the
    matches, which start with most of their mass on exact agreement."""
    p, k = patterns.shape
    m = []
    u = []
    for j in range(k):
        nl = n_levels[j]
        if u_init is not None:
            u.append(np.asarray(u_init[j], dtype=float).copy())
        else:
            g = patterns[:, j]
            ok = g >= 0
            freq = np.bincount(g[ok], weights=counts[ok], minlength=nl) + 0.5
            u.append(freq / freq.sum())
        start = np.full(nl, 0.1 / max(nl - 1, 1))  # top level: 90 % of the matches
        start[nl - 1] = 0.9
        m.append(start / start.sum())
    lam = 0.5
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        log_m = np.full(p, math.log(lam))
        log_u = np.full(p, math.log(1 - lam))
        for j in range(k):
            g = patterns[:, j]
            ok = g >= 0
            log_m[ok] += np.log(m[j][g[ok]])
            log_u[ok] += np.log(u[j][g[ok]])
        w = 1.0 / (1.0 + np.exp(np.clip(log_u - log_m, -700, 700)))
        wm, wu = counts * w, counts * (1 - w)
        new_lam = float(wm.sum() / counts.sum())
        delta = abs(new_lam - lam)
        lam = min(max(new_lam, 1e-12), 1 - 1e-12)
        for j in range(k):
            g = patterns[:, j]
            ok = g >= 0
            nm = np.bincount(g[ok], weights=wm[ok], minlength=n_levels[j]) + 1e-9
            nu = np.bincount(g[ok], weights=wu[ok], minlength=n_levels[j]) + 1e-9
            new_m, new_u = nm / nm.sum(), nu / nu.sum()
            delta = max(delta, float(np.abs(new_m - m[j]).max()), float(np.abs(new_u - u[j]).max()))
            m[j], u[j] = new_m, new_u
        if delta < tol:
            break
    return m, u, lam, it


def train(
    con: duckdb.DuckDBPyConnection,
    records: str,
    spec: MatchSpec,
    gammas: str,
    tf: dict[str, dict[str, float]],
) -> Model:
    """Fit m (EM over the candidate pairs' patterns), u (random pairs) and lambda."""
    k = len(spec.comparisons)
    gcols = ", ".join(f"g{i}" for i in range(k))
    pat = con.execute(f"select {gcols}, count(*) as n from {gammas} group by all order by all")
    arr = pat.fetchnumpy()
    patterns = np.stack([arr[f"g{i}"].astype(np.int64) for i in range(k)], axis=1)
    counts = arr["n"].astype(float)
    n_levels = [c.n_levels for c in spec.comparisons]
    u, u_pairs = estimate_u(con, records, spec)
    m, _u_cand, share, iters = expectation_maximisation(patterns, counts, n_levels, u_init=u)
    m = [_bounded(mj, uj) for mj, uj in zip(m, u, strict=True)]
    n_records = con.execute(f"select count(*) from {records}").fetchone()[0]
    n_cand = float(counts.sum())
    if spec.different:
        groups = con.execute(
            f"select count(*) from {records} group by {_q(spec.different)}"
        ).fetchnumpy()
        sizes = next(iter(groups.values())).astype(float)
        all_pairs = (sizes.sum() ** 2 - (sizes**2).sum()) / 2
    else:
        all_pairs = n_records * (n_records - 1) / 2
    lam = min(max(share * n_cand / max(all_pairs, 1.0), 1e-12), 0.5)
    comps = []
    for j, c in enumerate(spec.comparisons):
        labels = c.labels()
        levels = [
            Level(lv, labels[lv], float(max(m[j][lv], 1e-9)), float(u[j][lv]))
            for lv in range(c.n_levels - 1, -1, -1)
        ]
        comps.append(ComparisonModel(c, levels))
    stats = {
        "records": int(n_records),
        "candidate_pairs": int(n_cand),
        "patterns": int(len(counts)),
        "em_iterations": int(iters),
        "match_share_among_candidates": share,
        "u_random_pairs": int(u_pairs),
    }
    return Model(comps, lam, spec.threshold, tf, stats)


M_FLOOR = 0.005  # no level is impossible among matches (EM on few pairs can leave one at 0)


def _bounded(m: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Every level keeps at least M_FLOOR of the matches; partial agreement is never
    stronger evidence than exact agreement nor weaker than
    disagreement: the weight of every middle level is clamped between the two (a level
    EM saw no match at - e.g. day/month-swapped birth dates, which date blocking hides -
    would otherwise get an absurd negative weight)."""
    m = np.maximum(np.asarray(m, dtype=float), M_FLOOR)
    m = m / m.sum()
    w = np.log2(m / u)
    lo, hi = w[0], w[-1]
    if lo < hi:
        w[1:-1] = np.clip(w[1:-1], lo, hi)
    out = u * np.exp2(w)
    return out / out.sum()


def weight_sql(model: Model, level_col: str, tf_col: str | None, j: int) -> str:
    """SQL: the match weight of comparison ``j`` for a pair (0 when missing)."""
    cm = model.comparisons[j]
    top = cm.levels[0]
    whens = []
    for lv in cm.levels:
        if lv.level == top.level and tf_col is not None:
            # term frequency: the value's own frequency replaces the average u
            whens.append(f"when {lv.level} then log2({top.m!r}) - "
                         f"log2(coalesce({tf_col}, {top.u!r}))")  # fmt: skip
        else:
            whens.append(f"when {lv.level} then {lv.weight!r}")
    return f"(case {level_col} {' '.join(whens)} else 0.0 end)"


def score(
    con: duckdb.DuckDBPyConnection, model: Model, gammas: str, out: str, min_weight: float | None
) -> None:
    """Create table ``out(id_l, id_r, rule, g.., w.., match_weight, match_probability)`` for
    the pairs of ``gammas`` whose weight is at least ``min_weight`` (None: all)."""
    ws, tf_i = [], 0
    for j, cm in enumerate(model.comparisons):
        tf_col = None
        if cm.comparison.tf:
            tf_col = f"tf{j}"
            tf_i += 1
        ws.append(f"{weight_sql(model, f'g{j}', tf_col, j)} as w{j}")
    wsum = " + ".join(f"w{j}" for j in range(len(model.comparisons)))
    where = "" if min_weight is None else f"where match_weight >= {min_weight!r}"
    gs = ", ".join(f"g{j}" for j in range(len(model.comparisons)))
    con.execute(
        f"""
        create or replace temp table {out} as
        with weights as (select id_l, id_r, rule, {gs}, {", ".join(ws)} from {gammas}),
        scored as (
            select *, {model.prior_weight!r} + {wsum} as match_weight from weights
        )
        select *, pow(2, match_weight) / (1 + pow(2, match_weight)) as match_probability
        from scored {where}
        """
    )


# --------------------------------------------------------------------------- build state

STATE_SCHEMA = "identity_state"
MODEL_TABLE = f"{STATE_SCHEMA}.probabilistic_model"
TF_TABLE = f"{STATE_SCHEMA}.probabilistic_term_frequencies"


def ensure_state(con: duckdb.DuckDBPyConnection) -> None:
    """The stored-model tables (outside dbt's models, so --full-refresh keeps them)."""
    con.execute(f"create schema if not exists {STATE_SCHEMA}")
    con.execute(
        f"create table if not exists {MODEL_TABLE} (version integer primary key, "
        "trained_at timestamp, is_current boolean, trained_by varchar, model_json varchar, "
        "spec_json varchar)"
    )
    con.execute(
        f"create table if not exists {TF_TABLE} (version integer, column_name varchar, "
        "value varchar, tf double)"
    )


def _spec_key(spec: MatchSpec) -> list[dict[str, Any]]:
    """What a stored model must match: each comparison's declaration and the labels of its
    levels (a new level in this code renumbers them: the stored m and u no longer fit)."""
    return [{**asdict(c), "levels": [label for label, _ in c.levels()]} for c in spec.comparisons]


def _model_key(model: Model) -> list[dict[str, Any]]:
    """_spec_key of the declaration a stored model was trained for."""
    return [
        {**asdict(cm.comparison), "levels": [lv.label for lv in cm.levels if lv.level > 0]}
        for cm in model.comparisons
    ]


def load_current(con: duckdb.DuckDBPyConnection) -> tuple[int, Model] | None:
    """The current stored model (version, model) or None (first build, or never trained)."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and "
        "table_name = 'probabilistic_model'",
        [STATE_SCHEMA],
    ).fetchone()[0]
    if not exists:
        return None
    row = con.execute(
        f"select version, model_json from {MODEL_TABLE} where is_current order by version desc "
        "limit 1"
    ).fetchone()
    if row is None:
        return None
    version, text = int(row[0]), str(row[1])
    tf: dict[str, dict[str, float]] = {}
    for col, value, freq in con.execute(
        f"select column_name, value, tf from {TF_TABLE} where version = ?", [version]
    ).fetchall():
        tf.setdefault(col, {})[value] = float(freq)
    return version, Model.from_json(text, tf)


def store_model(
    con: duckdb.DuckDBPyConnection, model: Model, spec: MatchSpec, trained_by: str
) -> int:
    """Store ``model`` as the new current version; returns the version number."""
    ensure_state(con)
    version = con.execute(f"select coalesce(max(version), 0) + 1 from {MODEL_TABLE}").fetchone()[0]
    spec_json = json.dumps(
        {
            "comparisons": [asdict(c) for c in spec.comparisons],
            "blocking": [asdict(b) for b in spec.blocking],
        },
        sort_keys=True,
    )
    con.execute(f"update {MODEL_TABLE} set is_current = false where is_current")
    con.execute(
        f"insert into {MODEL_TABLE} values (?, current_timestamp::timestamp, true, ?, ?, ?)",
        [version, trained_by, model.to_json(), spec_json],
    )
    rows = [(version, col, v, f) for col, values in model.tf.items() for v, f in values.items()]
    if rows:
        table = pa.table(
            {
                "version": pa.array([r[0] for r in rows], pa.int32()),
                "column_name": pa.array([r[1] for r in rows], pa.string()),
                "value": pa.array([r[2] for r in rows], pa.string()),
                "tf": pa.array([r[3] for r in rows], pa.float64()),
            }
        )
        con.register("pm_tf_rows", table)
        con.execute(f"insert into {TF_TABLE} select * from pm_tf_rows")
        con.unregister("pm_tf_rows")
    return int(version)


def fit(con: duckdb.DuckDBPyConnection, records_sql: str, spec: MatchSpec) -> Model:
    """Train a model on the records of ``records_sql`` (blocking, EM, u, lambda)."""
    tf = prepare(con, records_sql, spec, "pm_fit_records")
    report = candidate_pairs(con, "pm_fit_records", spec, "pm_fit_pairs")
    comparison_vectors(con, "pm_fit_records", "pm_fit_pairs", spec.comparisons, "pm_fit_gammas")
    if con.execute("select count(*) from pm_fit_gammas").fetchone()[0] == 0:
        raise ValueError("probabilistic matching: the blocking rules find no candidate pairs")
    model = train(con, "pm_fit_records", spec, "pm_fit_gammas", tf)
    model.stats["blocking"] = [{"rule": r, "pairs": n} for r, _, n in report]
    for t in ("pm_fit_gammas", "pm_fit_pairs", "pm_fit_records"):
        con.execute(f"drop table if exists {t}")
    return model


def check_compatible(model: Model, spec: MatchSpec) -> None:
    """The stored model must compare what the declaration compares."""
    if _model_key(model) != _spec_key(spec):
        raise ValueError(
            "probabilistic matching: the declared comparisons (var identity_probabilistic) "
            "differ from the stored model's; run `customer360 retrain-matcher` to train a "
            "model for the new declaration"
        )


SCORED_COLUMNS = (
    "record_id_l", "record_id_r", "blocking_rule", "model_version", "match_weight",
    "match_probability", "is_link", "vetoed_by",
)  # fmt: skip


def score_records(
    con: duckdb.DuckDBPyConnection,
    records_sql: str,
    spec: MatchSpec,
    floor: float = 0.5,
    trained_by: str = "first build (no stored model)",
) -> tuple[pa.Table, int, list[tuple[str, int]]]:
    """Score the candidate pairs of the records with the stored model (training and
    storing version 1 if there is none). Returns (pairs with match probability >= floor:
    SCORED_COLUMNS + <comparison>_level/_weight, model version, pairs per blocking rule)."""
    n = con.execute(f"select count(*) from ({records_sql})").fetchone()[0]
    current = load_current(con)
    if current is None:
        if n == 0:
            return _empty_scored(spec), 0, []
        # no stored model: train on these records, store, and score the same pairs
        tf = prepare(con, records_sql, spec, "pm_records")
        report = candidate_pairs(con, "pm_records", spec, "pm_pairs")
        comparison_vectors(con, "pm_records", "pm_pairs", spec.comparisons, "pm_gammas")
        if con.execute("select count(*) from pm_gammas").fetchone()[0] == 0:
            # nothing to link and nothing to learn from (e.g. a shop-only export whose
            # accounts share no blocking value): no model is stored, the next build tries
            # again; the exact tier is unaffected
            for t in ("pm_gammas", "pm_pairs", "pm_records"):
                con.execute(f"drop table if exists {t}")
            return _empty_scored(spec), 0, [(r, c) for r, _, c in report]
        model = train(con, "pm_records", spec, "pm_gammas", tf)
        model.stats["blocking"] = [{"rule": r, "pairs": c} for r, _, c in report]
        version = store_model(con, model, spec, trained_by)
    else:
        version, model = current
        check_compatible(model, spec)
        prepare(con, records_sql, spec, "pm_records", tf=model.tf)
        report = candidate_pairs(con, "pm_records", spec, "pm_pairs")
        comparison_vectors(con, "pm_records", "pm_pairs", spec.comparisons, "pm_gammas")
    model.threshold = spec.threshold
    floor_weight = math.log2(floor / (1 - floor))
    score(con, model, "pm_gammas", "pm_scores", min_weight=floor_weight)
    rules = " ".join(f"when {i} then '{r.label}'" for i, r in enumerate(spec.blocking))
    names = [cm.comparison.name for cm in model.comparisons]
    unknown = [v for v in spec.vetoes + spec.veto_lifted_by if v not in names]
    if unknown:
        raise ValueError(
            f"probabilistic matching: vetoes or veto_lifted_by name unknown comparisons {unknown}"
        )
    veto_parts = [f"case when g{names.index(v)} = 0 then '{v}' end" for v in spec.vetoes]
    vetoed = f"nullif(concat_ws(',', {', '.join(veto_parts)}), '')" if veto_parts else "null"
    lifted = [
        f"g{names.index(v)} = {len(model.comparisons[names.index(v)].comparison.levels())}"
        for v in spec.veto_lifted_by
    ]  # the top level (exact) of each lifting comparison
    if lifted:
        vetoed = f"case when {' or '.join(lifted)} then null else {vetoed} end"
    cols = []
    for j, cm in enumerate(model.comparisons):
        labels = " ".join(f"when {k} then '{v}'" for k, v in cm.comparison.labels().items())
        cols.append(f"case g{j} {labels} end as {_q(cm.comparison.name + '_level')}")
        cols.append(f"w{j} as {_q(cm.comparison.name + '_weight')}")
    table = con.sql(
        f"""
        select l.record_id as record_id_l, r.record_id as record_id_r,
            case rule {rules} end as blocking_rule,
            {version}::integer as model_version, match_weight, match_probability,
            match_probability >= {spec.threshold!r} and vetoed_by is null as is_link,
            vetoed_by, {", ".join(cols)}
        from (select *, {vetoed} as vetoed_by from pm_scores) as s
        join pm_records l on l._rid = s.id_l
        join pm_records r on r._rid = s.id_r
        order by s.id_l, s.id_r
        """
    ).to_arrow_table()
    for t in ("pm_scores", "pm_gammas", "pm_pairs", "pm_records"):
        con.execute(f"drop table if exists {t}")
    return table, version, [(r, c) for r, _, c in report]


def _empty_scored(spec: MatchSpec) -> pa.Table:
    fields = [
        pa.field("record_id_l", pa.string()), pa.field("record_id_r", pa.string()),
        pa.field("blocking_rule", pa.string()), pa.field("model_version", pa.int32()),
        pa.field("match_weight", pa.float64()), pa.field("match_probability", pa.float64()),
        pa.field("is_link", pa.bool_()), pa.field("vetoed_by", pa.string()),
    ]  # fmt: skip
    for c in spec.comparisons:
        fields += [pa.field(c.name + "_level", pa.string()), pa.field(c.name + "_weight",
                   pa.float64())]  # fmt: skip
    return pa.schema(fields).empty_table()


# --------------------------------------------------------------------------- commands

BUILT_SETTINGS = "intermediate.int_identity__probabilistic_settings"
BUILT_RECORDS = "intermediate.int_identity__probabilistic_records"
BUILT_PAIRS = "intermediate.int_identity__probabilistic_pairs"


@dataclass(frozen=True)
class RetrainResult:
    version: int  # the current version after retraining
    changed: bool  # False: the new fit equals the stored model (nothing stored)
    previous_version: int | None
    max_weight_change: float  # largest change of any level weight (0 when unchanged)
    stats: dict[str, Any]


def built_spec(con: duckdb.DuckDBPyConnection) -> MatchSpec:
    row = con.execute(f"select is_enabled, settings_json from {BUILT_SETTINGS}").fetchall()
    if not row or not row[0][0]:
        raise ValueError("the probabilistic tier is switched off (identity_probabilistic.enabled)")
    return MatchSpec.from_dict(json.loads(row[0][1]))


def _max_weight_change(a: Model, b: Model) -> float:
    diffs = [abs(a.prior_weight - b.prior_weight)]
    for ca, cb in zip(a.comparisons, b.comparisons, strict=True):
        for la, lb in zip(ca.levels, cb.levels, strict=True):
            diffs.append(abs(la.weight - lb.weight))
    return max(diffs)


def _connect_build(db: str | Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """The build DB through the seam that decrypts it (customer360.restricted_db)."""
    from customer360.restricted_db import connect_build

    return connect_build(Path(db), read_only=read_only)


def retrain(db: str | Path, tolerance: float = 1e-9) -> RetrainResult:
    """Fit the model again on the last build's records (the explicit `retrain-matcher`)
    and store it as a new version, unless it equals the current one (then nothing is
    stored and the next build scores exactly as before). The next build scores with it."""
    con = _connect_build(db, read_only=False)
    try:
        spec = built_spec(con)
        model = fit(con, f"select * from {BUILT_RECORDS}", spec)
        current = load_current(con)
        if current is not None:
            version, old = current
            same_shape = _model_key(old) == _spec_key(spec)
            change = _max_weight_change(old, model) if same_shape else math.inf
            if same_shape and change <= tolerance and old.tf == model.tf:
                return RetrainResult(version, False, version, 0.0, model.stats)
            new = store_model(con, model, spec, "customer360 retrain-matcher")
            return RetrainResult(new, True, version, change, model.stats)
        new = store_model(con, model, spec, "customer360 retrain-matcher")
        return RetrainResult(new, True, None, math.inf, model.stats)
    finally:
        con.close()


@dataclass(frozen=True)
class ThresholdPreview:
    current_threshold: float
    new_threshold: float
    links_now: int
    links_after: int
    customers_merged: int  # customers that would be absorbed into another one
    customers_split_off: int  # new customers that would split off existing ones
    merge_examples: list[tuple[str, str]]  # (customer, customer) pairs a new link joins
    split_examples: list[str]  # customers that would split


def preview_threshold(db: str | Path, new_threshold: float) -> ThresholdPreview:
    """How many customers a new match-probability threshold would merge or split, from the
    last build (pairs scored >= 0.5, customer_source_map), before it is applied. Merges:
    new links (not links today: a link today that joins two customers was cut by the
    graph's guards, and is cut again) between two customers (union-find over customers).
    Splits: a customer whose
    records fall apart once the links below the new threshold are gone (its exact
    identifiers and remaining probabilistic links recomputed)."""
    if not 0.5 <= new_threshold < 1:
        raise ValueError("the threshold must be in [0.5, 1): pairs below 0.5 are not kept")
    con = _connect_build(db, read_only=True)
    try:
        spec = built_spec(con)
        pairs = con.execute(
            f"""
            select p.record_id_l, p.record_id_r, p.match_probability, p.is_link,
                   p.vetoed_by is null as allowed, l.customer_id, r.customer_id
            from {BUILT_PAIRS} p
            left join marts.customer_source_map l on l.record_id = p.record_id_l
            left join marts.customer_source_map r on r.record_id = p.record_id_r
            """
        ).fetchall()
        links_now = sum(1 for p in pairs if p[3])
        after = [p for p in pairs if p[4] and p[2] >= new_threshold]
        # merges: links after the change that join two different customers
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.get(x, x) != x:
                parent[x] = parent.get(parent[x], parent[x])
                x = parent[x]
            return x

        examples: list[tuple[str, str]] = []
        merged = 0
        for _, _, _, is_link, _, cl, cr in after:
            # a link today between two customers was cut by the graph's guards (unique
            # namespaces, caps): the guards cut it again; only new links can merge
            if is_link or cl is None or cr is None or cl == cr:
                continue
            a, b = find(cl), find(cr)
            if a != b:
                parent[max(a, b)] = min(a, b)
                merged += 1
                if len(examples) < 5:
                    examples.append((cl, cr))
        # splits: customers losing a link
        kept = {(p[0], p[1]) for p in after}
        lost = [p for p in pairs if p[3] and (p[0], p[1]) not in kept and p[5] == p[6]]
        affected = sorted({p[5] for p in lost if p[5] is not None})
        split_off, split_examples = 0, []
        for customer in affected:
            parts = _parts_without(con, customer, kept)
            if parts > 1:
                split_off += parts - 1
                if len(split_examples) < 5:
                    split_examples.append(customer)
        return ThresholdPreview(
            spec.threshold, new_threshold, links_now, len(after), merged, split_off,
            examples, split_examples,
        )  # fmt: skip
    finally:
        con.close()


def _parts_without(
    con: duckdb.DuckDBPyConnection, customer: str, kept: set[tuple[str, str]]
) -> int:
    """Components of one customer's records over its exact linking identifiers plus the
    probabilistic links in ``kept``."""
    rows = con.execute(
        "select record_id, linked_by_identifiers from marts.customer_source_map "
        "where customer_id = ?",
        [customer],
    ).fetchall()
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    records = {r for r, _ in rows}
    for record, linked in rows:
        parent.setdefault(record, record)
        for ident in (linked or "").split(" | "):
            if ident:
                union(record, "id:" + ident.strip())
    for a, b in kept:
        if a in records and b in records:
            union(a, b)
    return len({find(r) for r in records})
