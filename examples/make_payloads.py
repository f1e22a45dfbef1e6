"""Write examples/payloads/*.json from the real store-item sales in ../shared/data.

Run once from the repository root (`python examples/make_payloads.py`); the JSON files are
committed so the examples work without the data set. Sales are real (store 2, items 1-8, the
last 180 days of 2017); stock levels, prices, costs, expiry dates and events are illustrative,
as the data set has none.
"""

import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "store-item" / "train.csv.gz"
AS_OF = date(2018, 1, 1)
PRICES = {1: 3.49, 2: 5.99, 3: 2.29, 4: 1.99, 5: 4.49, 6: 6.99, 7: 2.79, 8: 8.49}
NAMES = {1: "Fresh Milk 1L", 2: "Greek Yogurt 500g", 3: "Sourdough Bread", 4: "Bananas 1kg", 5: "Free-range Eggs 6",
         6: "Cheddar 400g", 7: "Orange Juice 1L", 8: "Coffee Beans 250g"}


def sales(days: int, items: range) -> list[dict]:
    frame = pd.read_csv(DATA, parse_dates=["date"])
    frame = frame[(frame["store"] == 2) & frame["item"].isin(items)]
    frame = frame[frame["date"] > pd.Timestamp(AS_OF) - pd.Timedelta(days=days + 1)]
    return [{"product_id": f"p{item}", "date": day.strftime("%Y-%m-%d"), "qty": float(qty),
             "revenue": round(float(qty) * PRICES[item], 2)}
            for item, day, qty in zip(frame["item"], frame["date"], frame["sales"], strict=True)]


STOCK = [8, 240, 35, 60, 12, 90, 140, 300]
SHELF_DAYS = [3, 6, 2, 5, 12, 40, 9, 300]


def as_series(rows: list[dict]) -> list[dict]:
    """The same sales rows as one series per product (qty and revenue, one value a day, null = no row)."""
    days: dict[str, dict[date, dict]] = {}
    for row in rows:
        days.setdefault(row["product_id"], {})[date.fromisoformat(row["date"])] = row
    series = []
    for product, by_day in days.items():
        start, end = min(by_day), max(by_day)
        span = [by_day.get(start + timedelta(days=d)) for d in range((end - start).days + 1)]
        series.append({"product_id": product, "start": start.isoformat(),
                       "qty": [None if r is None else r["qty"] for r in span],
                       "revenue": [None if r is None else r["revenue"] for r in span]})
    return series


def inventory(items: range) -> list[dict]:
    return [{"product_id": f"p{i}", "sku": f"SKU{i:03d}", "name": NAMES[i], "quantity": STOCK[i - 1],
             "expiry_date": (AS_OF + timedelta(days=SHELF_DAYS[i - 1])).isoformat(),
             "price": PRICES[i], "cost": round(PRICES[i] * 0.55, 2)} for i in items]


def main() -> None:
    items = range(1, 9)
    events = [{"id": "evt_1", "date": "2018-01-05", "title": "Friday family deals", "audience": "families"},
              {"id": "evt_2", "date": "2018-01-13", "title": "Weekend brunch", "audience": "adults"}]
    payloads = {
        "at-risk": {"shop_id": "store_2", "as_of": AS_OF.isoformat(), "inventory": inventory(items),
                    "sales": sales(60, items)},
        "forecast": {"shop_id": "store_2", "product_ids": ["p1", "p2", "p3"], "sales": sales(180, range(1, 4)),
                     "periods": 14, "confidence_interval": 0.9},
        # the forecast request above with its sales as series: the same request in another form
        "forecast-series": {"shop_id": "store_2", "product_ids": ["p1", "p2", "p3"],
                            "series": as_series(sales(180, range(1, 4))), "periods": 14, "confidence_interval": 0.9},
        # a shop model for store 2: its eight items over the last year of 2017 (at least 56 days + `periods`)
        "train": {"shop_id": "store_2", "series": as_series(sales(365, items)), "periods": 28},
        "forecast-batch": {"shop_id": "store_2", "sales": sales(180, items), "periods": 14},
        "reorder": {"shop_id": "store_2", "as_of": AS_OF.isoformat(), "service_level": 0.95,
                    "inventory": [{**{k: row[k] for k in ("product_id", "name", "quantity", "price", "cost")},
                                   "lead_time_days": 4, "pack_size": 6, "min_order_qty": 12}
                                  for row in inventory(items)],
                    "sales": sales(180, items)},
        "anomalies": {"shop_id": "store_2", "sales": sales(120, items)},
        "promotions": {"shop_id": "store_2", "as_of": AS_OF.isoformat(), "calendar_events": events,
                       "items": [{**{k: v for k, v in row.items() if k != "sku"}, "categories": ["grocery"]}
                                 for row in inventory(items)
                                 if row["product_id"] in ("p1", "p2", "p3", "p4", "p5")],
                       "sales": sales(30, items)},
        "insights": {"shop_id": "store_2", "sales": sales(120, items), "granularity": "weekly", "top_k": 5,
                     "range": {"start": "2017-10-02", "end": "2017-12-31"}},
    }
    for name, payload in payloads.items():
        (HERE / "payloads" / f"{name}.json").write_text(json.dumps(payload, separators=(",", ":")) + "\n")
        print(f"examples/payloads/{name}.json: {len(json.dumps(payload)) // 1024} KB")


if __name__ == "__main__":
    main()
