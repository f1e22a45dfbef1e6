"""Issue #24: /at-risk, /promotions and /reorder read one view of the stock and do not contradict it or each other.

A small shop as a retailer would send it (synthetic, seeded): a best seller at 20 days of stock, an empty shelf, an
item at 2 units, overstock that expires in 10 days, stock that sells out before its expiry, expired stock, a seasonal
item with three times its season's demand and a slow mover. Reorder is asked first, as a backend's nightly run
would; at-risk and promotions then read the same forecast (a cache hit). Stock that expires in 3 days with
twice what sells by then ("soon") is cleared and still reordered: the lead time needs more than the units that
sell in time, and both answers say so.
"""

import math
from datetime import date, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.services.decisions.stock_view import (
    supply_days,
)

PREFIX = "/api/v1/smart-shelf"
AS_OF = date(2025, 9, 28)
RATES = {"best": 30.0, "empty": 20.0, "low": 6.0, "over": 8.0, "sellsout": 12.0, "expired": 5.0, "season": 4.0,
         "slow": 0.2, "soon": 10.0}


def _sales(days: int = 120) -> list[dict]:
    rng = np.random.default_rng(24)
    weekday = np.array([1.0, 0.9, 0.9, 1.0, 1.2, 1.4, 0.6])  # Monday first
    rows = []
    for product, rate in RATES.items():
        for back in range(days - 1, -1, -1):
            day = AS_OF - timedelta(days=back)
            qty = int(rng.poisson(rate * weekday[day.weekday()]))
            if qty:
                rows.append({"product_id": product, "date": day.isoformat(), "qty": qty, "revenue": qty * 3.0})
    return rows


def _in(days: int) -> str:
    return (AS_OF + timedelta(days=days)).isoformat()


INVENTORY = [
    {"product_id": "best", "quantity": 600, "price": 3.0, "cost": 1.2},
    {"product_id": "empty", "quantity": 0, "price": 3.0, "cost": 1.2},
    {"product_id": "low", "quantity": 2, "price": 3.0, "cost": 1.2},
    {"product_id": "over", "quantity": 110, "price": 3.0, "cost": 1.2, "expiry_date": _in(10)},
    {"product_id": "sellsout", "quantity": 60, "price": 3.0, "cost": 1.2, "expiry_date": _in(10)},
    {"product_id": "expired", "quantity": 30, "price": 3.0, "cost": 1.2, "expiry_date": _in(-2)},
    {"product_id": "season", "quantity": 240, "price": 3.0, "cost": 1.2, "season_end": _in(20)},
    {"product_id": "slow", "quantity": 50, "price": 3.0, "cost": 1.2},
    {"product_id": "soon", "quantity": 60, "price": 3.0, "cost": 1.2, "expiry_date": _in(3)},
]


@pytest.fixture
def answers(client) -> dict:
    sales = _sales()
    common = {"shop_id": "agree", "as_of": AS_OF.isoformat(), "sales": sales}
    reorder = client.post(f"{PREFIX}/reorder", json={**common, "inventory": INVENTORY}).json()
    at_risk = client.post(f"{PREFIX}/at-risk", json={**common, "inventory": INVENTORY}).json()
    events = [{"id": "weekend", "date": _in(2), "title": "Weekend sale", "audience": "all"}]
    items = [{**item, "categories": ["bakery"]} for item in INVENTORY if "expiry_date" in item or "season_end" in item]
    promotions = client.post(f"{PREFIX}/promotions", json={**common, "items": items,
                                                            "calendar_events": events}).json()
    return {
        "reorder": {r["product_id"]: r for r in reorder["recommendations"]},
        "at_risk": {r["product_id"]: r for r in at_risk["at_risk"]},
        "at_risk_order": [r["product_id"] for r in at_risk["at_risk"]],
        "promoted": {p["product_id"]: p for p in promotions["promotions"]},
        "unmatched": {u["product_id"]: u for u in promotions["unmatched"]},
    }


def test_at_risk_reads_the_units_left_unsold_from_the_same_forecast_as_reorder(answers):
    reorder, at_risk = answers["reorder"], answers["at_risk"]
    for product in ("over", "season"):
        assert at_risk[product]["expected_unsold_units"] == pytest.approx(reorder[product]["at_risk_quantity"],
                                                                          abs=0.05)
        assert "by its forecast" in at_risk[product]["recommended_action"]["reasoning"]
    assert reorder["sellsout"]["at_risk_quantity"] == 0
    assert "sellsout" not in at_risk or "unsellable_before_expiry" not in at_risk["sellsout"]["reasons"]


def test_promotions_only_where_the_forecast_leaves_stock_at_expiry(answers):
    reorder, promoted, unmatched = answers["reorder"], answers["promoted"], answers["unmatched"]
    assert set(promoted) == {"over", "season", "soon"}
    assert "sells out at full price" in unmatched["sellsout"]["reason"]
    for product, promotion in promoted.items():
        assert promotion["without_promotion"]["units_left"] == pytest.approx(reorder[product]["at_risk_quantity"],
                                                                             abs=0.05)
        assert promotion["with_promotion"]["units_left"] < promotion["without_promotion"]["units_left"]
    # from tomorrow (the event's lead days) to the sell-by day, within a fortnight of the event: the number at-risk
    # names for its markdown over the same days
    assert promoted["over"]["start_date"] == _in(1)
    assert [promoted["over"]["suggested_discount_pct"]] * 2 == answers["at_risk"]["over"]["recommended_action"][
        "discount_range"]


def test_what_at_risk_says_to_clear_is_not_reordered_and_the_empty_shelf_is(answers):
    reorder, at_risk = answers["reorder"], answers["at_risk"]
    assert answers["at_risk_order"][0] == "empty"
    assert at_risk["empty"]["reasons"][0] == "out_of_stock" and at_risk["empty"]["score"] == 1.0
    assert reorder["empty"]["recommended_order_qty"] > 0 and reorder["empty"]["urgency"] == "critical"
    assert at_risk["sellsout"]["recommended_action"]["reasoning"].startswith("Runs out soon: 60 units left")
    for product, entry in at_risk.items():
        action = entry["recommended_action"]
        if action["action_type"] in ("discount", "clearance"):
            rec = reorder[product]
            assert rec["recommended_order_qty"] == 0 or rec["expected_lead_time_demand"] > rec["usable_quantity"]
            low, high = action["discount_range"]
            assert low == high and f" {low:g}%" in action["reasoning"]
    assert reorder["over"]["recommended_order_qty"] == 0 and "will expire unsold" in reorder["over"]["reasoning"]
    assert "Reorder orders none while the forecast demand over 8 days" in at_risk["over"]["recommended_action"][
        "reasoning"]
    soon = reorder["soon"]
    assert soon["recommended_order_qty"] > 0 and soon["expected_lead_time_demand"] > soon["usable_quantity"]
    assert "will expire unsold" in soon["reasoning"]
    assert "Reorder does not hold orders back" in at_risk["soon"]["recommended_action"]["reasoning"]
    assert at_risk["expired"]["recommended_action"]["action_type"] == "remove"
    assert reorder["expired"]["usable_quantity"] == 0
    assert "best" not in at_risk and reorder["best"]["at_risk_quantity"] == 0


def test_a_forecast_over_the_work_budget_leaves_the_recent_rate_and_says_so(tmp_path):
    """The forecast keeps its own work budget: over it, at-risk still answers, from the recent rate, and says why."""
    settings = Settings(model_dir=str(tmp_path / "models"), max_train_cells=1000, _env_file=None)  # type: ignore[call-arg]
    sales = [{"product_id": f"p{k}", "date": (AS_OF - timedelta(days=back)).isoformat(), "qty": 5}
             for k in range(10) for back in range(200)]
    inventory = [{"product_id": f"p{k}", "quantity": 100, "price": 3.0, "expiry_date": _in(10)} for k in range(10)]
    with TestClient(create_app(settings)) as client:
        answer = client.post(f"{PREFIX}/at-risk", json={"shop_id": "budget", "as_of": AS_OF.isoformat(),
                                                        "sales": sales, "inventory": inventory}).json()
    unused = next(w for w in answer["warnings"] if w["code"] == "forecast_unused")
    assert unused["count"] == 10 and "MAX_TRAIN_CELLS" in unused["message"]
    entry = answer["at_risk"][0]
    assert entry["expected_unsold_units"] == pytest.approx(50) and "at that rate" in entry["recommended_action"][
        "reasoning"]


def test_at_risk_days_of_supply_and_stockout_date_are_reorders(answers):
    """Every item with sales reads the forecast, with or without a sell-by day: its days of supply and stockout
    date are reorder's."""
    reorder, at_risk = answers["reorder"], answers["at_risk"]
    sellsout = at_risk["sellsout"]
    assert "stockout_risk" in sellsout["reasons"] and reorder["sellsout"]["urgency"] == "critical"
    for product in ("sellsout", "low"):  # an expiry date; none
        assert at_risk[product]["days_of_supply"] == reorder[product]["days_of_supply"]
        assert at_risk[product]["stockout_date"] == reorder[product]["predicted_stockout_date"]
        assert at_risk[product]["forecast_method"] == reorder[product]["forecast_method"]


def _weekday_seller(days: int = 120) -> list[dict]:
    """An item sold Monday to Friday only (about 15 a day), none on the weekend."""
    rng = np.random.default_rng(7)
    return [{"product_id": "weekdays", "date": (AS_OF - timedelta(days=back)).isoformat(),
             "qty": int(rng.poisson(15)) + 1, "revenue": 3.0}
            for back in range(days - 1, -1, -1) if (AS_OF - timedelta(days=back)).weekday() < 5]


def test_an_empty_shelf_whose_forecast_sells_is_out_of_stock_even_without_recent_sales(client):
    """The last two days (a weekend: AS_OF is a Sunday) sold none of a weekday item, so its recent rate over a
    2-day window is 0; its forecast, the same as reorder's, still sells: the empty shelf is out_of_stock."""
    common = {"shop_id": "agree", "as_of": AS_OF.isoformat(), "sales": _sales() + _weekday_seller()}
    inventory = [*INVENTORY, {"product_id": "weekdays", "quantity": 0, "price": 3.0, "cost": 1.2}]
    reorder = {r["product_id"]: r for r in client.post(f"{PREFIX}/reorder", json={
        **common, "inventory": inventory}).json()["recommendations"]}
    answer = client.post(f"{PREFIX}/at-risk", json={**common, "inventory": inventory,
                                                    "thresholds": {"slow_moving_window": 2}}).json()
    at_risk = {r["product_id"]: r for r in answer["at_risk"]}
    weekdays = at_risk["weekdays"]
    assert weekdays["avg_daily_sales"] == 0
    assert reorder["weekdays"]["expected_lead_time_demand"] > 0 and reorder["weekdays"]["recommended_order_qty"] > 0
    assert weekdays["reasons"][0] == "out_of_stock" and weekdays["score"] == 1.0
    assert weekdays["forecast_method"] == reorder["weekdays"]["forecast_method"]
    assert "by its forecast" in weekdays["recommended_action"]["reasoning"]


def test_a_sent_avg_daily_sales_gives_way_to_the_forecast_in_all_three_and_stands_in_without_sales(client):
    """The rule: the forecast wins wherever it is read; `avg_daily_sales` only where it is not (here: no sales)."""
    common = {"shop_id": "agree", "as_of": AS_OF.isoformat(), "sales": _sales()}
    stated = {"avg_daily_sales": 1.0}
    inventory = [{**item, **stated} if item["product_id"] == "over" else item for item in INVENTORY]
    inventory.append({"product_id": "new", "quantity": 0, "price": 3.0, "cost": 1.2, "avg_daily_sales": 4.0})
    reorder = {r["product_id"]: r for r in client.post(f"{PREFIX}/reorder", json={
        **common, "inventory": inventory}).json()["recommendations"]}
    at_risk = {r["product_id"]: r for r in client.post(f"{PREFIX}/at-risk", json={
        **common, "inventory": inventory}).json()["at_risk"]}
    items = [{**item, "categories": ["bakery"]} for item in inventory if item["product_id"] == "over"]
    events = [{"id": "weekend", "date": _in(2), "title": "Weekend sale", "audience": "all"}]
    promoted = client.post(f"{PREFIX}/promotions", json={**common, "items": items,
                                                          "calendar_events": events}).json()["promotions"]
    # over: sold about 8 a day; at the stated 1 a day, 100 of its 110 units would be left at expiry
    left = reorder["over"]["at_risk_quantity"]
    assert left < 80
    assert at_risk["over"]["expected_unsold_units"] == pytest.approx(left, abs=0.05)
    assert promoted[0]["without_promotion"]["units_left"] == pytest.approx(left, abs=0.05)
    # new: no sales, so its stated rate is the demand everywhere: out of stock, and reorder orders it
    assert at_risk["new"]["reasons"][0] == "out_of_stock" and at_risk["new"]["forecast_method"] is None
    assert at_risk["new"]["avg_daily_sales"] == 4.0
    assert reorder["new"]["forecast_method"] == "avg_daily_sales"
    assert reorder["new"]["expected_lead_time_demand"] == pytest.approx(4.0 * 8)
    assert reorder["new"]["recommended_order_qty"] > 0


def _carnival(silent: int = 60, weeks: int = 20) -> list[dict]:
    """A carnival pastry: sold two days in three for `weeks` weeks, then nothing for the last `silent` days."""
    return [{"product_id": "carnival", "date": (AS_OF - timedelta(days=back)).isoformat(), "qty": 2 + back % 5,
             "revenue": 6.0} for back in range(silent + 7 * weeks, silent, -1) if back % 3]


def test_a_long_silent_empty_shelf_is_out_of_stock_only_where_reorder_restocks_it(client):
    """Silent 60 days with none on hand: reorder reads its demand after the silence (none of the catalogue's
    items silent that long sold again) and orders nothing, though its forecast (Holt-Winters here) still sells
    about 0.1 a day; at-risk does not tell to restock it (today or as low stock)."""
    common = {"shop_id": "agree", "as_of": AS_OF.isoformat(), "sales": _sales() + _carnival()}
    inventory = [*INVENTORY, {"product_id": "carnival", "quantity": 0, "price": 3.0, "cost": 1.2}]
    reorder = {r["product_id"]: r for r in client.post(f"{PREFIX}/reorder", json={
        **common, "inventory": inventory}).json()["recommendations"]}
    at_risk = {r["product_id"]: r for r in client.post(f"{PREFIX}/at-risk", json={
        **common, "inventory": inventory}).json()["at_risk"]}
    carnival = reorder["carnival"]
    assert carnival["demand_distribution"] == "after_silence" and carnival["recommended_order_qty"] == 0
    # neither out of stock nor low stock (owner review F16): reorder orders none, at-risk asks for no restock
    assert "carnival" not in at_risk, at_risk.get("carnival")
    # an empty shelf that sells is still out of stock in both
    assert at_risk["empty"]["reasons"][0] == "out_of_stock" and reorder["empty"]["recommended_order_qty"] > 0


def test_without_as_of_all_three_start_from_the_latest_sale(client):
    """The documented origin (docs/sales.md "Today is the origin"): as_of, else the latest date in the request's
    sales. Reorder, at-risk and promotions take the same one, so they count the same units left at expiry."""
    common = {"shop_id": "agree", "sales": _sales()}
    reorder = {r["product_id"]: r for r in client.post(f"{PREFIX}/reorder", json={
        **common, "inventory": INVENTORY}).json()["recommendations"]}
    at_risk_answer = client.post(f"{PREFIX}/at-risk", json={**common, "inventory": INVENTORY}).json()
    at_risk = {r["product_id"]: r for r in at_risk_answer["at_risk"]}
    items = [{**item, "categories": ["bakery"]} for item in INVENTORY if item["product_id"] in {"over", "soon"}]
    events = [{"id": "weekend", "date": _in(2), "title": "Weekend sale", "audience": "all"}]
    promotions = client.post(f"{PREFIX}/promotions", json={**common, "items": items,
                                                            "calendar_events": events}).json()
    assert at_risk_answer["meta"]["as_of"] == promotions["meta"]["as_of"] == AS_OF.isoformat()
    for product in ("over", "soon"):
        assert at_risk[product]["expected_unsold_units"] == pytest.approx(reorder[product]["at_risk_quantity"],
                                                                          abs=0.05)
        assert at_risk[product]["days_to_expiry"] == (10 if product == "over" else 3)
    promoted = {p["product_id"]: p for p in promotions["promotions"]}
    assert promoted["over"]["without_promotion"]["units_left"] == pytest.approx(reorder["over"]["at_risk_quantity"],
                                                                               abs=0.05)


def test_at_risk_and_promotions_read_the_forecast_over_reorders_horizon(client):
    """A shelf life over 21 days makes reorder read more than 28 days of demand: all three read the same 28-day
    forecast (its mean beyond), so a /reorder after them finds every product's forecast cached."""
    inventory = [{**item, "expiry_date": item.get("expiry_date") or _in(40)} for item in INVENTORY
                 if item["product_id"] != "season"]
    inventory[0]["shelf_life_days"] = 45  # lead 7 + 45 days: a 52-day horizon
    common = {"shop_id": "agree", "as_of": AS_OF.isoformat(), "sales": _sales()}
    at_risk = client.post(f"{PREFIX}/at-risk", json={**common, "inventory": inventory})
    assert at_risk.status_code == 200
    reorder = client.post(f"{PREFIX}/reorder", json={**common, "inventory": inventory}).json()
    assert reorder["meta"]["forecast_cache"] == "hit"
    # promotions read the forecast of the items with stock to sell (not the empty shelf nor the expired stock)
    stocked = [item for item in inventory if item["quantity"] > 0 and item["product_id"] != "expired"]
    items = [{**item, "categories": ["bakery"]} for item in stocked]
    events = [{"id": "weekend", "date": _in(2), "title": "Weekend sale", "audience": "all"}]
    fresh = {**common, "shop_id": "agree-promotions"}
    assert client.post(f"{PREFIX}/promotions", json={**fresh, "items": items, "calendar_events": events}
                       ).status_code == 200
    # the forecast reads promotions' events as /reorder reads the same events (no audience there: pairing only)
    calendar = [{key: value for key, value in event.items() if key != "audience"} for event in events]
    again = client.post(f"{PREFIX}/reorder", json={**fresh, "inventory": stocked, "calendar_events": calendar}).json()
    assert again["meta"]["forecast_cache"] == "hit"


def test_a_silence_within_the_products_rhythm_leaves_its_forecast_in_all_three(client):
    """A lumpy seller (6 units every 12 days, none in the last 10): 10 silent days are its usual gap, no silence
    (review 5, finding 2). Reorder reads its forecast, as at-risk's note says."""
    lumpy = [{"product_id": "lumpy", "date": (AS_OF - timedelta(days=back)).isoformat(), "qty": 6, "revenue": 18.0}
             for back in range(130, 9, -12)]
    common = {"shop_id": "agree", "as_of": AS_OF.isoformat(), "sales": _sales() + lumpy}
    inventory = [*INVENTORY, {"product_id": "lumpy", "quantity": 20, "price": 3.0, "cost": 1.2,
                              "expiry_date": _in(12)}]
    reorder = {r["product_id"]: r for r in client.post(f"{PREFIX}/reorder", json={
        **common, "inventory": inventory}).json()["recommendations"]}["lumpy"]
    at_risk = {r["product_id"]: r for r in client.post(f"{PREFIX}/at-risk", json={
        **common, "inventory": inventory}).json()["at_risk"]}["lumpy"]
    assert reorder["demand_distribution"] != "after_silence"
    assert at_risk["expected_unsold_units"] == pytest.approx(reorder["at_risk_quantity"], abs=0.05)
    assert "the forecast demand over 8 days" in at_risk["recommended_action"]["reasoning"]


def _paused(silent: int) -> list[dict]:
    """A product selling 2 units every other day that paused twice for 45 days and is now silent `silent` days."""
    quiet = set(range(70, 115)) | set(range(170, 215)) | set(range(silent))
    return [{"product_id": "paused", "date": (AS_OF - timedelta(days=back)).isoformat(), "qty": 2, "revenue": 6.0}
            for back in range(300, -1, -2) if back not in quiet]


def test_stock_on_hand_and_an_order_are_judged_with_one_demand_after_a_silence(client):
    """Review 5, findings 4 and 5: silent on the shelf for longer than its gaps, an item's demand is what followed
    its earlier silences. Its stock on hand is judged with that demand too: at-risk, promotions and reorder count
    the same units left at expiry, and no order comes while the units that sell in time cover the interval (the
    forecast's 0.00/day said 'donate all of them' while reorder ordered more)."""
    common = {"shop_id": "agree", "as_of": AS_OF.isoformat(), "sales": _sales() + _paused(35)}
    item = {"product_id": "paused", "quantity": 30, "price": 3.0, "cost": 1.2, "expiry_date": _in(40),
            "lead_time_days": 7}
    reorder = {r["product_id"]: r for r in client.post(f"{PREFIX}/reorder", json={
        **common, "inventory": [*INVENTORY, item]}).json()["recommendations"]}["paused"]
    at_risk = {r["product_id"]: r for r in client.post(f"{PREFIX}/at-risk", json={
        **common, "inventory": [*INVENTORY, item]}).json()["at_risk"]}["paused"]
    promotions = client.post(f"{PREFIX}/promotions", json={**common, "items": [{**item, "categories": ["bakery"]}],
                                                            "calendar_events": [{"id": "fair", "date": _in(3),
                                                                                 "title": "Fair", "audience": "all"}]
                                                            }).json()
    assert reorder["demand_distribution"] == "after_silence"
    usable = reorder["usable_quantity"]
    # the 40 days to expiry sell the interval's demand pro rata (8 days: 7 of lead time and 1 of review)
    assert usable == pytest.approx(reorder["expected_lead_time_demand"] * 40 / 8, rel=0.02)
    assert 0 < usable < 30 and reorder["expected_lead_time_demand"] <= usable
    assert "by what followed its earlier silences" in at_risk["recommended_action"]["reasoning"]
    assert reorder["recommended_order_qty"] == 0
    assert at_risk["expected_unsold_units"] == pytest.approx(reorder["at_risk_quantity"], abs=0.05)
    assert "no discount can clear" not in at_risk["recommended_action"]["reasoning"]
    left = [p["without_promotion"]["units_left"] for p in promotions["promotions"]]
    assert left == [pytest.approx(reorder["at_risk_quantity"], abs=0.05)], promotions
    # the rate is reorder's, not the forecast's (review 6 N3: "by its forecast (linear, 0.21/day ...)" beside a
    # /forecast of 0.0 on every day): both name it as it is
    reasoning = promotions["promotions"][0]["reasoning"]
    assert "by what followed its earlier silences as long (" in reasoning and "; reorder's demand)" in reasoning
    assert "by its forecast" not in reasoning and "by its forecast" not in at_risk["recommended_action"]["reasoning"]


def test_a_product_selling_again_after_a_silence_is_judged_by_the_demand_before_it_and_says_so(client):
    """Review 6 N3: selling again after 40 silent days, a product's demand is reorder's, the demand it met before
    the silence (the forecast's recent level still counts the zeros). At-risk and promotions judge its stock with
    that demand and said it was "by its forecast (...)", a rate /forecast does not give: they name it as reorder
    does."""
    rng = np.random.default_rng(9)
    units = rng.poisson(3.0, 240).astype(float)
    units[197:238], units[238], units[239] = 0.0, 1.0, 0.0
    first = AS_OF - timedelta(days=239)
    woke = [{"product_id": "woke", "date": (first + timedelta(days=k)).isoformat(), "qty": float(q)}
            for k, q in enumerate(units) if q]
    common = {"shop_id": "woke", "as_of": AS_OF.isoformat(), "sales": _sales() + woke}
    item = {"product_id": "woke", "quantity": 60, "price": 3.0, "cost": 1.0, "expiry_date": _in(10),
            "lead_time_days": 2}
    reorder = client.post(f"{PREFIX}/reorder", json={**common, "inventory": [item]}).json()["recommendations"][0]
    at_risk = client.post(f"{PREFIX}/at-risk", json={**common, "inventory": [item]}).json()["at_risk"][0]
    promotions = client.post(f"{PREFIX}/promotions", json={**common, "items": [item], "calendar_events": [
        {"id": "market", "date": _in(2), "title": "Market", "audience": "all"}]}).json()
    assert "sells again after 14 or more silent days" in reorder["reasoning"]
    assert at_risk["expected_unsold_units"] == pytest.approx(reorder["at_risk_quantity"], abs=0.05)
    reasoning = at_risk["recommended_action"]["reasoning"]
    assert "/day by the demand it met before its silence (reorder's demand: it sells again after 14 or more " \
           "silent days)" in reasoning
    assert "by its forecast" not in reasoning and "the forecast demand over" not in reasoning
    said = promotions["promotions"][0]["reasoning"]
    assert "by the demand it met before its silence (" in said and "by its forecast" not in said


def test_promotions_count_an_item_whose_sales_are_all_older_than_a_month_as_sold(client):
    """Sales that ended 35 days ago are sales for at-risk and reorder (the forecast is read); promotions take the
    same rule, so they read that forecast too and do not plan it as an item without sales history."""
    common = {"shop_id": "agree", "as_of": AS_OF.isoformat(), "sales": _sales() + _carnival(silent=35)}
    item = {"product_id": "carnival", "quantity": 30, "price": 3.0, "cost": 1.2, "expiry_date": _in(10)}
    at_risk = {r["product_id"]: r for r in client.post(f"{PREFIX}/at-risk", json={
        **common, "inventory": [*INVENTORY, item]}).json()["at_risk"]}["carnival"]
    events = [{"id": "weekend", "date": _in(2), "title": "Weekend sale", "audience": "all"}]
    answer = client.post(f"{PREFIX}/promotions", json={**common, "items": [{**item, "categories": ["bakery"]}],
                                                        "calendar_events": events}).json()
    assert at_risk["forecast_method"] is not None and at_risk["expected_unsold_units"] > 29
    assert all("no sales history" not in p["reasoning"] for p in answer["promotions"])
    # by that forecast a discount would mostly give away the price of units that sell anyway
    assert [u["reason"].split(":")[0] for u in answer["unmatched"]] == ["a promotion would not pay"]


def test_a_silent_empty_shelf_that_reorder_restocks_is_out_of_stock_and_says_by_what(client):
    """Silent 22 days with none on hand in a shop whose items sell again after such silences (four sell 5 units
    every 25 days): reorder orders from the demand after the silence; at-risk flags out_of_stock and quotes that
    demand per day, naming where it comes from (not "by its forecast")."""
    gappy = [{"product_id": f"gappy{k}", "date": (AS_OF - timedelta(days=back)).isoformat(), "qty": 5,
              "revenue": 15.0} for k in range(4) for back in range(200 + k, 0, -25)]
    common = {"shop_id": "agree", "as_of": AS_OF.isoformat(), "sales": _sales() + _carnival(silent=20) + gappy}
    inventory = [*INVENTORY, {"product_id": "carnival", "quantity": 0, "price": 3.0, "cost": 1.2},
                 *({"product_id": f"gappy{k}", "quantity": 9, "price": 3.0, "cost": 1.0} for k in range(4))]
    reorder = {r["product_id"]: r for r in client.post(f"{PREFIX}/reorder", json={
        **common, "inventory": inventory}).json()["recommendations"]}["carnival"]
    at_risk = {r["product_id"]: r for r in client.post(f"{PREFIX}/at-risk", json={
        **common, "inventory": inventory}).json()["at_risk"]}["carnival"]
    assert reorder["demand_distribution"] == "after_silence" and reorder["recommended_order_qty"] > 0
    assert at_risk["reasons"][0] == "out_of_stock" and at_risk["score"] == 1.0
    per_day = round(reorder["expected_lead_time_demand"] / 8, 1)
    assert f"loses about {per_day:g} units of sales on average by what followed its earlier silences" in at_risk[
        "recommended_action"]["reasoning"]


def test_an_empty_shelf_with_enough_on_order_is_out_of_stock_but_not_ordered_again(client):
    """An empty shelf is out of stock today whatever is on order; with units on order above reorder's reorder point
    reorder orders no more and at-risk says the stock is on its way (the same point: `planned_demand.reorder_points`);
    with too few on order both tell to order."""
    common = {"shop_id": "agree", "as_of": AS_OF.isoformat(), "sales": _sales()}
    events = [{"id": "weekend", "date": _in(2), "title": "Weekend sale", "audience": "all"}]
    for on_order, reordered in ((400, False), (20, True)):
        inventory = [{**item, "on_order": on_order} if item["product_id"] == "empty" else item for item in INVENTORY]
        reorder = {r["product_id"]: r for r in client.post(f"{PREFIX}/reorder", json={
            **common, "inventory": inventory}).json()["recommendations"]}["empty"]
        at_risk = {r["product_id"]: r for r in client.post(f"{PREFIX}/at-risk", json={
            **common, "inventory": inventory}).json()["at_risk"]}["empty"]
        items = [{**item, "expiry_date": _in(10), "categories": ["bakery"]} for item in inventory
                 if item["product_id"] in ("empty", "over")]
        promotions = client.post(f"{PREFIX}/promotions", json={**common, "items": items,
                                                                "calendar_events": events}).json()
        assert "empty" not in {p["product_id"] for p in promotions["promotions"]}
        assert reorder["inventory_position"] == on_order and (reorder["recommended_order_qty"] > 0) == reordered
        assert f"{on_order} on order" in reorder["reasoning"]
        assert at_risk["reasons"][0] == "out_of_stock" and at_risk["score"] == 1.0
        action = at_risk["recommended_action"]
        point = reorder["reorder_point"]
        named = f"reorder point {point:g}" if point == int(point) else f"reorder point {point:.1f}"
        assert named in action["reasoning"]
        assert "Judged with reorder's default 7-day lead time (none sent) and reorder's default 1-day review and " \
               "95% service level" in action["reasoning"]
        if reordered:
            assert "Restock today" in action["reasoning"] and "do not reach" in action["reasoning"]
        else:
            assert "stock is on its way" in action["reasoning"] and "Reorder orders no more" in action["reasoning"]
            assert "Restock today" not in action["reasoning"] and action["promotion_timing"] != "today"
            assert "on their way" in reorder["reasoning"]


def test_at_risk_names_the_lead_time_it_judges_by(client):
    """At-risk has no review or service level of its own: its reorder note names reorder's defaults it used and
    the item's own lead time when sent."""
    common = {"shop_id": "agree", "as_of": AS_OF.isoformat(), "sales": _sales()}
    inventory = [{**item, "lead_time_days": 3} if item["product_id"] == "over" else item for item in INVENTORY]
    reorder = {r["product_id"]: r for r in client.post(f"{PREFIX}/reorder", json={
        **common, "inventory": inventory}).json()["recommendations"]}["over"]
    over = {r["product_id"]: r for r in client.post(f"{PREFIX}/at-risk", json={
        **common, "inventory": inventory}).json()["at_risk"]}["over"]
    reasoning = over["recommended_action"]["reasoning"]
    demand = round(reorder["expected_lead_time_demand"], 1)
    assert f"the forecast demand over 4 days of lead time and review ({demand:g})" in reasoning
    assert "Judged with the item's 3-day lead time and reorder's default 1-day review and 95% service level" in (
        reasoning)


def test_no_slow_mover_the_forecast_sells_out(client):
    """Every at-risk signal reads the same demand: a weekday seller (about 16 a day) looked at on a Sunday with a
    2-day window sold none recently, so its rate is 0; its forecast (reorder's) sells the 30 units on hand within
    days. It is at risk of a stockout and not a slow mover; its turnover is the forecast's. A stated rate of 0.2
    for an item selling about 8 a day does not make it slow either where the forecast is read."""
    common = {"shop_id": "agree", "as_of": AS_OF.isoformat(), "sales": _sales() + _weekday_seller()}
    inventory = [{**item, "avg_daily_sales": 0.2} if item["product_id"] == "over" else item for item in INVENTORY]
    inventory.append({"product_id": "weekdays", "quantity": 30, "price": 3.0, "cost": 1.2, "expiry_date": _in(10)})
    reorder = {r["product_id"]: r for r in client.post(f"{PREFIX}/reorder", json={
        **common, "inventory": inventory}).json()["recommendations"]}
    answer = client.post(f"{PREFIX}/at-risk", json={**common, "inventory": inventory,
                                                    "thresholds": {"slow_moving_window": 2}}).json()
    at_risk = {r["product_id"]: r for r in answer["at_risk"]}
    weekdays, over = at_risk["weekdays"], at_risk["over"]
    assert weekdays["avg_daily_sales"] == 0 and weekdays["forecast_method"] == reorder["weekdays"]["forecast_method"]
    assert "stockout_risk" in weekdays["reasons"] and "slow_moving" not in weekdays["reasons"]
    assert weekdays["days_of_supply"] == reorder["weekdays"]["days_of_supply"]
    assert weekdays["turnover_rate"] > 100  # the forecast's about 16 a day x 365 / 30 units, not the rate's 0
    assert over["avg_daily_sales"] == 0.2 and "slow_moving" not in over["reasons"] and over["turnover_rate"] > 20
    assert not {"weekdays", "over"} & {s["product_id"] for s in answer["slow_movers"]}
    # the slow mover without a sell-by day still reads its rate, and is still one
    assert "slow_moving" in at_risk["slow"]["reasons"]


def _steady(product: str, per_day: float, days: int, silent_for: int = 0) -> list[dict]:
    """`per_day` units every day for `days` days up to as_of, none over its last `silent_for` days."""
    return [{"product_id": product, "date": (AS_OF - timedelta(days=back)).isoformat(), "qty": per_day,
             "revenue": per_day * 3.0} for back in range(silent_for, days)]


def test_units_nobody_buys_are_a_write_off_not_an_empty_shelf_and_both_answers_say_so(client):
    """Issue #24: 10 units expiring in 2 days of an item that stopped selling 60 days ago are no empty shelf, no
    stockout and no markdown (a discount lifts a demand there is not): at-risk and promotions both say so; an item
    with 0 units has no expiry risk."""
    sales = _steady("gone", 5.0, 180, silent_for=60) + _steady("fresh", 20.0, 180)
    inventory = [{"product_id": "gone", "quantity": 10, "price": 3.0, "cost": 1.0, "expiry_date": _in(2)},
                 {"product_id": "fresh", "quantity": 0, "price": 3.0, "cost": 1.0, "expiry_date": _in(1)}]
    common = {"shop_id": "gone", "as_of": AS_OF.isoformat(), "sales": sales}
    at_risk = {r["product_id"]: r for r in client.post(f"{PREFIX}/at-risk", json={**common, "inventory": inventory})
               .json()["at_risk"]}
    gone = at_risk["gone"]
    assert gone["forecast_method"] and gone["expected_unsold_units"] == 10
    assert not {"out_of_stock", "stockout_risk"} & set(gone["reasons"]), gone["reasons"]
    assert {"near_expiry", "unsellable_before_expiry"} <= set(gone["reasons"]) and gone["score"] < 1
    assert gone["stockout_date"] is None and gone["days_of_supply"] is None
    action = gone["recommended_action"]
    assert action["action_type"] == "clearance" and action["discount_range"] is None
    assert action["reasoning"].startswith("No demand: 10 units in stock") and "write-off" in action["reasoning"]
    assert at_risk["fresh"]["reasons"][0] == "out_of_stock" and "near_expiry" not in at_risk["fresh"]["reasons"]
    events = [{"id": "market", "date": _in(1), "title": "Market", "audience": "all"}]
    promotions = client.post(f"{PREFIX}/promotions", json={**common, "items": inventory[:1],
                                                            "calendar_events": events}).json()
    assert promotions["promotions"] == []
    reason = promotions["unmatched"][0]["reason"]
    # silent 60 days, its demand is what followed its earlier silences (reorder's): both answers name it so
    assert reason.startswith("no demand: by what followed its earlier silences as long (0.00/day; reorder's demand)")
    assert "none of the 10 units sells" in reason
    assert "by what followed its earlier silences as long" in action["reasoning"]
    assert "would not pay" not in reason


def test_the_slow_mover_flag_and_its_reasoning_read_the_same_demand(client):
    """Issue #24: a stated avg_daily_sales of 0.8 (above the 0.5 threshold) on an item its forecast sells at 0.2 a day:
    flagged slow_moving by the forecast's demand, and the reasoning names that demand, not only the stated rate."""
    inventory = [{"product_id": "cake", "quantity": 30, "price": 3.0, "cost": 1.0, "expiry_date": _in(6),
                  "avg_daily_sales": 0.8}]
    body = {"shop_id": "slow", "as_of": AS_OF.isoformat(), "sales": _steady("cake", 0.2, 120), "inventory": inventory}
    entry = client.post(f"{PREFIX}/at-risk", json=body).json()["at_risk"][0]
    demand = entry["turnover_rate"] * 30 / 365
    assert "slow_moving" in entry["reasons"] and demand < 0.5 < entry["avg_daily_sales"]
    assert f"{demand:.2f}/day by its forecast" in entry["recommended_action"]["reasoning"]
    # 30 units, about 1.2 sell before expiry: no stockout, the units left are the risk
    assert "stockout_risk" not in entry["reasons"] and "unsellable_before_expiry" in entry["reasons"]


def test_a_fraction_of_a_unit_left_at_expiry_is_stock_that_sells_out_in_all_three(client):
    """Review finding 5: 12 units, 0.25 left at expiry by the demand: at-risk flagged a stockout and a markdown,
    reorder held the order back ("sell or clear the stock first"), promotions said it sells out. One threshold
    (`stock_view.MIN_LEFTOVER_UNITS`): less than one unit left is no stock to clear, in all three."""
    item = {"product_id": "brioche", "quantity": 12, "price": 6.0, "cost": 2.4, "lead_time_days": 2,
            "expiry_date": _in(5), "avg_daily_sales": 2.35}  # 11.75 units sell in the 5 days
    common = {"shop_id": "fraction", "as_of": AS_OF.isoformat(), "sales": _steady("bread", 6.0, 60)}
    rec = client.post(f"{PREFIX}/reorder", json={**common, "inventory": [item]}).json()["recommendations"][0]
    assert rec["at_risk_quantity"] == 0 and rec["usable_quantity"] == 12
    assert "clear" not in rec["reasoning"] and "expire unsold" not in rec["reasoning"]
    at_risk = {r["product_id"]: r for r in client.post(f"{PREFIX}/at-risk", json={**common, "inventory": [item]})
               .json()["at_risk"]}
    entry = at_risk.get("brioche", {"reasons": [], "expected_unsold_units": 0, "recommended_action": {}})
    assert "unsellable_before_expiry" not in entry["reasons"] and entry["expected_unsold_units"] == 0
    assert entry["recommended_action"].get("discount_range") is None
    events = [{"id": "market", "date": _in(1), "title": "Market", "audience": "all"}]
    promotions = client.post(f"{PREFIX}/promotions", json={**common, "items": [item], "calendar_events": events}).json()
    assert promotions["promotions"] == [] and "sells out at full price" in promotions["unmatched"][0]["reason"]
    # a unit or more left is stock to clear, in all three
    more = {**item, "quantity": 14}
    rec = client.post(f"{PREFIX}/reorder", json={**common, "inventory": [more]}).json()["recommendations"][0]
    assert rec["at_risk_quantity"] == pytest.approx(2.25)
    entry = client.post(f"{PREFIX}/at-risk", json={**common, "inventory": [more]}).json()["at_risk"][0]
    assert "unsellable_before_expiry" in entry["reasons"] and entry["expected_unsold_units"] == pytest.approx(2.25)


def test_days_of_supply_stockout_date_and_reasoning_are_one_number_along_the_path(answers):
    """Review finding 6: reorder said 5.5 days of supply, a stockout in 3 days and "last about 3 days" of the same
    units (a flat rate for one, the path for the others). All three come from `stock_view.supply_days`, and
    at-risk shows the same number where it reads the forecast."""
    reorder, at_risk = answers["reorder"], answers["at_risk"]
    for product in ("best", "sellsout", "over", "season", "soon"):
        rec = reorder[product]
        days = rec["days_of_supply"]
        assert days is not None and f"last about {days:g} days" in rec["reasoning"], (product, rec["reasoning"])
        assert rec["predicted_stockout_date"] == (AS_OF + timedelta(days=math.ceil(days))).isoformat(), product
        if rec["at_risk_quantity"] > 0:  # the usable units are those that sell by the sell-by day: they last to it
            item = next(i for i in INVENTORY if i["product_id"] == product)
            sell_by = date.fromisoformat(item.get("expiry_date") or item["season_end"])
            assert days <= (sell_by - AS_OF).days, product
    for product in ("sellsout", "over", "season", "soon"):
        assert at_risk[product]["days_of_supply"] == reorder[product]["days_of_supply"], product
        assert at_risk[product]["stockout_date"] == reorder[product]["predicted_stockout_date"], product


def test_stock_nothing_sells_has_no_days_of_supply_and_plain_numbers(client):
    """Review finding 7: units a forecast of nearly nothing leaves: at-risk said 92 days of supply and a stockout
    date from 1e-5 / 1e-7, reorder "position 2.92192e-05 ... last about indefinitely". Neither days of supply nor
    stockout date where nothing sells or nothing is usable, and numbers for people in the reasoning."""
    sales = _steady("log", 5.0, 320, silent_for=200) + _steady("fresh", 20.0, 180)
    inventory = [{"product_id": "log", "quantity": 10, "price": 20.0, "cost": 8.0, "season_end": _in(90)},
                 {"product_id": "fresh", "quantity": 0, "price": 3.0, "cost": 1.0}]
    common = {"shop_id": "log", "as_of": AS_OF.isoformat(), "sales": sales}
    rec = {r["product_id"]: r for r in client.post(f"{PREFIX}/reorder", json={**common, "inventory": inventory})
           .json()["recommendations"]}
    for product in ("log", "fresh"):
        assert rec[product]["days_of_supply"] is None and rec[product]["predicted_stockout_date"] is None, product
        assert "e-" not in rec[product]["reasoning"] and "indefinitely" not in rec[product]["reasoning"], product
    entry = {r["product_id"]: r for r in client.post(f"{PREFIX}/at-risk", json={**common, "inventory": inventory})
             .json()["at_risk"]}["log"]
    assert entry["days_of_supply"] is None and entry["stockout_date"] is None
    assert "low_stock" not in entry["reasons"]
    # the BUCHE's numbers: a path of 1e-7 a day over 92 days leaves 3e-5 usable units, which last no day
    path = np.full((1, 92), 1e-7).cumsum(axis=1)
    far = np.full(path.shape[0], 10.0**9)
    assert np.isnan(supply_days(path, path[:, -1], far)).all()
    assert supply_days(np.full((1, 10), 2.0).cumsum(axis=1), np.array([5.0]), far[:1]) == pytest.approx(2.5)
    assert supply_days(np.full((1, 10), 0.2).cumsum(axis=1), np.array([1.0]), np.array([3.0])) == pytest.approx(3.0)


def test_low_stock_is_never_stock_left_over(client):
    """Review finding 11: 8 units of a tart of which 7.4 expire unsold, 10 units nobody buys, were `low_stock`
    (quantity <= 10 whatever sells). Low stock is usable units short of demand; stock left over is not."""
    sales = _steady("tart", 0.2, 120) + _steady("bread", 6.0, 120)
    inventory = [{"product_id": "tart", "quantity": 8, "price": 3.0, "cost": 1.0, "expiry_date": _in(3)},
                 {"product_id": "bread", "quantity": 8, "price": 3.0, "cost": 1.0, "expiry_date": _in(3)}]
    body = {"shop_id": "tart", "as_of": AS_OF.isoformat(), "sales": sales, "inventory": inventory}
    at_risk = {r["product_id"]: r for r in client.post(f"{PREFIX}/at-risk", json=body).json()["at_risk"]}
    assert "unsellable_before_expiry" in at_risk["tart"]["reasons"] and "low_stock" not in at_risk["tart"]["reasons"]
    assert "low_stock" in at_risk["bread"]["reasons"]  # 8 units that sell out in about a day and a half


def test_a_seasonal_item_whose_season_is_ahead_is_not_written_off_on_the_off_season_forecast(client):
    """Review finding 10: a Christmas log on 28 September (season_end 31 December) that sold 11 units on 24-26
    December last year was 'No demand ... donate or write off' in at-risk and promotions: the forecast from the
    off-season sees none. The request's own sales of the same days last year say the season is ahead: both answers
    say what it sold then and claim no certainty. A seasonal item that sold nothing in those days is still a
    write-off."""
    christmas = [{"product_id": "log", "date": f"2024-12-{d}", "qty": q, "revenue": q * 20.0}
                 for d, q in ((24, 5), (25, 2), (26, 4))]
    february = [{"product_id": "galette", "date": f"2025-02-0{d}", "qty": 3, "revenue": 30.0}
                for d in range(1, 8)]
    sales = christmas + february + _steady("bread", 20.0, 400)
    inventory = [{"product_id": "log", "quantity": 10, "price": 20.0, "cost": 8.0, "season_end": "2025-12-31"},
                 {"product_id": "galette", "quantity": 10, "price": 10.0, "cost": 4.0, "season_end": "2025-12-31"}]
    common = {"shop_id": "xmas", "as_of": AS_OF.isoformat(), "sales": sales}
    at_risk = {r["product_id"]: r for r in client.post(f"{PREFIX}/at-risk", json={**common, "inventory": inventory})
               .json()["at_risk"]}
    log = at_risk["log"]["recommended_action"]
    assert log["action_type"] == "monitor" and log["discount_range"] is None, log
    assert "the same days last year (2024-09-29 to 2024-12-31) sold 11 units" in log["reasoning"]
    assert "record the write-off" not in log["reasoning"] and "uncertain" in log["reasoning"]
    assert "record the write-off" in at_risk["galette"]["recommended_action"]["reasoning"]
    reorder = {r["product_id"]: r for r in client.post(f"{PREFIX}/reorder", json={**common, "inventory": inventory})
               .json()["recommendations"]}
    assert "the same days last year sold 11" in reorder["log"]["reasoning"]
    assert "clear them" not in reorder["log"]["reasoning"] and "clear them" in reorder["galette"]["reasoning"]
    events = [{"id": "noel", "date": "2025-12-20", "title": "Christmas market", "audience": "families"}]
    promotions = client.post(f"{PREFIX}/promotions", json={**common, "items": inventory,
                                                            "calendar_events": events}).json()
    assert promotions["promotions"] == []
    reasons = {u["product_id"]: u["reason"] for u in promotions["unmatched"]}
    assert reasons["log"].startswith("its season's sales are still ahead") and "sold 11.0 units" in reasons["log"]
    assert "record the write-off" not in reasons["log"] and "record the write-off" in reasons["galette"]


def test_an_item_selling_in_its_season_is_cleared_on_its_forecast_whatever_last_season_sold(client):
    """Code review: 200 units of an item selling 4 a day, 20 days before its season's end, and 5 a day the same days
    last year: about 120 are left by its forecast (about 100 even at last year's pace). Last season's sales only
    stand in for a forecast that sees the off-season (sells nothing); here at-risk clears, promotions discounts and
    reorder says clear them."""
    last_year = [{"product_id": "candy", "date": (AS_OF - timedelta(days=back)).isoformat(), "qty": 5.0,
                  "revenue": 15.0} for back in range(345, 366)]
    sales = last_year + _steady("candy", 4.0, 120) + _steady("bread", 20.0, 400)
    item = {"product_id": "candy", "quantity": 200, "price": 3.0, "cost": 1.0,
            "season_end": (AS_OF + timedelta(days=20)).isoformat()}
    common = {"shop_id": "midseason", "as_of": AS_OF.isoformat(), "sales": sales}
    at_risk = client.post(f"{PREFIX}/at-risk", json={**common, "inventory": [item]}).json()["at_risk"][0]
    assert at_risk["recommended_action"]["action_type"] != "monitor" and at_risk["expected_unsold_units"] > 50
    events = [{"id": "fair", "date": (AS_OF + timedelta(days=5)).isoformat(), "title": "Autumn fair"}]
    promotions = client.post(f"{PREFIX}/promotions", json={**common, "items": [{**item, "categories": ["sweets"]}],
                                                            "calendar_events": events}).json()
    assert len(promotions["promotions"]) == 1
    reorder = client.post(f"{PREFIX}/reorder", json={**common, "inventory": [item]}).json()["recommendations"][0]
    assert "clear them" in reorder["reasoning"]


def test_a_fraction_of_a_unit_nothing_buys_is_a_write_off_in_every_answer(client):
    """Code review: 0.8 kg of cheese expiring in 2 days that nothing buys was 'sells before expiry, no markdown'
    in at-risk (the one-unit leftover rule counted it usable) while promotions said write-off: a fraction of a
    unit is usable only where the path sells."""
    sales = [*_steady("bread", 20.0, 60), {"product_id": "cheese", "date": "2025-03-01", "qty": 0.4}]
    item = {"product_id": "cheese", "quantity": 0.8, "price": 30.0, "cost": 15.0,
            "expiry_date": (AS_OF + timedelta(days=2)).isoformat()}
    common = {"shop_id": "cheese", "as_of": AS_OF.isoformat(), "sales": sales}
    at_risk = client.post(f"{PREFIX}/at-risk", json={**common, "inventory": [item]}).json()["at_risk"][0]
    assert at_risk["expected_unsold_units"] == 0.8 and "write-off" in at_risk["recommended_action"]["reasoning"]
    reorder = client.post(f"{PREFIX}/reorder", json={**common, "inventory": [item]}).json()["recommendations"][0]
    assert (reorder["usable_quantity"], reorder["at_risk_quantity"]) == (0.0, 0.8)


def test_one_items_long_shelf_life_changes_nothing_for_the_others(client):
    """The forecast the decisions read has one horizon whatever the items: a packaged item's 45-day shelf life
    neither changes another item's model nor its units left at expiry (a review found a tray of eclairs at 35 %
    or 20 % off depending on the cookies' shelf life)."""
    common = {"shop_id": "horizon", "as_of": AS_OF.isoformat(), "sales": _sales()}
    plain = client.post(f"{PREFIX}/at-risk", json={**common, "inventory": INVENTORY}).json()
    longer = [{**item, "shelf_life_days": 45} if item["product_id"] == "best" else item for item in INVENTORY]
    other = client.post(f"{PREFIX}/at-risk", json={**common, "inventory": longer}).json()
    for product in ("over", "season", "soon"):
        first, second = (next(r for r in a["at_risk"] if r["product_id"] == product) for a in (plain, other))
        assert second["expected_unsold_units"] == first["expected_unsold_units"]
        assert second["recommended_action"] == first["recommended_action"]
        assert second["forecast_method"] == first["forecast_method"]


def test_an_out_of_season_item_is_no_low_stock_where_reorder_orders_nothing(client):
    """Owner review F16: a strawberry cake silent for 20 days (0 on hand), in a shop where 1 of 4 other products woke
    up after such a silence, was at-risk `low_stock`, "restock" at 0.01/day while reorder ordered 0 (reorder point 0)
    with urgency "medium". Low stock only where reorder would order: neither answer asks for a cake; 2 units of a
    steady seller still are low stock and ordered."""
    def selling(product: str, first: int, last: int) -> list[dict]:  # 2 a day from `first` to `last` days back
        return [{"product_id": product, "date": (AS_OF - timedelta(days=back)).isoformat(), "qty": 2.0,
                 "revenue": 6.0} for back in range(last, first)]

    others = ["woke", "gone1", "gone2", "gone3"]  # silent from 200 to 120 days back; one sold again
    sales = _steady("cake", 3.0, 160, silent_for=20) + _steady("tart", 6.0, 160) + selling("woke", 120, 0)
    sales += [row for product in others for row in selling(product, 300, 200)]
    inventory = [{"product_id": "cake", "quantity": 0, "price": 3.5, "cost": 1.2, "lead_time_days": 1,
                  "shelf_life_days": 2},
                 {"product_id": "tart", "quantity": 2, "price": 3.0, "cost": 1.0, "lead_time_days": 1}]
    inventory += [{"product_id": product, "quantity": 50, "price": 3.0, "cost": 1.0} for product in others]
    body = {"shop_id": "season", "as_of": AS_OF.isoformat(), "sales": sales, "inventory": inventory}
    reorder = {r["product_id"]: r for r in client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"]}
    at_risk = {r["product_id"]: r for r in client.post(f"{PREFIX}/at-risk", json=body).json()["at_risk"]}
    cake = reorder["cake"]
    assert 0 < cake["expected_lead_time_demand"] < 0.1, cake  # a little demand after the silence, as the bakery's
    assert (cake["recommended_order_qty"], cake["reorder_point"], cake["urgency"]) == (0, 0, "low"), cake
    assert "cake" not in at_risk, at_risk.get("cake")
    assert reorder["tart"]["recommended_order_qty"] > 0 and "low_stock" in at_risk["tart"]["reasons"]


def test_stock_that_runs_out_because_it_expires_is_a_clearance_not_a_stockout(client):
    """Owner review F14: 25 eclairs expiring in 2 days, about 10 of them unsold, were `stockout_risk` ("runs out
    soon") beside `unsellable_before_expiry` and a clearance markdown; reorder said urgency "high" with an order of
    0 (held back to clear first). At-risk clears them without a stockout; reorder's urgency is medium, and says why."""
    sales = _steady("eclair", 6.0, 120) + _steady("bread", 20.0, 120)
    inventory = [{"product_id": "eclair", "quantity": 25, "price": 2.2, "cost": 0.8, "lead_time_days": 1,
                  "expiry_date": _in(2)}]
    body = {"shop_id": "eclair", "as_of": AS_OF.isoformat(), "sales": sales, "inventory": inventory}
    entry = client.post(f"{PREFIX}/at-risk", json=body).json()["at_risk"][0]
    assert "unsellable_before_expiry" in entry["reasons"] and "stockout_risk" not in entry["reasons"], entry
    assert entry["recommended_action"]["action_type"] == "clearance"
    rec = client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"][0]
    assert rec["recommended_order_qty"] == 0 and rec["at_risk_quantity"] > 0
    assert rec["urgency"] == "medium" and "sell or clear the stock first" in rec["reasoning"], rec


def test_the_units_quoted_beside_the_leftover_add_up_and_critical_means_most_of_the_stock_is_left(client):
    """A bakery review: 'Critical risk ... 3.02/day by its forecast ... about 23.5 units would be left' for 40
    units and 3 days (40 - 3 x 3.02 = 30.9: the rate was the 28-day mean, the leftover the weekend's 3 days); and
    'Critical risk' for 10 of 180 baguettes left. The demand over the days to expiry is quoted, and 'Critical'
    means at least half the stock would be left."""
    weekend = [{"product_id": "kouign", "date": (AS_OF - timedelta(days=k)).isoformat(),
                "qty": 8.0 if (AS_OF - timedelta(days=k)).weekday() >= 5 else 1.0} for k in range(120)]
    inventory = [{"product_id": "kouign", "quantity": 40, "price": 3.0, "cost": 0.5, "expiry_date": _in(3)},
                 {"product_id": "bread", "quantity": 30, "price": 3.0, "cost": 0.5, "expiry_date": _in(3)}]
    body = {"shop_id": "pace", "as_of": AS_OF.isoformat(), "sales": weekend + _steady("bread", 9.0, 120),
            "inventory": inventory}
    entries = {r["product_id"]: r for r in client.post(f"{PREFIX}/at-risk", json=body).json()["at_risk"]}
    entry, few = entries["kouign"], entries["bread"]
    reasoning = entry["recommended_action"]["reasoning"]
    assert entry["forecast_method"], entry
    sold = float(reasoning.split("a demand of about ")[1].split(" unit")[0])
    assert abs(40 - sold - entry["expected_unsold_units"]) < 0.1, reasoning
    assert reasoning.startswith("Critical risk" if entry["expected_unsold_units"] >= 20 else "At risk"), reasoning
    assert 0 < few["expected_unsold_units"] < 15, few
    assert few["recommended_action"]["reasoning"].startswith("At risk"), few


def test_a_season_over_item_that_expires_soon_is_not_stored_for_next_season(client):
    """A bakery review: a fraisier whose season ended, expiring in 2 days and selling about nothing, was told to
    'Clear them at 40% off or store them for next season if they keep'."""
    summer = [{"product_id": "fraisier", "date": (AS_OF - timedelta(days=k)).isoformat(), "qty": 3.0}
              for k in range(40, 160)]
    inventory = [{"product_id": "fraisier", "quantity": 5, "price": 18.0, "cost": 6.0, "expiry_date": _in(2),
                  "season_end": _in(-15)}]
    body = {"shop_id": "fraisier", "as_of": AS_OF.isoformat(), "sales": summer, "inventory": inventory}
    entry = client.post(f"{PREFIX}/at-risk", json=body).json()["at_risk"][0]
    reasoning = entry["recommended_action"]["reasoning"]
    assert "store them" not in reasoning and "expiry in 2 days" in reasoning, reasoning
    assert "write-off" in reasoning


def _on_order_beyond_shelf_life(client, product: str, on_hand: float, on_order: float, shelf_life: int, lead: int,
                                rate: float) -> dict:
    """At-risk's action for an item whose units on order exceed what sells within their shelf life, after checking
    that reorder orders none for it."""
    item = {"product_id": product, "quantity": on_hand, "on_order": on_order, "lead_time_days": lead,
            "shelf_life_days": shelf_life, "price": 5.0, "cost": 2.0}
    body = {"shop_id": product, "as_of": AS_OF.isoformat(), "sales": _steady(product, rate, 120), "inventory": [item]}
    rec = client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"][0]
    assert rec["recommended_order_qty"] == 0, rec["reasoning"]
    return client.post(f"{PREFIX}/at-risk", json=body).json()["at_risk"][0]["recommended_action"]


def test_units_on_order_beyond_what_sells_within_their_shelf_life_stop_at_risk_restocking_as_reorder(client):
    """A bakery review: a sandwich tray with 0 on hand and 6 on order (2-day shelf life, selling about 0.6 a day)
    was `critical, order 2` in reorder and 'Restock today' in at-risk: the 6 already bring more than sells before
    they expire. Reorder orders nothing now; at-risk says the units on order suffice, as reorder does."""
    action = _on_order_beyond_shelf_life(client, "traiteur", on_hand=0, on_order=6, shelf_life=2, lead=3, rate=0.6)
    assert action["promotion_timing"] == "when the units on order arrive", action
    assert "orders no more" in action["reasoning"] and "expire unsold" in action["reasoning"], action


def test_low_stock_with_units_on_order_beyond_their_shelf_life_is_no_restock_as_reorder_says(client):
    """A review: brioche, 2 on hand and 10 on order of a 3-day shelf life selling about 1.4 a day: reorder orders
    none (the 10 already bring more than sells before they expire), at-risk said 'Runs out soon ... restock today'."""
    action = _on_order_beyond_shelf_life(client, "brioche", on_hand=2, on_order=10, shelf_life=3, lead=2, rate=1.4)
    assert action["action_type"] != "restock" and action["promotion_timing"] == "when the units on order arrive"
    assert "reorder orders no more" in action["reasoning"], action


def _lost(reasoning: str) -> float:
    """The units a reasoning says are lost before an order placed now can arrive."""
    return float(reasoning.split(" of sales are lost ")[0].rsplit("about ", 1)[1].split(" unit")[0])


def test_a_stockout_no_order_prevents_is_no_restock_today_in_at_risk_either(client):
    """A review: 20 on hand lasting 2 days with 300 on order covering the 7-day lead time, and 5 units of an item
    whose season ends in 4 days, before any order could arrive: reorder orders nothing for either, and at-risk said
    'Runs out soon ... restock today'. At-risk now says what reorder says, in the same words: when the shelf
    empties, the units lost before an order placed now could arrive, and that only an earlier delivery saves them."""
    body = {"shop_id": "gap", "as_of": AS_OF.isoformat(), "sales": _steady("covered", 10.0, 120)
            + _steady("season", 10.0, 120),
            "inventory": [{"product_id": "covered", "quantity": 20, "on_order": 300, "lead_time_days": 7,
                           "price": 5.0, "cost": 2.0},
                          {"product_id": "season", "quantity": 5, "lead_time_days": 7, "price": 5.0, "cost": 2.0,
                           "season_end": _in(4)}]}
    reorder = {r["product_id"]: r for r in client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"]}
    at_risk = {r["product_id"]: r for r in client.post(f"{PREFIX}/at-risk", json=body).json()["at_risk"]}
    for product, lever in (("covered", "ask the supplier to deliver the units on order sooner"),
                           ("season", "only an express delivery saves them")):
        rec, entry = reorder[product], at_risk[product]
        action = entry["recommended_action"]
        assert rec["recommended_order_qty"] == 0 and rec["urgency"] == "medium", rec
        assert "stockout_risk" in entry["reasons"] and action["promotion_timing"] != "today", action
        said = rec["reasoning"].split(" Urgency medium")[0].rsplit(". ", 1)[-1]  # reorder's sentence on the gap
        assert said.startswith("The 20 usable units" if product == "covered" else "The 5 usable units"), said
        assert lever in said and lever in action["reasoning"], action
        assert _lost(action["reasoning"]) == pytest.approx(_lost(said), abs=1), (said, action)
    assert "Reorder orders no more: the 300 units on order lift the position above its reorder point" in at_risk[
        "covered"]["recommended_action"]["reasoning"]
    assert "an order placed now would arrive too late to sell" in at_risk["season"]["recommended_action"]["reasoning"]


def test_stock_expiring_while_the_shop_is_closed_is_a_write_off_and_every_answer_says_why(client):
    """Review 6 N6: 60 loaves expiring on a declared closed day (as_of the day before). Promotions said "no demand:
    by its forecast (..., 118.20/day) none of the 60 units sells within the 0 open days left", and at-risk only
    "Out of stock ... Restock today", while reorder and promotions sent the owner to at-risk to clear them. The
    reason is the closure: both say the units expire unsold while the shop is closed (donate or write off)."""
    bread = [r for r in _steady("bread", 50.0, 120) if date.fromisoformat(r["date"]).weekday() != 0]
    common = {"shop_id": "closed", "as_of": AS_OF.isoformat(), "sales": _sales() + bread,
              "closed_weekdays": ["monday"]}  # AS_OF is a Sunday: the expiry day, Monday, is closed
    item = {"product_id": "bread", "quantity": 60, "price": 1.3, "cost": 0.35, "expiry_date": _in(1),
            "lead_time_days": 1}
    reorder = client.post(f"{PREFIX}/reorder", json={**common, "inventory": [item]}).json()["recommendations"][0]
    at_risk = client.post(f"{PREFIX}/at-risk", json={**common, "inventory": [item]}).json()["at_risk"][0]
    promotions = client.post(f"{PREFIX}/promotions", json={**common, "items": [item], "calendar_events": [
        {"id": "market", "date": _in(2), "title": "Market", "audience": "all"}]}).json()
    assert reorder["at_risk_quantity"] == 60 and "clear them, see at-risk" in reorder["reasoning"]
    assert at_risk["expected_unsold_units"] == 60
    action = at_risk["recommended_action"]
    assert action["action_type"] == "clearance" and action["discount_range"] is None, action
    assert action["reasoning"].startswith("Closed until expiry: the shop is closed on every day up to expiry")
    assert "60 units on hand expire unsold while it is closed" in action["reasoning"]
    assert "write-off" in action["reasoning"] and "Restock today" not in action["reasoning"]
    assert promotions["promotions"] == []
    reason = promotions["unmatched"][0]["reason"]
    assert reason.startswith("the shop is closed until its last selling day, 1 day away (no open day before it)")
    assert "60 units expire unsold while it is closed" in reason and "write-off (see at-risk)" in reason
    assert "no demand" not in reason and "/day" not in reason


def test_at_risk_refuses_only_the_markdown_it_measured_when_promotions_times_one_that_pays(client):
    """Review 6 N1: at-risk found a markdown from tomorrow to expiry would not pay "as promotions says", while
    promotions ran a shorter one (to the event's day only) that paid, for the same macarons. At-risk says what it
    measured and that a promotion timed on an event may still pay; promotions, running from the event to the
    sell-by day within a fortnight, here covers the same days and refuses the same markdown."""
    common = {"shop_id": "macaron", "as_of": AS_OF.isoformat(), "sales": _sales() + _steady("macaron", 2.0, 30)}
    item = {"product_id": "macaron", "quantity": 21, "price": 1.5, "cost": 0.5, "expiry_date": _in(10),
            "lead_time_days": 5}
    at_risk = client.post(f"{PREFIX}/at-risk", json={**common, "inventory": [item]}).json()["at_risk"][0]
    promotions = client.post(f"{PREFIX}/promotions", json={**common, "items": [item], "calendar_events": [
        {"id": "market", "date": _in(1), "title": "Market", "audience": "all"}]}).json()
    assert promotions["promotions"] == []
    assert promotions["unmatched"][0]["reason"].startswith("a promotion would not pay")
    action = at_risk["recommended_action"]
    assert action["action_type"] == "monitor" and action["discount_range"] is None
    assert "a markdown from tomorrow to expiry would not pay" in action["reasoning"]
    assert "as promotions says" not in action["reasoning"]
    assert "a shorter promotion timed on an event may still pay (see promotions)" in action["reasoning"]


def test_stock_held_back_while_nothing_sells_is_no_medium_urgency(client):
    """Owner review 6 F8: a weekend cake on a Monday, 5 on hand expiring on Wednesday: none sells before (all 5
    to clear), nothing sells over the next 2 days, and reorder said "urgency medium" beside "no order" and a
    reorder point of 0, calling the demand "the forecast demand". No order is near: low, and the text says
    "the demand" (a silence's or a return's demand is named in the basis, not called the forecast)."""
    monday = AS_OF + timedelta(days=1)
    weekend = [{"product_id": "cake", "date": (AS_OF - timedelta(days=k)).isoformat(), "qty": 8.0}
               for k in range(120) if (AS_OF - timedelta(days=k)).weekday() >= 5]
    body = {"shop_id": "cake", "as_of": monday.isoformat(), "sales": weekend + _steady("bread", 20.0, 120),
            "review_days": 1, "inventory": [{"product_id": "cake", "quantity": 5, "price": 20.0, "cost": 8.0,
                                             "lead_time_days": 1, "expiry_date": _in(3)}]}
    rec = client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"][0]
    assert rec["recommended_order_qty"] == 0 and rec["at_risk_quantity"] == 5, rec
    assert rec["expected_lead_time_demand"] < 1 and rec["urgency"] == "low", rec
    assert "sell or clear the stock first" in rec["reasoning"] and "urgency medium" not in rec["reasoning"], rec
    assert "the forecast demand over" not in rec["reasoning"]


def test_bread_baked_daily_is_near_expiry_once_a_day_old(client):
    """Owner review 6 F11: with shelf lives of 1-3 days every bread was near_expiry every day (expiry_days 7): the
    bakery's 31 items flagged 29-30 times a day. Bread with a 2-day life and 2 days to expiry (fresh) that sells
    out is not flagged; a day old (1 day left) it is near expiry; a 3-day cake is near with 2 days left, not 3;
    an item without a shelf life keeps the 7-day threshold."""
    sales = _steady("bread", 20.0, 120) + _steady("jam", 3.0, 120)
    inventory = [{"product_id": "bread", "quantity": 40, "price": 1.2, "cost": 0.4, "shelf_life_days": 2,
                  "expiry_date": _in(2)},
                 {"product_id": "jam", "quantity": 10, "price": 4.0, "cost": 2.0, "expiry_date": _in(5)}]
    body = {"shop_id": "daily", "as_of": AS_OF.isoformat(), "sales": sales, "inventory": inventory}
    flagged = {e["product_id"]: e for e in client.post(f"{PREFIX}/at-risk", json=body).json()["at_risk"]}
    assert "bread" not in flagged and "near_expiry" in flagged["jam"]["reasons"], flagged
    last_day = {**body, "inventory": [inventory[0] | {"expiry_date": _in(1)}, inventory[1]]}
    flagged = {e["product_id"]: e for e in client.post(f"{PREFIX}/at-risk", json=last_day).json()["at_risk"]}
    assert "near_expiry" in flagged["bread"]["reasons"], flagged
    cake = {"product_id": "cake", "quantity": 1, "price": 9.0, "cost": 3.0, "shelf_life_days": 3}
    fresh = {**body, "inventory": [cake | {"expiry_date": _in(3)}], "sales": body["sales"] + _steady("cake", 2.0, 120)}
    assert all("near_expiry" not in e["reasons"] for e in client.post(f"{PREFIX}/at-risk", json=fresh).json()[
        "at_risk"])
    older = {**fresh, "inventory": [cake | {"expiry_date": _in(2)}]}
    assert "near_expiry" in client.post(f"{PREFIX}/at-risk", json=older).json()["at_risk"][0]["reasons"]


def test_a_slow_tart_near_its_reorder_point_is_no_medium_urgency(client):
    """Review 7 (F8's rest): a tart selling one every 5 days, 2 on hand expiring in 3 days, most of them unsold:
    reorder said "urgency medium: no order is due before the next review" from the position's nearness to a
    reorder point of 2, for 0.4 units of demand. Under a unit of demand over the interval nothing is near: low."""
    weekly = [{"product_id": "tart", "date": (AS_OF - timedelta(days=k)).isoformat(), "qty": 1.0}
              for k in range(0, 120, 5)]
    body = {"shop_id": "tart", "as_of": AS_OF.isoformat(), "sales": weekly + _steady("bread", 20.0, 120),
            "review_days": 1, "inventory": [{"product_id": "tart", "quantity": 2, "price": 12.0, "cost": 5.0,
                                             "lead_time_days": 1, "expiry_date": _in(3)}]}
    rec = client.post(f"{PREFIX}/reorder", json=body).json()["recommendations"][0]
    assert rec["expected_lead_time_demand"] < 1 and rec["recommended_order_qty"] == 0, rec
    assert rec["reorder_point"] > 0, rec
    assert rec["urgency"] == "low" and "urgency medium" not in rec["reasoning"], rec


def test_the_demand_when_the_shop_opens_again_is_per_open_day(client):
    """Review 7: bread expiring on a closed Wednesday read "Its demand when it opens again, 24.64/day" where
    /forecast says 28.7 on every open day: the rate averaged the closed days in. It is the rate of the open days
    (here a shop closed on Mondays, on a Sunday evening)."""
    sales = [row for row in _steady("bread", 20.0, 120) if date.fromisoformat(row["date"]).weekday() != 0]
    body = {"shop_id": "mon", "as_of": AS_OF.isoformat(), "closed_weekdays": ["monday"], "sales": sales,
            "inventory": [{"product_id": "bread", "quantity": 30, "price": 1.2, "cost": 0.4, "shelf_life_days": 1,
                           "expiry_date": _in(1)}]}
    entry = client.post(f"{PREFIX}/at-risk", json=body).json()["at_risk"][0]
    reasoning = entry["recommended_action"]["reasoning"]
    assert "Closed until expiry" in reasoning and "when it opens again, 20.00/day" in reasoning, reasoning


def test_a_season_long_over_is_stored_or_cleared_as_at_risk_says(client):
    """Review 7: a galette whose season ended weeks ago, expiring in 3 days: at-risk said donate it, promotions
    "clear it or store it for next season". Promotions now says what at-risk's rule says: clear what expires
    before the next season, store what keeps."""
    sales = _steady("galette", 5.0, 120, silent_for=40) + _steady("bread", 20.0, 120)
    item = {"product_id": "galette", "quantity": 6, "price": 12.0, "cost": 5.0, "season_end": _in(-20)}
    body = {"shop_id": "gal", "as_of": AS_OF.isoformat(), "sales": sales,
            "calendar_events": [{"id": "fair", "date": _in(2), "title": "Fair"}]}
    soon = client.post(f"{PREFIX}/promotions", json={**body, "items": [item | {"expiry_date": _in(3)}]}).json()
    assert "clear it or record the write-off" in soon["unmatched"][0]["reason"], soon["unmatched"]
    keeps = client.post(f"{PREFIX}/promotions", json={**body, "items": [item | {"expiry_date": _in(300)}]}).json()
    assert "store it for next season" in keeps["unmatched"][0]["reason"], keeps["unmatched"]
