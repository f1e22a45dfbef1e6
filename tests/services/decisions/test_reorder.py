"""Reorder: formulas against stockpyl, orders, rounding, urgency, ABC/XYZ, through the API."""

import re
from datetime import date, timedelta

import numpy as np
import pytest
from stockpyl.eoq import economic_order_quantity
from stockpyl.rq import r_q_eoqss_approximation

from app.schemas.reorder import REORDER_EXAMPLE
from app.services.decisions.inventory_math import eoq, round_order, safety_stock
from app.services.decisions.reorder import abc_classes, xyz_classes

PREFIX = "/api/v1/smart-shelf"


@pytest.mark.parametrize("demand", [50.0, 1300.0, 20000.0])
@pytest.mark.parametrize("fixed_cost", [8.0, 120.0])
@pytest.mark.parametrize("holding", [0.225, 3.0])
def test_eoq_matches_stockpyl(demand, fixed_cost, holding):
    expected, _ = economic_order_quantity(fixed_cost, holding, demand)
    assert eoq(np.array([demand]), fixed_cost, np.array([holding]))[0] == pytest.approx(expected)


@pytest.mark.parametrize("level", [0.8, 0.9, 0.95, 0.99])
@pytest.mark.parametrize("daily_mean, daily_sd, lead", [(10.0, 3.0, 7), (250.0, 80.0, 2), (1.5, 1.2, 21)])
def test_reorder_point_matches_stockpyl_eoq_plus_safety_stock(level, daily_mean, daily_sd, lead):
    holding = 0.5
    stockout = holding * level / (1 - level)  # critical ratio p / (p + h) = service level
    expected, _ = r_q_eoqss_approximation(holding, stockout, 10.0, daily_mean, daily_sd, lead)
    ours = daily_mean * lead + safety_stock(np.array([daily_sd]), np.array([lead]), level)[0]
    assert ours == pytest.approx(expected, rel=1e-9)


def test_orders_round_up_to_minimum_and_packs():
    np.testing.assert_array_equal(round_order(np.array([5.0, 30.0, 0.0, 13.0]), np.array([24.0, 24.0, 24.0, 0.0]),
                                              np.array([12.0, 12.0, 12.0, 6.0])), [24.0, 36.0, 0.0, 18.0])


def test_abc_by_cumulative_revenue_and_xyz_by_weekly_variation():
    revenue = np.array([10.0, 700.0, 50.0, 240.0])
    assert abc_classes(revenue, 0.8, 0.95).tolist() == ["C", "A", "B", "A"]
    rng = np.random.default_rng(0)
    steady = np.full((1, 91), 10.0)
    lumpy = np.zeros((1, 91))
    lumpy[0, ::30] = 100
    middling = rng.poisson(1.0, (1, 91)).astype(float) * (rng.random((1, 91)) < 0.5)
    classes = xyz_classes(np.vstack([steady, lumpy, middling])).tolist()
    assert classes[0] == "X" and classes[1] == "Z"


def _sales(product_id: str, per_day: float, days: int = 120) -> list[dict]:
    start = date(2025, 6, 1)
    return [{"product_id": product_id, "date": (start + timedelta(days=k)).isoformat(),
             "qty": per_day + (k * 7919) % 5 - 2} for k in range(days)]


def _item(product_id: str, quantity: float, **extra) -> dict:
    return {"product_id": product_id, "quantity": quantity, "price": 5.0, "cost": 2.0, "lead_time_days": 7, **extra}


def test_low_position_orders_and_high_position_does_not(client):
    body = {"shop_id": "s", "sales": _sales("low", 10) + _sales("high", 10),
            "inventory": [_item("low", 20, pack_size=10), _item("high", 500)]}
    answer = client.post(f"{PREFIX}/reorder", json=body).json()
    recs = {r["product_id"]: r for r in answer["recommendations"]}
    low, high = recs["low"], recs["high"]
    assert low["expected_lead_time_demand"] == pytest.approx(80, rel=0.05)  # 7 lead days + 1 review day
    assert low["reorder_point"] == pytest.approx(low["expected_lead_time_demand"] + low["safety_stock"], abs=0.02)
    assert low["recommended_order_qty"] > 0 and low["recommended_order_qty"] % 10 == 0
    assert low["recommended_order_qty"] + low["inventory_position"] > low["reorder_point"]
    assert low["urgency"] == "critical"  # 20 units last 2 days, the lead time is 7
    assert low["predicted_stockout_date"] == "2025-10-01"  # 2 days after the last sale on 2025-09-28
    assert high["recommended_order_qty"] == 0 and high["urgency"] == "low"
    assert [r["product_id"] for r in answer["recommendations"]] == ["low", "high"]
    assert answer["meta"]["to_order"] == 1


def test_revenue_at_risk_is_the_demand_usable_and_on_order_units_do_not_cover(client):
    body = {"shop_id": "s", "sales": _sales("bare", 10) + _sales("covered", 10),
            "inventory": [_item("bare", 20), _item("covered", 20, on_order=300)]}
    recs = {r["product_id"]: r for r in client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"]}
    bare = recs["bare"]
    assert bare["revenue_at_risk"] == pytest.approx((bare["expected_lead_time_demand"] - 20) * 5.0, abs=0.05)
    assert recs["covered"]["revenue_at_risk"] == 0  # 300 units on order cover the 8 days' 80


def test_a_weekly_review_protects_the_lead_time_and_the_review_period(client):
    """An order placed at one weekly review is on the shelf after the 7-day lead time; the next order can come
    a week later: the reorder point covers 14 days of demand (was 13 days plus half a week's undershoot, 165
    units at 10 a day, which over-covered a position just above the reorder point)."""
    body = {"shop_id": "s", "sales": _sales("a", 10), "inventory": [_item("a", 20)], "review_days": 7}
    rec = client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"][0]
    assert rec["expected_lead_time_demand"] == pytest.approx(140, rel=0.05)
    assert "covers the 14-day demand in 95% of replenishment cycles" in rec["reasoning"]


def test_closed_days_are_not_demand_errors(client):
    """A bread selling 30 a day on open days, the shop closed one day a week and two holiday weeks: the zeros of
    closed days are no demand, so they do not widen the lead-time distribution (with them, it came out a skewed
    negative-binomial count with a reorder point of 1.64 x the mean; 1.09 without them)."""
    start = date(2025, 1, 1)
    holidays = {start + timedelta(days=k) for k in (*range(120, 134), *range(250, 264))}
    days = [start + timedelta(days=k) for k in range(300)]
    closed = [d for d in days if d in holidays or d.weekday() == 0]
    sales = [{"product_id": "bread", "date": d.isoformat(), "qty": 30 + (k * 7919) % 5 - 2}
             for k, d in enumerate(days) if d not in closed]
    body = {"shop_id": "s", "sales": sales, "closed_weekdays": ["monday"], "review_days": 7,
            "closed_dates": [d.isoformat() for d in sorted(holidays)], "inventory": [_item("bread", 10)]}
    rec = client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"][0]
    assert rec["demand_distribution"] == "normal"
    assert rec["reorder_point"] < 1.2 * rec["expected_lead_time_demand"]


def test_service_level_raises_safety_stock(client):
    body = {"shop_id": "s", "sales": _sales("a", 10), "inventory": [_item("a", 20)]}
    low = client.post(f"{PREFIX}/reorder", json={**body, "service_level": 0.8}).json()["recommendations"][0]
    high = client.post(f"{PREFIX}/reorder", json={**body, "service_level": 0.99}).json()["recommendations"][0]
    # a daily review: the position at the last review that does not order is up to a day's demand (10) above the
    # point, so the safety stocks are the plain normal ones (z x sd) less under 10 units, not their z ratio
    assert high["demand_distribution"] == low["demand_distribution"] == "normal"
    assert high["safety_stock"] > low["safety_stock"] + 5 and high["expected_fill_rate"] > low["expected_fill_rate"]
    sd = (high["safety_stock"] - low["safety_stock"]) / (2.3263 - 0.8416)
    assert 0 < 2.3263 * sd - high["safety_stock"] < 10 and 0 < 0.8416 * sd - low["safety_stock"] < 10


def test_shelf_life_caps_perishable_orders(client):
    body = {"shop_id": "s", "sales": _sales("milk", 10),
            "inventory": [_item("milk", 5, shelf_life_days=5, cost=0.5)]}
    rec = client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"][0]
    assert rec["eoq"] > 300
    assert rec["recommended_order_qty"] <= max(10 * 5 * 1.2, rec["reorder_point"] - rec["inventory_position"] + 1)


def test_units_on_order_of_a_short_shelf_life_cover_only_what_sells_in_it_and_no_order_goes_on_top(client):
    """Review 3 F3: the bakery's TRAITEUR (0 on hand, 6 on order, 3-day lead time, 2-day shelf life, 0.6 a day) got
    "Order 2 ... position 6 (0 usable + 6 on order)": the 6 already exceed what sells in their life after arrival.
    Units on order count as cover only up to that, and an order never adds units that would expire unsold."""
    body = {"shop_id": "s", "sales": _sales("deli", 10)}
    item = _item("deli", 0, lead_time_days=3, shelf_life_days=2)
    rec = client.post(f"{PREFIX}/reorder", json={**body, "inventory": [{**item, "on_order": 30}]}).json()[
        "recommendations"][0]
    # arriving after 3 days, they sell about 20 in their 2 days: the other 10 expire
    assert rec["recommended_order_qty"] == 0 and rec["inventory_position"] == pytest.approx(20, abs=3)
    assert rec["inventory_position"] < rec["reorder_point"]
    assert "of the 30 on order" in rec["reasoning"] and "of them will expire unsold" in rec["reasoning"]
    few = client.post(f"{PREFIX}/reorder", json={**body, "inventory": [{**item, "on_order": 8}]}).json()[
        "recommendations"][0]
    # 8 on order sell in full: they count, and the order brings the rest of the 2 days' demand, not more
    assert few["inventory_position"] == 8 and 8 <= few["recommended_order_qty"] <= 16
    assert "less the 8 on order" in few["reasoning"]


def test_a_capped_order_states_its_own_fill_rate_and_one_number(client):
    """Owner review F13: baguettes (1-day shelf life, 2-day protection interval) were "Order 146 units (capped at
    145 ...) ... expected fill rate 99.7%": the fill rate of lots up to the reorder point, which the order capped at
    what sells within the shelf life does not reach, and a cap written below the order. The fill rate is now the
    capped order's (at most the share of the interval's mean demand the position covers) and the cap is the order."""
    body = {"shop_id": "s", "sales": _sales("bread", 100, 60),
            "inventory": [_item("bread", 0, lead_time_days=1, shelf_life_days=1, cost=0.3, price=1.3)]}
    rec = client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"][0]
    order, mean = rec["recommended_order_qty"], rec["expected_lead_time_demand"]
    assert 0 < order < rec["reorder_point"] and "capped at" in rec["reasoning"]
    assert rec["expected_fill_rate"] == pytest.approx(order / mean, abs=1e-3) and rec["expected_fill_rate"] < 0.6
    assert f"Order {order:g} units of bread now (capped at {order:g}," in rec["reasoning"], rec["reasoning"]
    one = client.post(f"{PREFIX}/reorder", json={**body, "inventory": [_item("bread", 1, lead_time_days=1)]}).json()
    assert "1 usable unit lasts about" in one["recommendations"][0]["reasoning"]  # owner review F8: "1 usable units"
    assert f"expected fill rate at most {order / mean:.1%}" in rec["reasoning"]


def test_lot_without_shelf_life_is_at_most_the_forecast_demand_over_its_cover_days(client):
    """Issue #24 follow-up: a bakery's tartelette (about 9 a day, no shelf life sent) got an EOQ lot of 787, three
    months of a perishable. Without a shelf life the lot is at most the forecast demand over the item's cover days
    (lead time + review, at least 28); a shelf life sent still caps it at what sells in it."""
    body = {"shop_id": "s", "sales": _sales("tart", 10), "inventory": [_item("tart", 0, cost=0.05)]}
    rec = client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"][0]
    assert rec["eoq"] > 1000  # about 1,900 at this cost: six months of demand
    assert rec["reorder_point"] < rec["recommended_order_qty"] <= 28 * 10 * 1.15
    assert "the forecast demand over 28 days" in rec["reasoning"] and "shelf_life_days" in rec["reasoning"]
    # Review 3 F10: with a shelf life sent the reasoning said "send shelf_life_days"; it says what bounds the lot
    # (a shorter shelf life caps the order at what sells in it first: "capped at ...")
    kept = {**body, "inventory": [_item("tart", 0, cost=0.01, shelf_life_days=400)]}
    rec = client.post(f"{PREFIX}/reorder", json=kept).json()["recommendations"][0]
    assert "the forecast demand over 365 days (the EOQ, " in rec["reasoning"]
    assert "is more: a lot holds at most a year's demand)" in rec["reasoning"]
    assert "send shelf_life_days" not in rec["reasoning"]
    longer = {**body, "inventory": [_item("tart", 0, cost=0.05, lead_time_days=30)]}  # 31 days of cover
    rec = client.post(f"{PREFIX}/reorder", json=longer).json()["recommendations"][0]
    assert "the forecast demand over 31 days" in rec["reasoning"]
    dear = {**body, "inventory": [_item("tart", 0, cost=50.0)]}  # an EOQ within the cover is left alone
    rec = client.post(f"{PREFIX}/reorder", json=dear).json()["recommendations"][0]
    assert rec["eoq"] < 28 * 10 and "EOQ lots of" in rec["reasoning"]


def test_abc_filter_and_product_without_sales(client):
    body = {"shop_id": "s", "sales": _sales("big", 50) + _sales("small", 1),
            "inventory": [_item("big", 10), _item("small", 10), _item("new", 10)], "abc_classes": ["A"]}
    answer = client.post(f"{PREFIX}/reorder", json=body).json()
    assert [r["product_id"] for r in answer["recommendations"]] == ["big"]
    everything = client.post(f"{PREFIX}/reorder", json={**body, "abc_classes": None}).json()
    new = next(r for r in everything["recommendations"] if r["product_id"] == "new")
    assert new["recommended_order_qty"] == 0 and "no sales" in new["reasoning"]
    assert "its demand is unknown" in new["reasoning"] and "items_without_sales" in new["reasoning"]
    assert any(w["code"] == "items_without_sales" and w["product_ids"] == ["new"] for w in everything["warnings"])
    # what sells in time is unknown too: no units called at risk of expiring unsold (at-risk's null)
    assert new["usable_quantity"] is new["at_risk_quantity"] is new["inventory_position"] is None


def test_repeated_reorder_reuses_cached_forecasts(client):
    answer = client.post(f"{PREFIX}/reorder", json=REORDER_EXAMPLE).json()
    again = client.post(f"{PREFIX}/reorder", json=REORDER_EXAMPLE).json()
    assert (answer["meta"]["forecast_cache"], again["meta"]["forecast_cache"]) == ("miss", "hit")
    assert answer["recommendations"] == again["recommendations"]


def test_reorder_after_a_forecast_of_the_same_history_is_a_cache_hit(client):
    body = {**REORDER_EXAMPLE, "shop_id": "reorder_after_forecast"}
    sold = {row["product_id"] for row in body["sales"]}
    products = [item["product_id"] for item in body["inventory"] if item["product_id"] in sold]
    protection = max(max(item.get("lead_time_days", 7) + body.get("review_days", 1), 1)
                     for item in body["inventory"])
    forecast = client.post(f"{PREFIX}/forecast", json={
        "shop_id": body["shop_id"], "sales": body["sales"], "product_ids": products, "frequency": "daily",
        "periods": min(365, max(protection, 28)), "confidence_interval": 0.95})
    assert forecast.status_code == 200 and forecast.json()["meta"]["cache"] == "miss"
    answer = client.post(f"{PREFIX}/reorder", json=body).json()
    assert answer["meta"]["forecast_cache"] == "hit"
    methods = {f["product_id"]: f["method"] for f in forecast.json()["forecasts"]}
    assert {r["product_id"]: r["forecast_method"] for r in answer["recommendations"]} == methods
    other_level = client.post(f"{PREFIX}/reorder", json={**body, "service_level": 0.8}).json()
    assert other_level["meta"]["forecast_cache"] == "hit"  # every service level shares the forecast


def test_each_data_rule_is_reported_once(client):
    sales = _sales("a", 10)
    body = {"shop_id": "s", "sales": [*sales, sales[0]], "inventory": [_item("a", 20)], "duplicates": "drop"}
    codes = [w["code"] for w in client.post(f"{PREFIX}/reorder", json=body).json()["warnings"]]
    assert codes.count("duplicate_rows") == 1


def test_expired_units_are_not_cover(client):
    """Issue #24: an expired item got 'stock lasts about 21 days' from its expired units."""
    body = {"shop_id": "s", "as_of": "2025-09-28", "sales": _sales("a", 10),
            "inventory": [_item("a", 200, expiry_date="2025-09-20")]}
    rec = client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"][0]
    # no usable units: no days of supply nor stockout date to show (the urgency says it is out)
    assert rec["days_of_supply"] is None and rec["predicted_stockout_date"] is None and rec["urgency"] == "critical"
    assert rec["usable_quantity"] == 0 and rec["at_risk_quantity"] == 200 and rec["inventory_position"] == 0
    assert rec["recommended_order_qty"] > 0 and "200 of the 200 on hand are expired and count 0" in rec["reasoning"]


def test_stock_expiring_unsold_holds_back_the_order_until_the_lead_time_needs_more(client):
    """Units that expire unsold are cleared first (at-risk says so): no order while the forecast demand over
    the lead time is below the usable units, an order (saying why) once it exceeds them."""
    sales = _sales("a", 10)
    held = {"shop_id": "s", "as_of": "2025-09-28", "sales": sales, "review_days": 1,
            "inventory": [_item("a", 60, expiry_date="2025-10-01", lead_time_days=2)]}
    rec = client.post(f"{PREFIX}/reorder", json=held).json()["recommendations"][0]
    assert rec["usable_quantity"] == pytest.approx(30, abs=4) and rec["at_risk_quantity"] > 25
    assert rec["recommended_order_qty"] == 0 and "will expire unsold" in rec["reasoning"]
    assert "sell or clear the stock first" in rec["reasoning"]
    needed = {**held, "inventory": [_item("a", 60, expiry_date="2025-10-01", lead_time_days=7)]}
    rec = client.post(f"{PREFIX}/reorder", json=needed).json()["recommendations"][0]
    assert rec["expected_lead_time_demand"] > rec["usable_quantity"] and rec["recommended_order_qty"] > 0
    assert "will expire unsold" in rec["reasoning"]


def test_critical_is_at_risks_stockout_a_unit_or_more_short_within_the_lead_time(client):
    """A slow mover whose few usable units last about the lead time is not `critical` (at-risk raises no
    stockout for it either) while less than a unit of demand goes unmet; a fast one short by units is."""
    start = date(2025, 6, 1)
    slow = [{"product_id": "slow", "date": (start + timedelta(days=k)).isoformat(), "qty": 1.0}
            for k in range(0, 120, 6)]
    body = {"shop_id": "s", "as_of": "2025-09-28", "sales": slow + _sales("fast", 10),
            "inventory": [_item("slow", 1, lead_time_days=7), _item("fast", 20, lead_time_days=7)]}
    recs = {r["product_id"]: r for r in client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"]}
    assert recs["slow"]["days_of_supply"] <= 7 and recs["slow"]["urgency"] != "critical"
    assert recs["fast"]["urgency"] == "critical"
    risk = client.post(f"{PREFIX}/at-risk", json={k: v for k, v in body.items() if k != "as_of"}).json()
    assert not any("stockout_risk" in item["reasons"] for item in risk["at_risk"] if item["product_id"] == "slow")


def test_an_empty_shelf_selling_again_after_a_silence_is_critical(client):
    """Urgency reads the demand reorder plans with: a product that sold 2 a day, went silent for 63 days and sold
    again yesterday, with an empty shelf, is critical (its forecast path still counts the zeros)."""
    start = date(2025, 1, 1)
    sales = [{"product_id": "woke", "date": (start + timedelta(days=k)).isoformat(), "qty": 2.0}
             for k in [*range(300), 363]]
    body = {"shop_id": "s", "as_of": (start + timedelta(days=364)).isoformat(), "sales": sales,
            "inventory": [_item("woke", 0, lead_time_days=3)]}
    rec = client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"][0]
    assert rec["recommended_order_qty"] > 0 and rec["urgency"] == "critical", rec


def test_units_that_sell_nowhere_have_no_stockout_date(client):
    """Units expiring unsold of a product nobody buys any more: no demand runs them out, so no stockout today."""
    gone = [row for row in _sales("gone", 3) if row["date"] < "2025-06-15"] + [
        {"product_id": "busy", "date": "2025-09-28", "qty": 1.0}]
    body = {"shop_id": "s", "as_of": "2025-09-28", "sales": gone,
            "inventory": [_item("gone", 10, expiry_date="2025-09-30")]}
    rec = client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"][0]
    assert rec["usable_quantity"] == 0 and rec["predicted_stockout_date"] is None and rec["urgency"] == "low"


def test_seasonal_lot_never_exceeds_what_sells_before_the_season_ends(client):
    """Issue #24: seasonal stock got full EOQ lots (5,665 cake cases) with 29 days of its season left."""
    body = {"shop_id": "s", "as_of": "2025-09-28", "sales": _sales("cake", 10),
            "inventory": [_item("cake", 0, cost=0.05, season_end="2025-10-27")]}
    rec = client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"][0]
    assert rec["eoq"] > 1000
    # arrives after 7 days; 22 days of the season are left then, at about 10 a day
    assert 150 <= rec["recommended_order_qty"] <= 260 and "season" in rec["reasoning"]
    over = {**body, "inventory": [_item("cake", 40, cost=0.05, season_end="2025-09-30")]}
    rec = client.post(f"{PREFIX}/reorder", json=over).json()["recommendations"][0]
    assert rec["recommended_order_qty"] == 0 and rec["at_risk_quantity"] == pytest.approx(20, abs=4)
    ended = {**body, "inventory": [_item("cake", 40, cost=0.05, season_end="2025-09-01")]}
    rec = client.post(f"{PREFIX}/reorder", json=ended).json()["recommendations"][0]
    assert rec["usable_quantity"] == 0 and rec["recommended_order_qty"] == 0 and "end of the season" in rec["reasoning"]
    assert rec["urgency"] == "low"


def test_stock_expiring_before_its_season_ends_is_said_to_expire(client):
    """Review 3 F5: 10 tartelettes expiring on 10-02 were "left at the end of the season" (10-15). The reasoning
    names the sell-by that comes first, as at-risk does."""
    body = {"shop_id": "s", "as_of": "2025-09-28", "sales": _sales("tart", 10)}
    expiring = _item("tart", 100, expiry_date="2025-09-30", season_end="2025-10-20")
    rec = client.post(f"{PREFIX}/reorder", json={**body, "inventory": [expiring]}).json()["recommendations"][0]
    assert rec["at_risk_quantity"] > 50
    assert "on hand will expire unsold" in rec["reasoning"] and "end of the season" not in rec["reasoning"]
    ending = {**expiring, "expiry_date": "2025-10-20", "season_end": "2025-09-30"}
    rec = client.post(f"{PREFIX}/reorder", json={**body, "inventory": [ending]}).json()["recommendations"][0]
    assert "on hand will be left at the end of the season" in rec["reasoning"]


def test_reorder_points_cover_real_slow_movers_at_the_service_level(client, m5_sales):
    """Issue #24: the 14-day demand stayed under the 95% reorder point for 83.6% of items (normal
    approximation). On 30 real M5 items (fast to 36 units in five years) at 6 origins four weeks apart, the
    reorder point covers the next 14 days' actual demand at least 90% of the time (main: 83.3%), and the
    slow movers get a count distribution."""
    units = m5_sales.iloc[:, 1:].to_numpy(float)
    start = date(2011, 1, 29)
    covered, families = [], []
    for cut in range(1913, 1913 - 6 * 28, -28):
        dates = [(start + timedelta(days=d)).isoformat() for d in range(cut - 365, cut)]
        sales = [{"product_id": p, "date": dates[d], "qty": units[i, cut - 365 + d]}
                 for i, p in enumerate(m5_sales.id) for d in range(365) if units[i, cut - 365 + d]]
        body = {"shop_id": "m5", "as_of": dates[-1], "sales": sales, "service_level": 0.95,
                "inventory": [_item(p, 100_000, lead_time_days=14) for p in m5_sales.id]}
        recs = {r["product_id"]: r for r in client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"]}
        for i, p in enumerate(m5_sales.id):
            if units[i, cut - 365:cut].any():
                covered.append(units[i, cut:cut + 14].sum() <= recs[p]["reorder_point"])
                families.append(recs[p]["demand_distribution"])
    assert len(covered) >= 170 and np.mean(covered) >= 0.90
    assert families.count("negative_binomial") > len(families) / 2


def test_a_silent_product_with_an_empty_shelf_is_reordered_from_the_demand_it_met(client):
    """Issue #24 (dormant products): a slow mover sold for 200 days, then nothing for the 40 days to `as_of` with
    none on hand (a stockout looks like no demand), in a shop whose products sold again after such pauses. The
    forecast says 0; reorder still protects the 14 days with what it sold over 14 days while it sold. A product on
    the shelf for 200 silent days (it stopped selling) orders nothing, and in a shop where silent products stay
    gone (a seasonal range) the empty shelf orders nothing either."""
    rng = np.random.default_rng(4)
    start = date(2025, 1, 1)

    def rows(product_id: str, units: np.ndarray) -> list[dict]:
        return [{"product_id": product_id, "date": (start + timedelta(days=k)).isoformat(), "qty": float(q)}
                for k, q in enumerate(units) if q]

    def paused(comes_back: bool) -> np.ndarray:
        units = rng.poisson(1.5, 240) + 1.0
        units[60:120] = 0.0
        units[120:] = units[120:] if comes_back else 0.0
        return units

    gap, gone = rng.poisson(1.5, 200), rng.poisson(1.5, 40)
    sales = rows("gap", gap) + rows("gone", gone)
    items = [_item("gap", 0), _item("gone", 6)]
    body = {"shop_id": "s", "as_of": (start + timedelta(days=239)).isoformat(), "review_days": 7}
    woke = [f"back{k}" for k in range(3)]
    answer = client.post(f"{PREFIX}/reorder", json={
        **body, "sales": sales + [r for p in woke for r in rows(p, paused(True))],
        "inventory": items + [_item(p, 50) for p in woke]}).json()
    recs = {r["product_id"]: r for r in answer["recommendations"]}
    assert recs["gap"]["demand_distribution"] == "after_silence" and "stockout" in recs["gap"]["reasoning"]
    # 3 of the 5 products paused for 60 days and came back: about 1 in 5 origins after 40 silent days sold within
    # 14 days; the mean is that share of the 21 units a 14-day stretch sold, the 95% point a pre-silence total
    assert 2 <= recs["gap"]["expected_lead_time_demand"] <= 8
    assert 15 <= recs["gap"]["reorder_point"] <= 35 and "sells again" in recs["gap"]["reasoning"]
    assert recs["gap"]["recommended_order_qty"] > recs["gap"]["reorder_point"]
    assert recs["gone"]["demand_distribution"] == "after_silence" and "earlier silences" in recs["gone"]["reasoning"]
    assert recs["gone"]["reorder_point"] == 0 and recs["gone"]["recommended_order_qty"] == 0

    # 12 products stopped for good after a pause, one came back: about 1% of the origins after 40 silent days sold
    # within 14 days, a reorder point of 0 with a small positive mean (an empty shelf at the point orders nothing)
    seasonal = [f"season{k}" for k in range(12)]
    answer = client.post(f"{PREFIX}/reorder", json={
        **body, "sales": sales + [r for p in seasonal for r in rows(p, paused(False))] + rows("back", paused(True)),
        "inventory": items + [_item(p, 50) for p in [*seasonal, "back"]]}).json()
    empty = next(r for r in answer["recommendations"] if r["product_id"] == "gap")
    assert empty["demand_distribution"] == "after_silence"
    assert empty["reorder_point"] == 0 and empty["recommended_order_qty"] == 0
    assert 0 < empty["expected_lead_time_demand"] < 1
    assert "sells again" in empty["reasoning"] and "nothing is expected to sell" in empty["reasoning"]


def test_a_product_selling_again_after_a_stockout_is_reordered_at_the_demand_it_met_before(client):
    """Issue #24 (M5's woken products): a product selling about 3 a day, out of stock for 40 days, sells 1 unit
    2 days before `as_of` after a delivery of 2. The forecast's trailing level still counts the 40 zeros (about
    0.1 a day); the 14-day demand is read at the level it sold before (about 42), and the shelf is restocked. The
    same history without the silence reads the forecast."""
    rng = np.random.default_rng(9)
    start = date(2025, 1, 1)
    units = rng.poisson(3.0, 240).astype(float)
    units[197:238] = 0.0
    units[238] = 1.0
    units[239] = 0.0

    def rows(product_id: str, values: np.ndarray) -> list[dict]:
        return [{"product_id": product_id, "date": (start + timedelta(days=k)).isoformat(), "qty": float(q)}
                for k, q in enumerate(values) if q]

    steady = rng.poisson(3.0, 240).astype(float)
    answer = client.post(f"{PREFIX}/reorder", json={
        "shop_id": "s", "as_of": (start + timedelta(days=239)).isoformat(), "review_days": 7,
        "sales": rows("woke", units) + rows("steady", steady),
        "inventory": [_item("woke", 1), _item("steady", 1)]}).json()
    recs = {r["product_id"]: r for r in answer["recommendations"]}
    before = units[:197].mean() * 14
    assert recs["woke"]["expected_lead_time_demand"] == pytest.approx(before, rel=0.01)
    assert recs["woke"]["reorder_point"] > before and recs["woke"]["recommended_order_qty"] >= before
    assert "sells again after 14 or more silent days" in recs["woke"]["reasoning"]
    assert recs["woke"]["demand_distribution"] in {"normal", "negative_binomial"}
    assert "sells again" not in recs["steady"]["reasoning"]
    assert recs["steady"]["expected_lead_time_demand"] == pytest.approx(42, rel=0.25)


def test_an_item_without_history_and_a_stated_rate_keeps_an_allowance_for_uncertainty(client):
    """Review finding 13: PAIN EPEAUTRE, no sales and avg_daily_sales 3, got a reorder point equal to the mean
    (9.0 over 3 days) and a 100% fill rate at 95%: with no history to measure its spread, its count is at least a
    Poisson's at the stated rate (the 95% quantile of a Poisson of mean 9 is 14)."""
    body = {"shop_id": "s", "as_of": "2025-09-28", "sales": _sales("bread", 10), "review_days": 1,
            "inventory": [_item("spelt", 0, lead_time_days=2, avg_daily_sales=3)]}
    rec = client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"][0]
    assert rec["forecast_method"] == "avg_daily_sales" and rec["expected_lead_time_demand"] == 9
    # a Poisson's variance 9 (smooth enough for the normal), a review's overshoot of 3 units below it at most
    assert rec["reorder_point"] >= 9 + 1.645 * 3 - 3 and rec["safety_stock"] > 0, rec
    assert rec["expected_fill_rate"] < 1


def _lost_before_arrival(reasoning: str) -> float:
    """The units the reasoning says are lost before an order placed now can arrive."""
    found = re.search(r"about ([\d.]+) units? of sales are lost (?:by then|to the season's end) whatever", reasoning)
    assert found, reasoning
    return float(found.group(1))


def test_urgency_says_what_to_order_now_never_critical_with_nothing_to_order(client):
    """A review: 20 on hand lasting 2 days and 300 on order covering the 7-day lead time was `critical` with an
    order of 0 (no order placed now saves the sales lost before the units on order arrive), as were units on order
    filling a sandwich's 2-day shelf life (0 on hand) and stock that empties before its season ends, days before
    any order could come (`low`, with a 5-day stockout unsaid). Critical is now an order placed now that arrives
    to an empty shelf; a stockout no order prevents is said with when, how many units and the lever, urgency
    medium; critical and high always come with an order."""
    season_end = (date(2025, 9, 28) + timedelta(days=4)).isoformat()
    body = {"shop_id": "s", "as_of": "2025-09-28",
            "sales": _sales("covered", 10) + _sales("bare", 10) + _sales("part", 10) + _sales("season", 10)
            + [{**row, "qty": 1.0} for row in _sales("sandwich", 1)],
            "inventory": [_item("covered", 20, on_order=300), _item("bare", 20), _item("part", 20, on_order=60),
                          _item("season", 5, season_end=season_end),
                          _item("sandwich", 0, on_order=6, shelf_life_days=2, lead_time_days=3)]}
    recs = {r["product_id"]: r for r in client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"]}
    for rec in recs.values():
        assert (rec["urgency"] in ("critical", "high")) == (rec["recommended_order_qty"] > 0), rec
    covered = recs["covered"]
    assert covered["recommended_order_qty"] == 0 and covered["urgency"] == "medium", covered
    assert "run out in about 2 days" in covered["reasoning"]
    assert "is on the shelf from 2025-10-06" in covered["reasoning"]
    assert "if the 300 units on order also arrive only then" in covered["reasoning"]
    assert "ask the supplier to deliver the units on order sooner" in covered["reasoning"]
    assert _lost_before_arrival(covered["reasoning"]) == pytest.approx(50, abs=3)  # 7 days at 10, less 20
    # no units on order: the order placed now arrives to an empty shelf, and the 5 days before cannot be saved by it
    bare = recs["bare"]
    assert bare["recommended_order_qty"] > 0 and bare["urgency"] == "critical"
    assert "only an express delivery saves them" in bare["reasoning"] and "each day it waits" in bare["reasoning"]
    assert _lost_before_arrival(bare["reasoning"]) == pytest.approx(50, abs=3)
    # 60 on order refill the shelf when an order placed now would: an order for the days after, not critical
    assert recs["part"]["recommended_order_qty"] > 0 and recs["part"]["urgency"] == "high"
    season = recs["season"]
    assert season["recommended_order_qty"] == 0 and season["urgency"] == "medium", season
    assert "its season ends in 4 days, before an order placed now could arrive" in season["reasoning"]
    assert _lost_before_arrival(season["reasoning"]) == pytest.approx(35, abs=3)  # 4 days at 10, less 5
    sandwich = recs["sandwich"]
    assert sandwich["recommended_order_qty"] == 0 and sandwich["urgency"] == "medium", sandwich
    empty = "The shelf is empty, and an order placed now is on the shelf from 2025-10-02"
    assert sandwich["reasoning"].count(empty) == 1


def test_a_season_ending_today_quotes_no_fill_rate_for_an_order_that_cannot_sell(client):
    """Owner review 6 F10: on its season's last day reorder said "expected fill rate at most 0.0% (the share of
    the 2-day mean demand the position with the capped order covers ...)" beside "No order": no order would sell
    before the season's end, which is what it says now."""
    body = {"shop_id": "s", "as_of": "2025-09-28", "sales": _sales("cake", 10),
            "inventory": [_item("cake", 6, season_end="2025-09-28", lead_time_days=1)]}
    rec = client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"][0]
    assert rec["recommended_order_qty"] == 0 and rec["urgency"] == "low", rec
    assert "sells nothing more from an order's arrival to the season's end" in rec["reasoning"], rec
    assert "but no order would sell" in rec["reasoning"] and "fill rate at most" not in rec["reasoning"], rec


def test_an_empty_shelfs_silence_is_judged_by_every_product_sold_and_its_own_past_whatever_else_is_listed(client):
    """Review 9 F1: the chance an empty shelf's silence ends was read off the inventory's products alone, so the
    same product, sales and day got another order by the other items listed with it (the bakery's financier on
    2022-01-04: 3 alone, 1 beside 35 articles, 0 beside two out-of-season galettes). It reads every product the
    sales name, and the product's own past silences as long: a bun that sold again within days after each of its
    3-day pauses is reordered after this one, though the shop's ten seasonal lines stopped for good."""
    rng = np.random.default_rng(9)
    start, days = date(2025, 1, 1), 300
    bun = rng.poisson(4, days) + 1.0
    for first in range(20, days - 5, 15):
        bun[first:first + 3] = 0.0
    bun[-3:] = 0.0  # silent for the last 3 days, with none on hand
    seasonal = [f"season{k}" for k in range(10)]
    sales = [{"product_id": "bun", "date": (start + timedelta(days=k)).isoformat(), "qty": float(q)}
             for k, q in enumerate(bun) if q]
    sales += [{"product_id": p, "date": (start + timedelta(days=k)).isoformat(), "qty": float(rng.poisson(3) + 1)}
              for p in seasonal for k in range(200)]
    body = {"shop_id": "s", "as_of": (start + timedelta(days=days - 1)).isoformat(), "review_days": 1,
            "sales": sales, "closed_weekdays": []}
    bun_item = _item("bun", 0, lead_time_days=1)
    answers = []
    for listed in ([bun_item], [bun_item] + [_item(p, 0, lead_time_days=1) for p in seasonal]):
        recs = client.post(f"{PREFIX}/reorder", json={**body, "inventory": listed}).json()["recommendations"]
        answers.append(next(r for r in recs if r["product_id"] == "bun"))
    alone, beside = answers
    assert alone["demand_distribution"] == beside["demand_distribution"] == "after_silence"
    assert (alone["reorder_point"], alone["recommended_order_qty"]) == (
        beside["reorder_point"], beside["recommended_order_qty"])
    assert alone["reorder_point"] > 0 and alone["recommended_order_qty"] > 0
    assert "its own silences as long over the year ended in time" in alone["reasoning"]
