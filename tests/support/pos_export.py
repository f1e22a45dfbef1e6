"""A small shop's point-of-sale export, made up in the shape of the french bakery's download.

`,date,time,ticket_number,article,Quantity,unit_price`: an unnamed index column, one line per article
on a ticket, `Quantity` and `ticket_number` as floats (`1.0`), prices with a decimal comma and a euro
sign in quotes (`"0,90 €"`). It holds the export's quirks: returns (negative quantities), free items
(price 0), the same article scanned twice on one ticket, a price change, and a closed weekday.
Generated, never copied: the real export's licence keeps it out of the repository.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

ARTICLES = {"BAGUETTE": 0.90, "CROISSANT": 1.10, "PAIN AU CHOCOLAT": 1.20, "TRADITIONAL BAGUETTE": 1.20,
            "COUPE": 0.15}
OPTIONS: dict[str, Any] = {"columns": {"product_id": "article", "qty": "Quantity", "unit_price": "unit_price",
                                       "date": "date"}, "decimal": ",", "currency_signs": ["€"]}


@dataclass(frozen=True)
class PosExport:
    csv: bytes
    rows: list[dict[str, Any]]  # the same sales as JSON rows, one per line: revenue = qty x unit_price


def euros(price: float) -> str:
    """1.2 -> '1,20 €' as the bakery's export writes it."""
    return f"{price:.2f}".replace(".", ",") + " €"


def pos_export(days: int = 70, start: date = date(2021, 1, 2), seed: int = 0, closed_weekday: int = 2,
               datetime_column: bool = False) -> PosExport:
    """An export of `days` days from `start` (the shop closed every `closed_weekday`, 0 = Monday).

    With `datetime_column`, date and time are one column `date` written without a zone
    (`2021-01-02 08:38:00`), as most tills write them, instead of the bakery's `date` and `time`.
    """
    rng = np.random.default_rng(seed)
    header = ",date,ticket_number,article,Quantity,unit_price" if datetime_column else \
        ",date,time,ticket_number,article,Quantity,unit_price"
    lines = [header]
    rows: list[dict[str, Any]] = []
    ticket = 150040
    for offset in range(days):
        day = start + timedelta(days=offset)
        if day.weekday() == closed_weekday:
            continue
        for _ in range(int(rng.integers(8, 15))):
            ticket += 1
            when = f"{int(rng.integers(7, 20)):02d}:{int(rng.integers(0, 60)):02d}"
            names = list(rng.choice(list(ARTICLES), size=int(rng.integers(1, 4))))
            if rng.random() < 0.1:
                names.append(names[0])  # the same article scanned twice on one ticket: two sales
            for article in names:
                price = ARTICLES[article] + (0.10 if article == "TRADITIONAL BAGUETTE" and offset > days // 2 else 0)
                qty = float(rng.integers(1, 6))
                if rng.random() < 0.03:
                    qty = -qty  # a return
                if rng.random() < 0.02:
                    price = 0.0  # a free item
                price = round(price, 2)
                stamp = f"{day.isoformat()} {when}:00" if datetime_column else f"{day.isoformat()},{when}"
                lines.append(f'{len(lines) - 1},{stamp},{ticket}.0,{article},{qty},"{euros(price)}"')
                rows.append({"product_id": article, "date": day.isoformat(), "qty": qty, "revenue": qty * price})
    return PosExport(("\n".join(lines) + "\n").encode(), rows)
