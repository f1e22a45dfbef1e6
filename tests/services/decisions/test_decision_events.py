"""The decisions size the stock with the forecast /forecast makes for the same sales and calendar events.

A shop whose match days triple its sales (synthetic, seeded) sends its calendar with a match two days ahead. Without
the events /reorder and /at-risk read a forecast that does not see the match; with them they read the one /forecast
answers with the same events (a cache hit), so the lead time's demand, the stockout day and the order agree with it.
"""

from datetime import date, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

PREFIX = "/api/v1/smart-shelf"
AS_OF = date(2025, 6, 30)
DAYS = 420
NEXT_MATCH = AS_OF + timedelta(days=2)
LEAD, REVIEW = 4, 1


def _match_days() -> list[date]:
    """Home matches every 9 to 20 days (no weekday or fortnight a model could learn them from), the next in 2."""
    gaps = np.random.default_rng(9).integers(9, 21, DAYS // 9)
    return sorted(NEXT_MATCH - timedelta(days=int(back)) for back in np.concatenate([[0], np.cumsum(gaps)])
                  if back < DAYS)


def _sales() -> list[dict]:
    rng = np.random.default_rng(6)
    matches = set(_match_days())
    series = []
    for product, rate in (("grill", 12.0), ("sauce", 6.0)):
        days = [AS_OF - timedelta(days=back) for back in range(DAYS - 1, -1, -1)]
        qty = [int(rng.poisson(rate * (3.0 if day in matches else 1.0))) for day in days]
        series.append({"product_id": product, "start": days[0].isoformat(), "qty": qty})
    return series


EVENTS = [{"date": day.isoformat(), "title": "home match", "type": "sporting"} for day in _match_days()]
INVENTORY = [{"product_id": "grill", "quantity": 40, "price": 4.0, "cost": 2.0, "lead_time_days": LEAD},
             {"product_id": "sauce", "quantity": 25, "price": 2.0, "cost": 1.0, "lead_time_days": LEAD,
              "expiry_date": (AS_OF + timedelta(days=3)).isoformat()}]


def _post(client: TestClient, path: str, body: dict) -> dict:
    response = client.post(f"{PREFIX}/{path}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_reorder_and_at_risk_read_the_forecast_of_the_same_events(client):
    common = {"shop_id": "matches", "as_of": AS_OF.isoformat(), "series": _sales()}
    plain = _post(client, "reorder", {**common, "inventory": INVENTORY})
    forecast = _post(client, "forecast", {**common, "product_ids": ["grill", "sauce"], "periods": 28,
                                          "calendar_events": EVENTS})
    reorder = _post(client, "reorder", {**common, "inventory": INVENTORY, "calendar_events": EVENTS,
                                        "review_days": REVIEW})
    at_risk = _post(client, "at-risk", {**common, "inventory": INVENTORY, "calendar_events": EVENTS})

    assert reorder["meta"]["forecast_cache"] == "hit"  # the very forecast /forecast answered
    path = {f["product_id"]: [p["predicted_qty"] for p in f["predictions"]] for f in forecast["forecasts"]}
    assert path["grill"][1] > 2 * np.mean(path["grill"][3:])  # the forecast sees the match
    planned = {r["product_id"]: r for r in reorder["recommendations"]}
    before = {r["product_id"]: r for r in plain["recommendations"]}
    grill = planned["grill"]
    # the protection interval (lead time + review) holds the match
    assert grill["expected_lead_time_demand"] == pytest.approx(sum(path["grill"][:LEAD + REVIEW]), rel=0.01)
    assert grill["expected_lead_time_demand"] > before["grill"]["expected_lead_time_demand"] + 10
    assert grill["reorder_point"] > before["grill"]["reorder_point"]
    # the sauce's 25 units expire in 3 days: at-risk and reorder leave unsold what that forecast leaves
    sauce = next(item for item in at_risk["at_risk"] if item["product_id"] == "sauce")
    assert sauce["forecast_method"] == planned["sauce"]["forecast_method"]
    unsold = max(25 - sum(path["sauce"][:3]), 0)
    assert sauce["expected_unsold_units"] == pytest.approx(unsold, abs=0.6)
    assert planned["sauce"]["at_risk_quantity"] == pytest.approx(unsold, abs=0.6)
    assert before["sauce"]["at_risk_quantity"] > unsold + 2  # without the match more is left unsold


def test_a_decision_names_the_event_scope_it_cannot_read(client):
    body = {"shop_id": "matches", "as_of": AS_OF.isoformat(), "series": _sales(), "inventory": INVENTORY,
            "calendar_events": [{"date": NEXT_MATCH.isoformat(), "categories": ["grill"]}]}
    response = client.post(f"{PREFIX}/at-risk", json=body)
    assert response.status_code == 422
    assert "calendar_events" in response.text and "categories" in response.text


def test_at_risk_dates_a_stockout_by_reorders_forecast(client):
    """An item without a sell-by day: at-risk's stockout day and days of supply are reorder's, from one forecast."""
    common = {"shop_id": "matches", "as_of": AS_OF.isoformat(), "series": _sales(), "calendar_events": EVENTS}
    reorder = {r["product_id"]: r for r in _post(client, "reorder", {**common, "inventory": INVENTORY})
               ["recommendations"]}
    at_risk = {item["product_id"]: item for item in _post(client, "at-risk", {**common, "inventory": INVENTORY})
               ["at_risk"]}
    grill = at_risk["grill"]
    assert grill["forecast_method"] == reorder["grill"]["forecast_method"]
    assert grill["stockout_date"] == reorder["grill"]["predicted_stockout_date"]
    assert grill["days_of_supply"] == pytest.approx(reorder["grill"]["days_of_supply"], abs=0.05)


def test_at_risk_past_the_forecasts_answer_budget_reads_it_for_the_perishables_first(tmp_path):
    """40 items with sales x 28 days exceed MAX_ANSWER_VALUES=1000: the 10 with an expiry date still read the
    forecast (the whole request's forecast was refused before), the 30 others the recent rate, named in a warning."""
    settings = Settings(model_dir=str(tmp_path), max_answer_values=1000, _env_file=None)  # type: ignore[call-arg]
    rng = np.random.default_rng(3)
    start = AS_OF - timedelta(days=59)
    series = [{"product_id": f"p{k:02d}", "start": start.isoformat(), "qty": rng.poisson(8, 60).tolist()}
              for k in range(40)]
    inventory = [{"product_id": f"p{k:02d}", "quantity": 30, "price": 2.0, "cost": 1.0,
                  **({"expiry_date": (AS_OF + timedelta(days=5)).isoformat()} if k < 10 else {})} for k in range(40)]
    with TestClient(create_app(settings)) as small:
        answer = _post(small, "at-risk", {"shop_id": "s", "as_of": AS_OF.isoformat(), "series": series,
                                          "inventory": inventory, "thresholds": {"low_stock": 100}})
    read = {item["product_id"] for item in answer["at_risk"] if item["forecast_method"]}
    assert read == {f"p{k:02d}" for k in range(10)}
    unused = {w["code"]: w for w in answer["warnings"]}["forecast_unused"]
    assert unused["count"] == 30 and "MAX_ANSWER_VALUES=1000" in unused["message"]


def test_at_risk_says_when_reorder_orders_none_yet_and_low_stock_only_with_its_reason(client):
    """Review 8: 9 loaves selling 2 a day with a 1-day lead time run short within the week (stockout_risk,
    restock), but reorder orders none yet (its point is under 9); at-risk's reasoning opened "Low stock: 9 units
    left (threshold 10)" without the low_stock reason and said nothing of reorder's "No order yet"."""
    rng = np.random.default_rng(11)
    start = AS_OF - timedelta(days=119)
    body = {"shop_id": "s", "as_of": AS_OF.isoformat(),
            "series": [{"product_id": "pain", "start": start.isoformat(), "qty": rng.poisson(2.0, 120).tolist()}],
            "inventory": [{"product_id": "pain", "quantity": 9, "price": 1.2, "cost": 0.4, "lead_time_days": 1}]}
    reorder = _post(client, "reorder", body)["recommendations"][0]
    item = _post(client, "at-risk", body)["at_risk"][0]
    assert reorder["recommended_order_qty"] == 0 and reorder["reorder_point"] < 9
    assert item["reasons"] == ["stockout_risk"] and item["recommended_action"]["action_type"] == "restock"
    reasoning = item["recommended_action"]["reasoning"]
    assert reasoning.startswith("Runs out soon: 9 units left")
    assert f"Reorder orders none yet: the position, 9 units, is above its reorder point " \
           f"{reorder['reorder_point']:g}" in reasoning


def test_an_event_scoped_to_an_inventory_item_is_read_and_to_no_product_of_the_request_is_a_422(client):
    """Review 8: /at-risk answered 200 for a scope naming no product of the request where /forecast and /reorder
    answer 422, and /reorder refused a scope naming a new article of its own inventory (no sales yet)."""
    common = {"shop_id": "matches", "as_of": AS_OF.isoformat(), "series": _sales(),
              "inventory": [*INVENTORY, {"product_id": "new", "quantity": 5, "price": 3.0, "cost": 1.0}]}
    for path in ("reorder", "at-risk"):
        stocked = client.post(f"{PREFIX}/{path}", json={**common, "calendar_events": [
            {"date": NEXT_MATCH.isoformat(), "type": "sporting", "product_ids": ["grill", "new"]}]})
        assert stocked.status_code == 200, (path, stocked.text)
        unknown = client.post(f"{PREFIX}/{path}", json={**common, "calendar_events": [
            {"date": NEXT_MATCH.isoformat(), "product_ids": ["grill", "typo"]}]})
        assert unknown.status_code == 422, (path, unknown.text)
        assert "calendar_events[0].product_ids[1]" in unknown.text and "'typo'" in unknown.text


def test_promotions_read_the_same_events_and_pair_a_scoped_event_with_its_products_only(client):
    """Review 8: with the shop's events /reorder and /at-risk left 167.9 pain au chocolat unsold and /promotions,
    whose forecast read none, 184.9. The same events now give promotions the same forecast and units left; an event
    scoped to the grill is no pairing day for the sauce."""
    calendar = [{**event, "id": f"match{k}"} for k, event in enumerate(EVENTS)]
    sauce = {"product_id": "sauce", "quantity": 70, "price": 2.0, "cost": 0.5, "lead_time_days": LEAD,
             "expiry_date": (AS_OF + timedelta(days=6)).isoformat()}
    fair = {"id": "fair", "date": (AS_OF + timedelta(days=4)).isoformat(), "title": "Fair"}
    grill_only = {"id": "grill-day", "date": (AS_OF + timedelta(days=3)).isoformat(), "title": "Grill day",
                  "product_ids": ["grill"]}
    calendar += [fair, grill_only]
    common = {"shop_id": "matches", "as_of": AS_OF.isoformat(), "series": _sales()}
    reorder = _post(client, "reorder", {**common, "inventory": [sauce], "calendar_events": calendar})
    left = reorder["recommendations"][0]["at_risk_quantity"]
    promotions = _post(client, "promotions", {**common, "items": [{**sauce, "categories": ["food"]}],
                                              "calendar_events": [{**event, "audience": "all"} for event in calendar],
                                              "preferences": {"max_events_per_item": 5}})
    promoted = promotions["promotions"]
    assert left > 1 and promoted
    assert all(p["without_promotion"]["units_left"] == pytest.approx(left, abs=0.01) for p in promoted)
    assert "fair" in {p["event_id"] for p in promoted}
    assert "grill-day" not in {p["event_id"] for p in promoted}  # the grill's day is not the sauce's


def test_one_calendar_with_audiences_goes_to_every_endpoint_for_the_same_forecast(client):
    """Review 9 F4: the shop's calendar as /promotions takes it (each event with an id and an audience) was a 422
    on /forecast, /reorder and /at-risk ("audience: Extra inputs are not permitted"), though all four read the same
    events. Every endpoint takes it, and the audience changes no forecast."""
    calendar = [{**event, "id": f"match{k}", "audience": "families"} for k, event in enumerate(EVENTS)]
    common = {"shop_id": "matches", "as_of": AS_OF.isoformat(), "series": _sales()}
    forecast = _post(client, "forecast", {**common, "product_ids": ["grill", "sauce"], "periods": 28,
                                          "calendar_events": calendar})
    reorder = _post(client, "reorder", {**common, "inventory": INVENTORY, "calendar_events": calendar})
    _post(client, "at-risk", {**common, "inventory": INVENTORY, "calendar_events": calendar})
    assert reorder["meta"]["forecast_cache"] == "hit"
    without = _post(client, "forecast", {**common, "product_ids": ["grill", "sauce"], "periods": 28,
                                         "calendar_events": EVENTS})
    assert [f["predictions"] for f in forecast["forecasts"]] == [f["predictions"] for f in without["forecasts"]]
