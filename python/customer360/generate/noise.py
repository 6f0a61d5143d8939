"""Vectorised rendering of identifiers with the noise real exports have.

Every function takes per-record arrays (numpy or pyarrow) plus a random generator and
returns a pyarrow string array; nothing loops in Python over records.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# ----------------------------------------------------------------------------- names

FIRST_NAMES_DE = (
    "Jürgen", "Jörg", "Björn", "Sören", "Günter", "Käthe", "Jürgen", "Anna", "Lena", "Sophie",
    "Marie", "Lukas", "Jonas", "Felix", "Maximilian", "Paul", "Leon", "Emma", "Mia", "Hannah",
    "Lea", "Laura", "Julia", "Sarah", "Katharina", "Thomas", "Michael", "Andreas", "Stefan",
    "Christian", "Markus", "Daniel", "Tobias", "Florian", "Sebastian", "Johannes", "Matthias",
    "Sabine", "Petra", "Monika", "Ursula", "Claudia", "Susanne", "Birgit", "Andrea", "Nicole",
    "Jörn", "Götz", "Hüseyin", "Zoë", "Ömer", "Özge", "Lütfiye", "Änne", "Mäx", "Ülrike",
)  # fmt: skip
LAST_NAMES_DE = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
    "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt",
    "Werner", "Krause", "Meier", "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann",
    "König", "Walter", "Mayer", "Huber", "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller",
    "Weiß", "Jung", "Hahn", "Vogel", "Friedrich", "Keller", "Günther", "Frank", "Berger",
    "Winkler", "Roth", "Beck", "Lorenz", "Baumann", "Franke", "Albrecht", "Schuster", "Simon",
    "Ludwig", "Böhm", "Winter", "Kraus", "Martin", "Schumacher", "Krämer", "Vogt", "Stein",
    "Jäger", "Otto", "Sommer", "Groß", "Seidel", "Heinrich", "Brandt", "Haas", "Schreiber",
    "Graf", "Schulte", "Dietrich", "Ziegler", "Kuhn", "Kühn", "Pohl", "Engel", "Horn", "Busch",
    "Bergmann", "Thomas", "Voigt", "Sauer", "Arnold", "Wolff", "Pfeiffer", "Strauß", "Gärtner",
)  # fmt: skip
FIRST_NAMES_EN = (
    "James", "Oliver", "Harry", "Jack", "George", "Noah", "Charlie", "Jacob", "Olivia", "Amelia",
    "Isla", "Emily", "Ava", "Jessica", "Sophia", "Grace", "Michael", "David", "John", "Robert",
    "William", "Richard", "Joseph", "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth",
    "Barbara", "Susan", "Karen", "Nancy", "Daniel", "Matthew", "Anthony", "Mark", "Emma",
    "Chloe", "Ella", "Lily", "Mia", "Ruby", "Thomas", "Henry", "Samuel", "Zoë", "Renée", "José",
)  # fmt: skip
LAST_NAMES_EN = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards",
    "Hughes", "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood",
    "Turner", "Martin", "Cooper", "Hill", "Ward", "Morris", "Moore", "Clark", "Lee", "King",
    "Baker", "Harrison", "Morgan", "Allen", "James", "Scott", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Anderson", "Müller", "O'Brien",
    "Nuñez", "Brontë",
)  # fmt: skip

_TRANSLIT = (
    ("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("Ä", "Ae"), ("Ö", "Oe"), ("Ü", "Ue"),
    ("ë", "e"), ("é", "e"), ("ñ", "n"), ("'", ""),
)  # fmt: skip


def transliterate(name: str) -> str:
    for a, b in _TRANSLIT:
        name = name.replace(a, b)
    return name


def name_table(names: tuple[str, ...]) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(display, transliterated display, ascii lowercase for e-mail locals) per name."""
    display = pa.array(names)
    translit = pa.array([transliterate(n) for n in names])
    ascii_lower = pa.array([transliterate(n).lower().replace(" ", "") for n in names])
    return display, translit, ascii_lower


# ----------------------------------------------------------------------------- helpers


def take(values: pa.Array, idx: np.ndarray) -> pa.Array:
    return values.take(pa.array(idx, type=pa.int64()))


def choose(index: np.ndarray, *options: pa.Array | str) -> pa.Array:
    """Per row, the option picked by ``index`` (options may be scalars)."""
    n = len(index)
    arrays = [pa.array(np.full(n, o, dtype=object), pa.string()) if isinstance(o, str) else o
              for o in options]  # fmt: skip
    return pc.choose(pa.array(index.astype(np.int8)), *arrays)


def join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


_DIGITS4 = np.frombuffer("".join(f"{i:04d}" for i in range(10_000)).encode(), np.uint8).reshape(
    10_000, 4
)


def fixed(*parts: str | tuple[np.ndarray, int]) -> pa.Array:
    """Fixed-width strings built straight into an Arrow buffer: literal text and
    zero-padded non-negative integers ``(values, width)`` (the fast path for keys)."""
    n = next(len(p[0]) for p in parts if isinstance(p, tuple))
    widths = [len(p.encode()) if isinstance(p, str) else p[1] for p in parts]
    total = sum(widths)
    buf = np.empty((n, total), dtype=np.uint8)
    col = 0
    for part, w in zip(parts, widths, strict=True):
        if isinstance(part, str):
            buf[:, col : col + w] = np.frombuffer(part.encode(), dtype=np.uint8)
        else:  # four digits at a time from a lookup table, right to left
            v = np.asarray(part[0], dtype=np.int64)
            end = col + w
            while end > col:
                k = min(4, end - col)
                chunk = _DIGITS4[v % 10**k] if k == 4 else _DIGITS4[v % 10**k][:, 4 - k :]
                buf[:, end - k : end] = chunk
                v = v // 10**k
                end -= k
        col += w
    offsets = np.arange(0, (n + 1) * total, total, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf))


def digits(values: np.ndarray, width: int) -> pa.Array:
    """Decimal strings, zero-padded to ``width`` (width 1: no padding, variable length)."""
    if width > 1:
        return fixed((np.asarray(values), width))
    return pc.cast(pa.array(np.asarray(values).astype(np.int64)), pa.string())


def ids(prefix: str, seq: np.ndarray, width: int) -> pa.Array:
    return fixed(prefix, (np.asarray(seq), width))


def hex_strings(rng: np.random.Generator, n: int, nbytes: int) -> np.ndarray:
    """``n`` random lower-case hex strings of 2*nbytes characters (numpy bytes array)."""
    raw = rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8)
    nib = np.empty((n, nbytes * 2), dtype=np.uint8)
    nib[:, 0::2] = raw >> 4
    nib[:, 1::2] = raw & 15
    table = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    return table[nib].view(f"S{nbytes * 2}").ravel()


def uuid_like(rng: np.random.Generator, n: int) -> pa.Array:
    h = pa.array(hex_strings(rng, n, 16)).cast(pa.string())
    s = [pc.utf8_slice_codeunits(h, a, b) for a, b in ((0, 8), (8, 12), (12, 16), (16, 20))]
    return join(s[0], "-", s[1], "-", s[2], "-", s[3], "-", pc.utf8_slice_codeunits(h, 20, 32))


# ----------------------------------------------------------------------------- e-mail

EMAIL_DOMAINS = {
    "DE": (("gmail.com", 0.35), ("gmx.de", 0.2), ("web.de", 0.2), ("t-online.de", 0.1),
           ("outlook.com", 0.1), ("icloud.com", 0.05)),
    "AT": (("gmail.com", 0.35), ("gmx.at", 0.25), ("aon.at", 0.15), ("outlook.com", 0.15),
           ("icloud.com", 0.1)),
    "CH": (("gmail.com", 0.35), ("bluewin.ch", 0.3), ("gmx.ch", 0.15), ("outlook.com", 0.1),
           ("icloud.com", 0.1)),
    "GB": (("gmail.com", 0.4), ("hotmail.co.uk", 0.2), ("yahoo.co.uk", 0.15),
           ("outlook.com", 0.15), ("icloud.com", 0.1)),
    "US": (("gmail.com", 0.45), ("yahoo.com", 0.2), ("outlook.com", 0.15), ("icloud.com", 0.1),
           ("aol.com", 0.1)),
}  # fmt: skip

JUNK_EMAILS = ("test@test.com", "n/a", "noemail@none.com", "keine@angabe.de", "-", "x@x.x")
JUNK_PHONES = ("0000000000", "n/a", "-", "000", "1234567890")
PLUS_TAGS = ("shop", "news", "promo", "2024", "spam")


def scatter(n: int, parts: list[tuple[np.ndarray, pa.Array]]) -> pa.Array:
    """Assemble an array of ``n`` rows from parts computed on disjoint row subsets."""
    arrays, positions = [], np.empty(n, dtype=np.int64)
    offset = 0
    for rows, values in parts:
        positions[rows] = offset + np.arange(len(rows))
        offset += len(rows)
        arrays.append(values)
    return pa.concat_arrays(arrays).take(pa.array(positions))


def render_email(
    rng: np.random.Generator,
    local: pa.Array,
    domain: pa.Array,
    *,
    noise: float = 1.0,
) -> pa.Array:
    """Render e-mails with case/whitespace/googlemail/gmail-dot/plus-tag noise.

    ``noise`` scales every rate (0 gives the clean address). The noise is computed on the
    noisy rows only; clean rows are a plain join."""
    n = len(local)
    r = rng.random((5, n))
    tag_pick = rng.integers(0, len(PLUS_TAGS), n)
    is_gmail = pc.equal(domain, "gmail.com").to_numpy(zero_copy_only=False)
    googlemail = is_gmail & (r[0] < 0.15 * noise)
    dot_kind = np.where(is_gmail & (r[1] < 0.12 * noise), 1,
                        np.where(is_gmail & (r[1] > 1 - 0.08 * noise), 2, 0))  # fmt: skip
    plus = r[2] < 0.06 * noise
    case = np.where(r[3] < 0.05 * noise, 1, np.where(r[3] > 1 - 0.08 * noise, 2, 0))
    ws = np.where(r[4] < 0.03 * noise, 1, np.where(r[4] > 1 - 0.03 * noise, 2, 0))
    noisy = googlemail | (dot_kind > 0) | plus | (case > 0) | (ws > 0)
    clean_rows, rows = np.flatnonzero(~noisy), np.flatnonzero(noisy)
    clean = join(take(local, clean_rows), "@", take(domain, clean_rows))
    if len(rows) == 0:
        return clean
    loc, dom = take(local, rows), take(domain, rows)
    dom = pc.if_else(pa.array(googlemail[rows]), "googlemail.com", dom)
    dotless = pc.replace_substring(loc, ".", "")
    extra_dot = join(pc.utf8_slice_codeunits(loc, 0, 1), ".", pc.utf8_slice_codeunits(loc, 1, 64))
    loc = pc.choose(pa.array(dot_kind[rows].astype(np.int8)), loc, dotless, extra_dot)
    tag = take(pa.array(PLUS_TAGS), tag_pick[rows])
    loc = pc.if_else(pa.array(plus[rows]), join(loc, "+", tag), loc)
    email = join(loc, "@", dom)
    email = pc.choose(pa.array(case[rows].astype(np.int8)), email, pc.utf8_upper(email),
                      pc.utf8_capitalize(email))  # fmt: skip
    email = pc.choose(pa.array(ws[rows].astype(np.int8)), email, join(" ", email),
                      join(email, "  "))  # fmt: skip
    return scatter(n, [(clean_rows, clean), (rows, email)])


# ----------------------------------------------------------------------------- phones

# (country calling code, trunk prefix, mobile area codes, mobile subscriber digits,
#  landline area codes, landline subscriber digits)
PHONE_PLAN = {
    "DE": ("49", "0", ("151", "152", "160", "170", "171", "176"), 8, ("30", "40", "89", "69"), 8),
    "AT": ("43", "0", ("664", "676", "699", "650"), 7, ("1",), 7),
    "CH": ("41", "0", ("76", "77", "78", "79"), 7, ("44", "31", "61"), 7),
    "GB": ("44", "0", ("770", "791", "740", "782"), 7, ("20",), 8),
    "US": ("1", "", ("212", "415", "312", "617", "206"), 7, ("718", "646", "510"), 7),
}
PHONE_FORMATS = (
    "e164",  # +4915112345678
    "intl_spaced",  # +49 151 12345678
    "double_zero",  # 0049 151 12345678
    "national",  # 0151 12345678 / (212) 555-0123
    "bracketed",  # (0151) 1234 5678 / 212-555-0123
    "intl_trunk",  # +49 (0)151 123-45678 / +1 (212) 555-0123
)


def phone_subscriber(key: np.ndarray, n_digits: np.ndarray | int, salt: int) -> np.ndarray:
    """A number of ``n_digits`` digits, unique per key while key < 8*10^(n_digits-1) (an
    affine bijection), that never starts with 0 or 1 (US exchanges cannot)."""
    low = 10 ** (np.asarray(n_digits, dtype=np.int64) - 1)
    return (key.astype(np.int64) * 7_919 + salt) % (8 * low) + 2 * low


def render_phone(
    rng: np.random.Generator,
    cc: pa.Array,
    trunk: pa.Array,
    area: pa.Array,
    subscriber: pa.Array,
    allow_national: np.ndarray,
) -> tuple[pa.Array, np.ndarray]:
    """Render phone numbers in one of PHONE_FORMATS per row; national forms only where
    ``allow_national`` (the record says which country it is in). Returns (text, format).
    Each row is rendered once, in its own format."""
    n = len(cc)
    fmt = rng.choice(len(PHONE_FORMATS), size=n, p=(0.15, 0.25, 0.12, 0.25, 0.13, 0.10))
    fmt = np.where(np.isin(fmt, (3, 4)) & ~allow_national, 1, fmt)
    is_us_all = pc.equal(cc, "1").to_numpy(zero_copy_only=False)
    parts = []
    for f in range(len(PHONE_FORMATS)):
        rows = np.flatnonzero(fmt == f)
        if len(rows) == 0:
            continue
        c, t, a, sub = (take(x, rows) for x in (cc, trunk, area, subscriber))
        s1 = pc.utf8_slice_codeunits(sub, 0, 3)
        s2 = pc.utf8_slice_codeunits(sub, 3, 16)
        is_us = pa.array(is_us_all[rows])
        if f == 0:
            out = join("+", c, a, sub)
        elif f == 1:
            out = join("+", c, " ", a, " ", sub)
        elif f == 2:
            out = join("00", c, " ", a, " ", sub)
        elif f == 3:
            out = pc.if_else(is_us, join("(", a, ") ", s1, "-", s2), join(t, a, " ", sub))
        elif f == 4:
            out = pc.if_else(is_us, join(a, "-", s1, "-", s2),
                             join("(", t, a, ") ", s1, " ", s2))  # fmt: skip
        else:
            out = pc.if_else(is_us, join("+1 (", a, ") ", s1, "-", s2),
                             join("+", c, " (0)", a, " ", s1, "-", s2))  # fmt: skip
        parts.append((rows, out))
    return scatter(n, parts), fmt


# ----------------------------------------------------------------------------- names


def render_name(
    rng: np.random.Generator,
    display: pa.Array,
    translit: pa.Array,
    *,
    translit_rate: float,
    typo_rate: float,
    upper_rate: float = 0.0,
) -> pa.Array:
    """Names with umlauts or their transliteration, occasional typos and shouting case."""
    n = len(display)
    r = rng.random((3, n))
    name = pc.if_else(pa.array(r[0] < translit_rate), translit, display)
    # typo: swap the 2nd and 3rd character, or drop the 3rd
    swapped = join(
        pc.utf8_slice_codeunits(name, 0, 1),
        pc.utf8_slice_codeunits(name, 2, 3),
        pc.utf8_slice_codeunits(name, 1, 2),
        pc.utf8_slice_codeunits(name, 3, 64),
    )
    dropped = join(pc.utf8_slice_codeunits(name, 0, 2), pc.utf8_slice_codeunits(name, 3, 64))
    long_enough = pc.greater_equal(pc.utf8_length(name), 5).to_numpy(zero_copy_only=False)
    kind = np.where(long_enough & (r[1] < typo_rate / 2), 1,
                    np.where(long_enough & (r[1] > 1 - typo_rate / 2), 2, 0))  # fmt: skip
    name = pc.choose(pa.array(kind.astype(np.int8)), name, swapped, dropped)
    return pc.if_else(pa.array(r[2] < upper_rate), pc.utf8_upper(name), name)
