"""Review 6 F3, F4, F9, F10: what at-risk says of units on hand that do not sell, of a silence's demand on closed
days and of the rate it quotes, in agreement with reorder and promotions (through the API)."""

from datetime import date, timedelta

import numpy as np
import pytest

from tests.services.decisions.test_stock_agreement import AS_OF, PREFIX, _in, _steady

# AS_OF (2025-09-28) is a Sunday


def _at_risk(client, common: dict, inventory: list[dict]) -> dict:
    response = client.post(f"{PREFIX}/at-risk", json={**common, "inventory": inventory})
    assert response.status_code == 200, response.text
    return {r["product_id"]: r for r in response.json()["at_risk"]}


def _reorder(client, common: dict, inventory: list[dict]) -> dict:
    response = client.post(f"{PREFIX}/reorder", json={**common, "inventory": inventory})
    assert response.status_code == 200, response.text
    return {r["product_id"]: r for r in response.json()["recommendations"]}


def _unmatched(client, common: dict, items: list[dict]) -> dict:
    events = [{"id": "market", "date": _in(1), "title": "Market", "audience": "all"}]
    response = client.post(f"{PREFIX}/promotions", json={**common, "items": items, "calendar_events": events})
    assert response.status_code == 200, response.text
    return {u["product_id"]: u["reason"] for u in response.json()["unmatched"]}


def _saturdays(product: str, qty: float, weeks: int) -> list[dict]:
    """A cake sold only on Saturdays (`qty` each) for `weeks` weeks up to AS_OF."""
    last = AS_OF - timedelta(days=1)
    return [{"product_id": product, "date": (last - timedelta(weeks=k)).isoformat(), "qty": qty,
             "revenue": qty * 20.0} for k in range(weeks)]


def test_units_on_hand_no_one_buys_before_expiry_are_a_write_off_not_out_of_stock(client):
    """Review 6 F3: the fraisier, 4 cakes expiring in 2 days its forecast sells none of (it sells on another
    weekday), read "Out of stock: no usable units ... Restock today" while reorder said "clear them, see at-risk"
    and promotions "donate them"."""
    common = {"shop_id": "cake", "as_of": AS_OF.isoformat(), "sales": _saturdays("cake", 4.0, 30)}
    item = {"product_id": "cake", "quantity": 4, "price": 20.0, "cost": 6.0, "expiry_date": _in(2),
            "shelf_life_days": 2, "lead_time_days": 1}
    entry = _at_risk(client, common, [item])["cake"]
    assert entry["expected_unsold_units"] == 4, entry
    assert "out_of_stock" not in entry["reasons"] and "unsellable_before_expiry" in entry["reasons"], entry
    action = entry["recommended_action"]
    assert action["action_type"] == "clearance" and "Restock today" not in action["reasoning"], action
    assert "donate them or record the write-off" in action["reasoning"], action
    assert "0.00/day by its forecast" in action["reasoning"] and "a demand of about 0 units" not in action["reasoning"]
    assert "clear them, see at-risk" in _reorder(client, common, [item])["cake"]["reasoning"]
    assert "donate them or record the write-off" in _unmatched(client, common, [item])["cake"]


def test_an_empty_shelf_with_no_demand_within_an_orders_selling_window_is_not_out_of_stock(client):
    """Review 6 F3: an empty shelf of a cake that sells on Saturdays only, 2-day shelf life, 1-day lead time: an
    order placed on Sunday sells nothing before it expires (Monday to Tuesday), so no "Restock today", as reorder
    orders none; the same shelf on a Thursday is restocked."""
    common = {"shop_id": "cake", "as_of": AS_OF.isoformat(), "sales": _saturdays("cake", 4.0, 30)}
    item = {"product_id": "cake", "quantity": 0, "price": 20.0, "cost": 6.0, "shelf_life_days": 2,
            "lead_time_days": 1}
    assert "cake" not in _at_risk(client, common, [item])
    assert _reorder(client, common, [item])["cake"]["recommended_order_qty"] == 0
    thursday = AS_OF + timedelta(days=4)
    later = {**common, "as_of": thursday.isoformat(),
             "sales": [{"product_id": "cake", "date": (thursday - timedelta(days=1 + 7 * k + 4)).isoformat(),
                        "qty": 4.0, "revenue": 80.0} for k in range(30)]}
    entry = _at_risk(client, later, [item])["cake"]
    assert entry["reasons"][0] == "out_of_stock" and "Restock today" in entry["recommended_action"]["reasoning"]


def test_units_expiring_today_are_a_write_off_and_tomorrows_shelf_a_restock(client):
    """Review 6 F3: 226 baguettes expiring on as_of read "Out of stock: no usable units ... Restock today", not a
    word about the 226 loaves (promotions: "expires today: no time left for a promotion")."""
    common = {"shop_id": "bread", "as_of": AS_OF.isoformat(), "sales": _steady("bread", 200.0, 120)}
    item = {"product_id": "bread", "quantity": 226, "price": 1.1, "cost": 0.3, "expiry_date": AS_OF.isoformat(),
            "lead_time_days": 1}
    entry = _at_risk(client, common, [item])["bread"]
    assert "out_of_stock" not in entry["reasons"], entry["reasons"]
    action = entry["recommended_action"]
    assert action["action_type"] == "clearance" and action["discount_range"] is None, action
    assert action["reasoning"].startswith("Expires today: the 226 units on hand"), action["reasoning"]
    assert "no time is left for a markdown" in action["reasoning"] and "write-off" in action["reasoning"]
    assert "reorder sizes the order" in action["reasoning"]
    assert _unmatched(client, common, [item])["bread"] == "expires today: no time left for a promotion"


def test_a_season_ending_today_has_no_time_left_for_a_markdown_in_at_risk_either(client):
    """Review 6 F10: the season ending on as_of: at-risk "Clear them at 40% off before they expire", promotions
    "its season ends today: no time left for a promotion". Today is its last selling day in both."""
    common = {"shop_id": "cake", "as_of": AS_OF.isoformat(), "sales": _steady("tart", 3.0, 120)}
    item = {"product_id": "tart", "quantity": 10, "price": 20.0, "cost": 6.0, "expiry_date": _in(2),
            "season_end": AS_OF.isoformat()}
    action = _at_risk(client, common, [item])["tart"]["recommended_action"]
    assert action["discount_range"] is None and "% off" not in action["reasoning"], action
    assert action["reasoning"].startswith("Its season ends today with 10 units on hand: today is its last day "
                                          "for sale, so no time is left for a markdown"), action["reasoning"]
    assert "write-off" in action["reasoning"]
    assert _unmatched(client, common, [item])["tart"] == "its season ends today: no time left for a promotion"
    kept = _at_risk(client, common, [{**item, "expiry_date": None}])["tart"]["recommended_action"]
    assert kept["discount_range"] is None and "store what is left for next season" in kept["reasoning"], kept


def test_at_risk_quotes_the_rate_over_the_days_to_expiry_as_promotions(client):
    """Review 6 F9: "5.60/day by its forecast (holt_winters), a demand of about 18.6 units in the 2 days to
    expiry" (the 28-day mean beside the 2 days' demand) while promotions said 9.31/day. The rate is the demand over
    the days the sentence is about, in both."""
    weekend = [{"product_id": "kouign", "date": (AS_OF - timedelta(days=k)).isoformat(), "revenue": 30.0,
                "qty": 10.0 if (AS_OF - timedelta(days=k)).weekday() in (0, 1) else 1.0} for k in range(120)]
    common = {"shop_id": "pace", "as_of": AS_OF.isoformat(), "sales": weekend}
    item = {"product_id": "kouign", "quantity": 15, "price": 3.0, "cost": 0.5, "expiry_date": _in(2)}
    reasoning = _at_risk(client, common, [item])["kouign"]["recommended_action"]["reasoning"]
    demand = float(reasoning.split("a demand of about ")[1].split(" unit")[0])
    rate = float(reasoning.split("/day by its forecast")[0].rsplit(", ", 1)[1])
    assert rate == pytest.approx(demand / 2, abs=0.06), reasoning
    reason = _unmatched(client, common, [item])["kouign"]
    assert reason.startswith("sells out at full price") and f"{rate:.2f}/day" in reason, (reasoning, reason)


def _sandwich(silent_for: int) -> list[dict]:
    """A sandwich selling about 3 a day (Poisson, seeded) on open days (closed Mondays), paused twice for 10 days
    (its earlier silences), none on its last `silent_for` days up to AS_OF."""
    rng = np.random.default_rng(4)
    rows = []
    for back in range(300):
        day = AS_OF - timedelta(days=back)
        qty = int(rng.poisson(3.0))
        paused = 60 <= back < 70 or 150 <= back < 160
        if day.weekday() != 0 and qty and back >= silent_for and not paused:
            rows.append({"product_id": "sandwich", "date": day.isoformat(), "qty": qty, "revenue": qty * 5.0})
    return rows


def test_a_silences_demand_sells_nothing_on_a_closed_day(client):
    """Review 6 F4: a silence's flat demand sold on closed days: 4 sandwiches expiring on a closed day were
    "sold" ("it sells the 4 units on hand within the 0 open days left"). Spread over the open days of the
    interval, the closed day sells none: they expire unsold while the shop is closed, in every answer."""
    common = {"shop_id": "sandwich", "as_of": AS_OF.isoformat(), "sales": _sandwich(4),
              "closed_weekdays": ["monday"]}
    item = {"product_id": "sandwich", "quantity": 4, "price": 5.0, "cost": 2.0, "expiry_date": _in(1),
            "shelf_life_days": 1, "lead_time_days": 1}
    reorder = _reorder(client, common, [item])["sandwich"]
    assert reorder["demand_distribution"] == "after_silence", reorder
    assert reorder["usable_quantity"] == 0 and reorder["at_risk_quantity"] == 4, reorder
    action = _at_risk(client, common, [item])["sandwich"]["recommended_action"]
    assert action["reasoning"].startswith("Closed until expiry"), action
    reason = _unmatched(client, common, [item])["sandwich"]
    assert reason.startswith("the shop is closed until its last selling day"), reason
    assert "within the 0 open days" not in reason


def test_one_open_day_without_a_sale_is_no_silence(client):
    """Review 6 F4: with a closed day the protection interval has 1 open day, and one Sunday without a sandwich
    sale was "no sale in the last 1 days: what followed its earlier silences as long", replacing the forecast."""
    common = {"shop_id": "sandwich", "as_of": AS_OF.isoformat(), "sales": _sandwich(1),
              "closed_weekdays": ["monday"]}
    item = {"product_id": "sandwich", "quantity": 4, "price": 5.0, "cost": 2.0, "expiry_date": _in(3),
            "shelf_life_days": 1, "lead_time_days": 1}
    reorder = _reorder(client, common, [item])["sandwich"]
    assert reorder["demand_distribution"] != "after_silence", reorder["reasoning"]
    assert "no sale in the last 1 days" not in reorder["reasoning"]
    assert date.fromisoformat(_in(1)).weekday() == 0
