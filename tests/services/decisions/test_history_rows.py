"""At-risk and promotions build the year of history only for the rows a silence can decide
(`planned_demand.PastYear.silence_rows`) and bound the request by them: their answers are the full grid's, byte for
byte, and an inventory of steady sellers is no longer capped at MAX_GRID_CELLS / 364 items."""

from datetime import date, timedelta

import numpy as np
import pytest

from app.config import Settings
from app.schemas.at_risk import AtRiskRequest
from app.schemas.promotions import PromotionsRequest
from app.services.decisions import at_risk, promotions
from app.services.decisions.at_risk import find_at_risk
from app.services.decisions.planned_demand import HISTORY_DAYS, PastYear, planned_demand
from app.services.decisions.promotions import plan_promotions
from app.utils.errors import SmartShelfError
from app.utils.opening_days import OpeningDays
from app.utils.sales_frame import clean_sales

AS_OF = date(2018, 6, 30)
SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]


def _shop(seed: int) -> tuple[list[dict], list[dict]]:
    """Items of every kind, 8 of each: steady daily sellers, intermittent ones with earlier silences now silent
    (stock on the shelf and an empty shelf: the catalogue's rate of waking up), ones selling again after a silence
    within the last 28 days, weekend sellers, sellers with returns, ones whose sales are all over a year old and
    ones never sold. Sundays closed."""
    rng = np.random.default_rng(seed)
    days = [AS_OF - timedelta(days=d) for d in range(420)]
    sales: list[dict] = []
    items: list[dict] = []
    kinds = ["steady", "silent", "silent_empty", "woken", "weekend", "returns", "old", "never"]
    for k in range(8 * len(kinds)):
        kind = kinds[k % len(kinds)]
        pid = f"{kind}{k}"
        for back, day in enumerate(days):
            if day.weekday() == 6:
                continue
            if kind == "steady":
                qty = rng.poisson(4)
            elif kind in ("silent", "silent_empty"):  # sells in bursts with silences, silent for the last 40 days
                qty = rng.poisson(2) if back >= 40 and (back // 20) % 3 == 0 else 0
            elif kind == "woken":  # silent days 10..45 before as_of, selling before and again since
                qty = rng.poisson(1.5) if back < 10 or back > 45 else 0
            elif kind == "weekend":
                qty = rng.poisson(3) if day.weekday() == 5 else 0
            elif kind == "returns":
                qty = rng.poisson(2) - (2 if back % 17 == 0 else 0)
            elif kind == "old":
                qty = rng.poisson(2) if back > HISTORY_DAYS + 10 else 0
            else:
                qty = 0
            if qty:
                sales.append({"product_id": pid, "date": day.isoformat(), "qty": float(qty)})
        items.append({"product_id": pid, "name": pid, "price": 3.0, "cost": 1.5,
                      "quantity": 0.0 if kind == "silent_empty" or k % 5 == 0 else float(rng.integers(1, 30)),
                      "expiry_date": (AS_OF + timedelta(days=int(rng.integers(1, 30)))).isoformat()
                      if k % 3 else None,
                      "lead_time_days": int(rng.integers(1, 10)), "on_order": float(k % 4 == 0) * 5,
                      "categories": ["bakery"]})
    return items, sales


def _every_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """The full-grid computation: every row's year read (reorder's way, no budget, the grid's own wake tables)."""
    def full(*args, **kwargs):  # type: ignore[no-untyped-def]
        return planned_demand(*args[:8], None)
    monkeypatch.setattr(at_risk, "planned_demand", full)
    monkeypatch.setattr(promotions, "planned_demand", full)


@pytest.mark.parametrize("seed", [0, 1])
def test_at_risk_and_promotions_answer_as_the_full_grid(monkeypatch, seed):
    items, sales = _shop(seed)
    inventory = [{key: value for key, value in item.items() if key != "categories"} | {"sku": item["product_id"]}
                 for item in items]
    events = [{"id": f"e{j}", "date": (AS_OF + timedelta(days=j + 1)).isoformat(), "title": "Market day",
               "audience": "families"} for j in range(20)]
    risk = AtRiskRequest.model_validate({"shop_id": "s", "as_of": AS_OF.isoformat(), "inventory": inventory,
                                         "sales": sales, "closed_weekdays": ["sunday"]})
    promo = PromotionsRequest.model_validate({"shop_id": "s", "as_of": AS_OF.isoformat(), "items": items,
                                              "calendar_events": events, "sales": sales,
                                              "closed_weekdays": ["sunday"]})
    # the mix reaches every branch: silences that decide (stock on hand and an empty shelf), returns, steady rows
    columns, _ = clean_sales(risk, [i["product_id"] for i in items], None, "inventory")
    n = len(items)
    on_hand = np.array([i["quantity"] for i in items])
    opening = OpeningDays(closed_weekdays=frozenset({6}))
    protection = np.array([i["lead_time_days"] + 1 for i in items])
    planned = planned_demand(columns, columns, (AS_OF - date(1970, 1, 1)).days, opening, protection, np.ones((n, 30)),
                             on_hand, 0.95, None)
    silent, woke = planned.protection.silent.applies, planned.protection.woke
    assert (silent & (on_hand <= 0)).any() and (silent & (on_hand > 0)).any() and woke.any()
    past = PastYear.of(columns, n, (AS_OF - date(1970, 1, 1)).days, opening)
    rows = past.silence_rows(*past.selling(), planned.open_protection)
    assert 0 < rows.size < n // 2 and np.isin(np.flatnonzero(silent | woke), rows).all()

    answers = find_at_risk(risk, SETTINGS).model_dump_json(), plan_promotions(promo, SETTINGS).model_dump_json()
    _every_row(monkeypatch)
    assert find_at_risk(risk, SETTINGS).model_dump_json() == answers[0]
    assert plan_promotions(promo, SETTINGS).model_dump_json() == answers[1]


def test_steady_sellers_are_admitted_past_a_year_per_item_and_the_413_says_what_counts():
    """50,000 items selling every day of the last week: none of them can a silence decide, so their year is never
    built (the cap was MAX_GRID_CELLS / 364 = 13,736 items); at a budget of 100 x 364 cells, 200 items silent for
    a month are refused and the 413 names the rows that count."""
    n = 50_000
    items = [{"product_id": f"p{k}", "name": "x", "quantity": 100.0, "price": 2.0} for k in range(n)]
    week = [(AS_OF - timedelta(days=d)).isoformat() for d in range(3)]
    sales = [{"product_id": f"p{k}", "date": day, "qty": 2.0} for k in range(n) for day in week]
    request = PromotionsRequest.model_validate({"shop_id": "s", "as_of": AS_OF.isoformat(), "items": items,
                                                "calendar_events": [], "sales": sales})
    assert plan_promotions(request, SETTINGS).meta.items_received == n

    small = Settings(_env_file=None, max_grid_cells=100 * HISTORY_DAYS)  # type: ignore[call-arg]
    month_ago = [{"product_id": f"p{k}", "date": (AS_OF - timedelta(days=30 + d)).isoformat(), "qty": 2.0}
                 for k in range(200) for d in range(5)]
    daily = [{"product_id": "daily", "date": (AS_OF - timedelta(days=d)).isoformat(), "qty": 9.0} for d in range(60)]
    request = AtRiskRequest.model_validate({"shop_id": "s", "as_of": AS_OF.isoformat(), "sales": month_ago + daily,
                                            "inventory": [{"product_id": pid, "sku": "x", "name": "x",
                                                           "quantity": 1000.0, "price": 2.0}
                                                          for pid in [f"p{k}" for k in range(200)] + ["daily"]]})
    with pytest.raises(SmartShelfError, match="200 products a silence can decide x 364 days"):
        find_at_risk(request, small)
