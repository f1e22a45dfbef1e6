"""A shop's point-of-sale export of the bakery's shape, made up (the real one may not be copied here):
one line per article on a ticket, so one product and day has many lines, identical ones included (the
same article scanned twice); free items (unit price 0), returns, a closed weekday and a closure week,
seasonal articles, a product silent for the last days, a one-day product and a price change."""

from datetime import date, timedelta

import numpy as np

CLOSED_WEEKDAY = 2  # Wednesday (Monday = 0)


def pos_lines(days: int = 240, products: int = 24, seed: int = 0, end: date = date(2022, 9, 2),
              free_share: float = 0.02, return_share: float = 0.01) -> list[dict]:
    """Sales rows as a POS exports them (`product_id`, `date`, `qty`, `revenue` = qty x the line's unit
    price), one per article and ticket line; days run to `end`, the shop is closed on CLOSED_WEEKDAY and for
    the week starting 30 days before `end`."""
    rng = np.random.default_rng(seed)
    first = end - timedelta(days=days - 1)
    closure = {end - timedelta(days=30 - k) for k in range(7)}
    price = np.round(rng.uniform(0.5, 6.0, products), 2)
    rate = rng.gamma(1.2, 6.0, products)  # mean units a day: slow movers and best sellers
    season = rng.random(products) < 0.2  # sells only in the first half of the window
    lines: list[dict] = []
    for k in range(days):
        day = first + timedelta(days=k)
        if day.weekday() == CLOSED_WEEKDAY or day in closure:
            continue
        weekday = 1.3 if day.weekday() >= 5 else 1.0
        for p in range(products):
            if (season[p] and k > days // 2) or (p == 1 and k >= days - 10):  # product 1: silent for 10 days
                continue
            units = rng.poisson(rate[p] * weekday)
            unit_price = price[p] * (1.1 if k > days * 2 // 3 and p % 5 == 0 else 1.0)  # a price change
            for _ in range(units):  # one line per unit sold: identical lines are separate sales
                free = rng.random() < free_share
                qty = -1.0 if rng.random() < return_share else 1.0
                lines.append({"product_id": f"art{p:02d}", "date": day.isoformat(), "qty": qty,
                              "revenue": 0.0 if free else round(qty * unit_price, 2)})
    lines.append({"product_id": "one-day", "date": (end - timedelta(days=3)).isoformat(), "qty": 2.0, "revenue": 5.0})
    lines.append({"product_id": "all-free", "date": (end - timedelta(days=5)).isoformat(), "qty": 3.0, "revenue": 0.0})
    return lines
