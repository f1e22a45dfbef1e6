"""Drivers through the API: prices (series or rows, past and planned), promotions and typed events are
validated, trained on, read for the horizon, and keyed in the cache; what cannot be used is a warning."""

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.support.jobs import follow
from tests.support.synthetic import priced_shop

PREFIX = "/api/v1/smart-shelf"
DAYS, HORIZON = 420, 28
START = dt.date(2024, 1, 1)
LAST = START + dt.timedelta(days=DAYS - 1)


def iso(k: int) -> str:
    return (START + dt.timedelta(days=k)).isoformat()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory):
    units, price = priced_shop(DAYS, HORIZON, products=40)
    series = [{"product_id": f"p{k:02d}", "start": iso(0), "qty": units[k, :DAYS].tolist()} for k in range(40)]
    prices = [{"product_id": f"p{k:02d}", "start": iso(0), "price": price[k].tolist()} for k in range(40)]
    events = [{"date": iso(k), "type": "benefit_day"} for k in range(0, DAYS + HORIZON, 30)]
    settings = Settings(model_dir=str(tmp_path_factory.mktemp("drivers")), model_signing_key="k" * 32,
                        _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings), raise_server_exceptions=False) as api:
        accepted = api.post(f"{PREFIX}/models/train", json={
            "shop_id": "priced", "series": series, "prices": prices, "calendar_events": events, "periods": HORIZON})
        assert accepted.status_code == 202, accepted.text
        job, _ = follow(api, accepted.json()["job_id"])
        assert job["state"] == "succeeded", job
        yield api, series, price, events


def forecast(api: TestClient, series: dict, prices: list[dict], events: list[dict] | None = None) -> dict:
    response = api.post(f"{PREFIX}/forecast", json={"shop_id": "priced", "series": [series], "prices": prices,
                                                    "calendar_events": events or [], "periods": HORIZON})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_card_lists_the_driver_features(shop) -> None:
    api, _, _, _ = shop
    card = api.get(f"{PREFIX}/models/priced").json()
    names = {f["name"] for f in card["features"]}
    assert {"price vs usual", "price vs last week", "benefit day"} <= names
    elasticity = card["price_elasticity"]  # the synthetic shop's truth: -2
    assert -2.3 < elasticity["shop"] < -1.7 and elasticity["products_with_own_estimate"] == 40


def test_a_planned_price_cut_lifts_the_forecast(shop) -> None:
    api, series, price, events = shop
    regular = float(price[3, :DAYS].max())
    history = [{"product_id": "p03", "start": iso(0), "price": price[3, :DAYS].tolist()}]
    planned = {factor: history + [{"product_id": "p03", "date": iso(DAYS + k), "price": round(regular * factor, 2)}
                                  for k in range(HORIZON)] for factor in (1.0, 0.8)}
    full = forecast(api, series[3], planned[1.0], events)
    cut = forecast(api, series[3], planned[0.8], events)
    assert full["meta"]["shop_model"] and cut["meta"]["shop_model"]
    total = {name: sum(p["predicted_qty"] for p in answer["forecasts"][0]["predictions"])
             for name, answer in (("full", full), ("cut", cut))}
    assert 1.25 < total["cut"] / total["full"] < 1.9, total  # truth: 0.8 ** -2 = 1.56
    estimate = cut["forecasts"][0]["price_elasticity"]
    assert estimate["low"] <= -2 <= estimate["high"] and 0 < estimate["own_share"] <= 1, estimate
    words = cut["forecasts"][0]["drivers"]
    assert any(w.startswith("price elasticity -2") and "10% off lifts units about 2" in w for w in words), words
    planned = next(w for w in words if w.startswith("planned price"))
    assert planned.startswith(f"planned price {round(regular * 0.8, 2):.2f} vs last ") and "% units" in planned


def test_prices_that_cannot_be_used_are_reported(shop) -> None:
    api, series, price, _ = shop
    answer = forecast(api, series[0], [{"product_id": "p00", "start": iso(0), "price": price[0, :DAYS].tolist()},
                                       {"product_id": "nobody", "date": iso(5), "price": 2.0},
                                       {"product_id": "p00", "date": (LAST + dt.timedelta(days=400)).isoformat(),
                                        "price": 2.0}])
    unused = [w for w in answer["warnings"] if w["code"] == "driver_unused"]
    assert sorted(w["count"] for w in unused) == [1, 1] and answer["meta"]["shop_model"]


@pytest.mark.parametrize(("prices", "promotions", "field"), [
    ([{"product_id": "p00", "start": "2024-01-01", "price": [1.0, 0.0]}], [], ["body", "prices", 0, "price", 1]),
    ([{"product_id": "p00", "start": "2024-01-01", "price": [1.0, "x"]}], [], ["body", "prices", 0, "price", 1]),
    ([{"product_id": "p00", "date": "2024-01-01", "price": -2}], [], ["body", "prices", 0]),
    ([], [{"product_id": "p00", "start": "2024-02-10", "end": "2024-02-01"}], ["body", "promotions", 0]),
    ([], [{"product_id": "p00", "start": "2024-02-01", "end": "2024-02-10", "discount_pct": 120}],
     ["body", "promotions", 0, "discount_pct"]),
])
def test_bad_drivers_are_422_naming_the_field(shop, prices, promotions, field) -> None:
    api, series, _, _ = shop
    response = api.post(f"{PREFIX}/forecast", json={"shop_id": "priced", "series": [series[0]], "prices": prices,
                                                    "promotions": promotions})
    assert response.status_code == 422, response.text
    locations = [d["loc"][:len(field)] for d in response.json()["detail"]]
    assert field in locations, locations


def test_other_planned_prices_are_another_cache_entry(shop) -> None:
    """Per-request path (a shop without a model): the same history with other planned prices is a miss."""
    api, series, price, _ = shop
    answers = [api.post(f"{PREFIX}/forecast", json={
        "shop_id": "unmodelled", "series": [series[1]], "periods": HORIZON,
        "prices": [{"product_id": "p01", "start": iso(0), "price": price[1, :DAYS].tolist() + [factor] * HORIZON}]})
        for factor in (2.0, 2.0, 1.5)]
    assert [a.json()["meta"]["cache"] for a in answers] == ["miss", "hit", "miss"]


def test_sending_nothing_keeps_todays_answer(shop) -> None:
    """No prices, promotions or typed events: the same forecast as a request without the driver fields."""
    api, series, _, _ = shop
    bare = api.post(f"{PREFIX}/forecast", json={"shop_id": "priced", "series": [series[5]], "periods": HORIZON})
    empty = api.post(f"{PREFIX}/forecast", json={"shop_id": "priced", "series": [series[5]], "periods": HORIZON,
                                                 "prices": [], "promotions": []})
    assert bare.json()["forecasts"] == empty.json()["forecasts"]


def test_a_batch_trains_on_every_chunks_prices_and_each_chunk_keeps_its_own(shop, tmp_path) -> None:
    _, series, price, _ = shop
    settings = Settings(model_dir=str(tmp_path), model_signing_key="k" * 32, batch_chunk_size=7,
                        _env_file=None)  # type: ignore[call-arg]
    prices = [{"product_id": s["product_id"], "start": iso(0), "price": price[k].tolist()}
              for k, s in enumerate(series[:20])]
    with TestClient(create_app(settings)) as batch_api:
        accepted = batch_api.post(f"{PREFIX}/forecast/batch", json={
            "shop_id": "batched", "series": series[:20], "prices": prices, "periods": HORIZON})
        assert accepted.status_code == 202, accepted.text
        job, _ = follow(batch_api, accepted.json()["job_id"])
        card = batch_api.get(f"{PREFIX}/models/batched").json()
    assert job["state"] == "succeeded" and job["shop_model"]["state"] == "succeeded", job
    assert "price vs usual" in {f["name"] for f in card["features"]} and card["products"] == 20
    assert not [w for w in job.get("warnings", []) if w["code"] == "driver_unused"]
    assert len(job["forecasts"]) == 20


def test_reorder_reads_planned_prices_through_the_shop_model(shop) -> None:
    """/reorder forecasts its lead-time demand as /forecast does: a planned 20% cut orders more."""
    api, series, price, _ = shop
    regular = float(price[3, :DAYS].max())
    history = [{"product_id": "p03", "start": iso(0), "price": price[3, :DAYS].tolist()}]
    demand = {}
    for factor in (1.0, 0.8):
        planned = [{"product_id": "p03", "date": iso(DAYS + k), "price": round(regular * factor, 2)}
                   for k in range(HORIZON)]
        response = api.post(f"{PREFIX}/reorder", json={
            "shop_id": "priced", "series": [series[3]], "prices": history + planned,
            "inventory": [{"product_id": "p03", "name": "p03", "quantity": 0, "price": regular, "cost": 1.0,
                           "lead_time_days": 14}]})
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["recommendations"][0]["forecast_method"] == "shop_model", answer
        demand[factor] = answer["recommendations"][0]["expected_lead_time_demand"]
    assert 1.25 < demand[0.8] / demand[1.0] < 1.9, demand


def test_promotions_and_at_risk_lean_on_the_shop_models_elasticity(shop) -> None:
    """One item whose price did not move in the 60 days sent: alone it cannot tell its elasticity (the
    constant rule answers); its shop's model learned -2 across the catalogue, and that answers."""
    api, series, _, _ = shop
    qty = series[3]["qty"][-60:]
    first = START + dt.timedelta(days=DAYS - 60)
    body = {"series": [{"product_id": "p03", "start": first.isoformat(), "qty": qty}],
            "prices": [{"product_id": "p03", "start": first.isoformat(), "price": [2.5] * 60}], "as_of": iso(DAYS - 1)}
    item = {"product_id": "p03", "name": "p03", "quantity": 2000, "price": 2.5, "expiry_date": iso(DAYS + 19)}
    events = [{"id": "e", "date": iso(DAYS + 3), "title": "Sale"}]
    sources = {}
    for shop_id in ("priced", "unmodelled"):
        promotions = api.post(f"{PREFIX}/promotions", json={"shop_id": shop_id, "items": [item],
                                                           "calendar_events": events, **body})
        at_risk = api.post(f"{PREFIX}/at-risk", json={"shop_id": shop_id, "inventory": [item], **body})
        assert promotions.status_code == at_risk.status_code == 200, (promotions.text, at_risk.text)
        promotion = promotions.json()["promotions"][0]
        action = at_risk.json()["at_risk"][0]["recommended_action"]
        sources[shop_id] = (promotion["elasticity_source"], action["elasticity_source"])
        if shop_id == "priced":
            assert -2.3 < promotion["price_elasticity"] < -1.7 and -2.3 < action["price_elasticity"] < -1.7
    assert sources == {"priced": ("learned", "learned"), "unmodelled": ("constant", "constant")}, sources


def test_the_per_request_path_says_it_does_not_read_the_drivers(shop) -> None:
    api, series, price, _ = shop
    answer = forecast_for(api, "unmodelled", series[2], [{"product_id": "p02", "start": iso(0),
                                                          "price": price[2, :DAYS].tolist()}])
    unused = [w for w in answer["warnings"] if w["code"] == "driver_unused"]
    assert len(unused) == 1 and "per-request models read event dates only" in unused[0]["message"], answer["warnings"]
    card = api.get(f"{PREFIX}/models/priced").json()
    assert card["drivers"]["used"] and card["drivers"]["with_drivers"] < card["drivers"]["without_drivers"], card
    assert card["drivers"]["windows"] == card["held_out"]["windows"] > 1, card  # the selection's windows


def forecast_for(api: TestClient, shop_id: str, series: dict, prices: list[dict]) -> dict:
    response = api.post(f"{PREFIX}/forecast", json={"shop_id": shop_id, "series": [series], "prices": prices,
                                                    "periods": HORIZON})
    assert response.status_code == 200, response.text
    return response.json()


def test_tree_shares_weigh_the_trees_in_each_forecast():
    """A forecast that is the mean of the trees and a local family moves half as much with a driver the
    trees read: its explanation must say so, not skip the product (it did when only `shop_model` counted)."""
    from app.services.forecasting.event_effects import tree_shares

    assert tree_shares(["shop_model", "shop_model+holt_winters", "holt_winters", "linear+holt_winters"]).tolist() \
        == [1.0, 0.5, 0.0, 0.0]
