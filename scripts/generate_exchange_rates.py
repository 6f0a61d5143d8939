"""Write seeds/exchange_rates.csv: monthly reference rates for EUR, USD, GBP and CHF.

Rates are expressed as EUR per one unit of the currency (the staging layer converts to
any base currency through EUR). From 1999 (the euro's introduction) to 2020 the anchors
are the ECB's annual average reference rates, placed mid-year; from 2021 quarterly
anchor points follow the ECB reference rates rounded to two or three decimals. Months
in between are interpolated linearly, and months after the last anchor are held flat
(a planning rate). Deterministic: re-running the script writes the same file. Users with
their own rates point the project config's `exchange_rates:` at a file of the same
format (docs/bring-your-own-data.md).

    python scripts/generate_exchange_rates.py
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
FIRST_MONTH = date(1999, 1, 1)
LAST_MONTH = date(2027, 12, 1)

# ECB annual average reference rates 1999-2020 (units of currency per EUR), placed on 1 July
ANNUAL: dict[str, list[float]] = {
    "USD": [1.066, 0.924, 0.896, 0.946, 1.131, 1.244, 1.245, 1.256, 1.371, 1.471, 1.395,
            1.326, 1.392, 1.285, 1.328, 1.329, 1.110, 1.107, 1.130, 1.181, 1.120, 1.142],
    "GBP": [0.659, 0.609, 0.622, 0.629, 0.692, 0.679, 0.684, 0.682, 0.684, 0.796, 0.891,
            0.858, 0.868, 0.811, 0.849, 0.806, 0.726, 0.819, 0.877, 0.885, 0.878, 0.890],
    "CHF": [1.600, 1.558, 1.511, 1.467, 1.521, 1.544, 1.548, 1.573, 1.643, 1.587, 1.510,
            1.380, 1.233, 1.205, 1.231, 1.215, 1.068, 1.090, 1.112, 1.155, 1.112, 1.071],
}  # fmt: skip


def _annual(code: str) -> list[tuple[date, float]]:
    return [(date(1999 + i, 7, 1), rate) for i, rate in enumerate(ANNUAL[code])]


# quarter start -> units of currency per EUR (as quoted by the ECB: EUR/USD, EUR/GBP, EUR/CHF)
ANCHORS: dict[str, list[tuple[date, float]]] = {
    "USD": [
        *_annual("USD"),
        (date(2021, 1, 1), 1.217),
        (date(2021, 4, 1), 1.175),
        (date(2021, 7, 1), 1.186),
        (date(2021, 10, 1), 1.158),
        (date(2022, 1, 1), 1.131),
        (date(2022, 4, 1), 1.082),
        (date(2022, 7, 1), 1.020),
        (date(2022, 10, 1), 0.983),
        (date(2023, 1, 1), 1.078),
        (date(2023, 4, 1), 1.097),
        (date(2023, 7, 1), 1.106),
        (date(2023, 10, 1), 1.057),
        (date(2024, 1, 1), 1.091),
        (date(2024, 4, 1), 1.072),
        (date(2024, 7, 1), 1.084),
        (date(2024, 10, 1), 1.090),
        (date(2025, 1, 1), 1.035),
        (date(2025, 4, 1), 1.122),
        (date(2025, 7, 1), 1.168),
        (date(2025, 10, 1), 1.163),
        (date(2026, 1, 1), 1.170),
        (date(2026, 7, 1), 1.160),
    ],
    "GBP": [
        *_annual("GBP"),
        (date(2021, 1, 1), 0.894),
        (date(2021, 4, 1), 0.862),
        (date(2021, 7, 1), 0.855),
        (date(2021, 10, 1), 0.849),
        (date(2022, 1, 1), 0.836),
        (date(2022, 4, 1), 0.841),
        (date(2022, 7, 1), 0.849),
        (date(2022, 10, 1), 0.871),
        (date(2023, 1, 1), 0.884),
        (date(2023, 4, 1), 0.879),
        (date(2023, 7, 1), 0.858),
        (date(2023, 10, 1), 0.869),
        (date(2024, 1, 1), 0.866),
        (date(2024, 4, 1), 0.856),
        (date(2024, 7, 1), 0.846),
        (date(2024, 10, 1), 0.835),
        (date(2025, 1, 1), 0.832),
        (date(2025, 4, 1), 0.849),
        (date(2025, 7, 1), 0.862),
        (date(2025, 10, 1), 0.873),
        (date(2026, 1, 1), 0.870),
        (date(2026, 7, 1), 0.868),
    ],
    "CHF": [
        *_annual("CHF"),
        (date(2021, 1, 1), 1.080),
        (date(2021, 4, 1), 1.102),
        (date(2021, 7, 1), 1.088),
        (date(2021, 10, 1), 1.075),
        (date(2022, 1, 1), 1.038),
        (date(2022, 4, 1), 1.020),
        (date(2022, 7, 1), 0.985),
        (date(2022, 10, 1), 0.972),
        (date(2023, 1, 1), 0.993),
        (date(2023, 4, 1), 0.991),
        (date(2023, 7, 1), 0.973),
        (date(2023, 10, 1), 0.958),
        (date(2024, 1, 1), 0.937),
        (date(2024, 4, 1), 0.978),
        (date(2024, 7, 1), 0.963),
        (date(2024, 10, 1), 0.943),
        (date(2025, 1, 1), 0.940),
        (date(2025, 4, 1), 0.938),
        (date(2025, 7, 1), 0.934),
        (date(2025, 10, 1), 0.930),
        (date(2026, 1, 1), 0.928),
        (date(2026, 7, 1), 0.925),
    ],
}


def months(first: date, last: date) -> list[date]:
    out, y, m = [], first.year, first.month
    while date(y, m, 1) <= last:
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def per_eur(anchors: list[tuple[date, float]], month: date) -> float:
    if month <= anchors[0][0]:
        return anchors[0][1]
    for (d0, r0), (d1, r1) in zip(anchors, anchors[1:], strict=False):
        if d0 <= month <= d1:
            t = (month - d0).days / (d1 - d0).days
            return r0 + t * (r1 - r0)
    return anchors[-1][1]


def main() -> None:
    path = PROJECT_DIR / "seeds" / "exchange_rates.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["rate_month", "currency_code", "eur_per_unit"])
        for month in months(FIRST_MONTH, LAST_MONTH):
            w.writerow([month.isoformat(), "EUR", "1.000000"])
            for code, anchors in ANCHORS.items():
                w.writerow([month.isoformat(), code, f"{1 / per_eur(anchors, month):.6f}"])
    print(f"wrote {path.relative_to(PROJECT_DIR)}")


if __name__ == "__main__":
    main()
