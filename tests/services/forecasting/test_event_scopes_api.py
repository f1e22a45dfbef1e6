"""Events scoped to products or categories: validated against the request's products, felt only by the
products in scope, and kept apart per batch chunk."""

import datetime as dt

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.support.jobs import follow
from tests.support.synthetic import priced_shop

PREFIX = "/api/v1/smart-shelf"
DAYS, HORIZON, PRODUCTS = 400, 14, 20
START = dt.date(2024, 1, 1)
EVENT_EVERY = 20
PRODUCTS_INFO = [{"product_id": f"p{k:02d}", "category": "grill" if k < 10 else "dairy", "department": "food"}
                 for k in range(PRODUCTS)]


def iso(k: int) -> str:
    return (START + dt.timedelta(days=k)).isoformat()


def match_days(width: int) -> np.ndarray:
    return np.arange(7, width, EVENT_EVERY)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory):
    """Grill products sell 3x on match days; dairy does not notice them."""
    rng = np.random.default_rng(2)
    base = rng.uniform(5, 20, PRODUCTS)
    mean = np.tile(base[:, None], (1, DAYS + HORIZON))
    mean[:10, match_days(DAYS + HORIZON)] *= 3
    units = rng.poisson(mean).astype(float)
    series = [{"product_id": f"p{k:02d}", "start": iso(0), "qty": units[k, :DAYS].tolist()} for k in range(PRODUCTS)]
    events = [{"date": iso(int(d)), "title": "match", "type": "sporting", "categories": ["grill"]}
              for d in match_days(DAYS + HORIZON)]
    settings = Settings(model_dir=str(tmp_path_factory.mktemp("scopes")), model_signing_key="k" * 32,
                        _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings), raise_server_exceptions=False) as api:
        accepted = api.post(f"{PREFIX}/models/train", json={
            "shop_id": "scoped", "series": series, "products": PRODUCTS_INFO, "calendar_events": events,
            "periods": HORIZON})
        assert accepted.status_code == 202, accepted.text
        job, _ = follow(api, accepted.json()["job_id"])
        assert job["state"] == "succeeded", job
        yield api, series, events


def forecast(api: TestClient, series: dict, events: list[dict], **extra) -> dict:
    response = api.post(f"{PREFIX}/forecast", json={"shop_id": "scoped", "series": [series], "products": PRODUCTS_INFO,
                                                    "calendar_events": events, "periods": HORIZON, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_scoped_event_lifts_only_the_products_in_its_scope(shop) -> None:
    api, series, events = shop
    ahead = [int(d) - DAYS for d in match_days(DAYS + HORIZON) if d >= DAYS]
    assert ahead, "a match day inside the horizon"
    past = [e for e in events if e["date"] < iso(DAYS)]
    for k, lifted in ((0, True), (15, False)):
        answer = forecast(api, series[k], events)
        assert answer["meta"]["shop_model"], answer
        without = forecast(api, series[k], past)
        on, off = (np.array([p["predicted_qty"] for p in a["forecasts"][0]["predictions"]]) for a in (answer, without))
        ratio = on[ahead[0]] / off[ahead[0]]
        assert (ratio > 1.8) if lifted else (abs(ratio - 1) < 0.1), (k, ratio)
        # the drivers name the event and what it does, for the products it reaches only
        said = [w for w in answer["forecasts"][0]["drivers"] if w.startswith("match (sporting) in ")]
        if lifted:
            when = iso(DAYS + ahead[0])
            assert len(said) == 1 and f"in {ahead[0] + 1} days, {when}: +" in said[0], said
            assert said[0].endswith("% units that day") and int(said[0].split(": +")[1].split("%")[0]) > 80, said
        else:
            assert not said, said


@pytest.mark.parametrize(("event", "field"), [
    ({"product_ids": ["p00", "ghost"]}, "calendar_events[0].product_ids[1]"),
    ({"categories": ["toys"]}, "calendar_events[0].categories[0]"),
])
def test_a_scope_naming_an_unknown_product_or_category_is_422(shop, event, field) -> None:
    api, series, _ = shop
    body = {"shop_id": "scoped", "series": [series[0]], "products": PRODUCTS_INFO, "periods": HORIZON,
            "calendar_events": [{"date": iso(DAYS + 2), "type": "sporting", **event}]}
    for path in ("forecast", "forecast/batch", "models/train"):
        response = api.post(f"{PREFIX}/{path}", json=body)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["detail"][0]["field"] == field


def test_a_product_known_only_from_products_is_a_valid_scope_and_reported_unused(shop) -> None:
    api, series, _ = shop
    answer = forecast(api, series[0], [{"date": iso(DAYS + 2), "type": "sporting", "product_ids": ["p19"]}])
    unused = [w for w in answer["warnings"] if w["code"] == "driver_unused"]
    assert len(unused) == 1 and unused[0]["count"] == 1 and "scoped" in unused[0]["message"]


def test_products_listed_twice_are_422(shop) -> None:
    api, series, _ = shop
    response = api.post(f"{PREFIX}/forecast", json={"shop_id": "scoped", "series": [series[0]],
                                                    "products": PRODUCTS_INFO + PRODUCTS_INFO[:1]})
    assert response.status_code == 422
    assert ["body", "products", PRODUCTS, "product_id"] in [d["loc"] for d in response.json()["detail"]]


def test_a_batch_keeps_scopes_across_chunks(shop, tmp_path) -> None:
    """A scope naming a product of another chunk (known by its sales alone) is fine in every chunk."""
    _, series, events = shop
    settings = Settings(model_dir=str(tmp_path), model_signing_key="k" * 32, batch_chunk_size=5,
                        _env_file=None)  # type: ignore[call-arg]
    scoped = [{**e, "categories": None, "product_ids": ["p00", "p01"]} for e in events]
    with TestClient(create_app(settings)) as batch_api:
        accepted = batch_api.post(f"{PREFIX}/forecast/batch", json={
            "shop_id": "batched", "series": series, "calendar_events": scoped, "periods": HORIZON})
        assert accepted.status_code == 202, accepted.text
        job, _ = follow(batch_api, accepted.json()["job_id"])
    assert job["state"] == "succeeded" and job["shop_model"]["state"] == "succeeded", job
    assert len(job["forecasts"]) == PRODUCTS


def test_the_card_lists_category_elasticities_when_products_name_categories_or_departments(tmp_path) -> None:
    truth = np.where(np.arange(40) < 20, -1.0, -3.0)
    units, price = priced_shop(DAYS, 0, products=40, elasticity=truth, seed=9)
    settings = Settings(model_dir=str(tmp_path), model_signing_key="k" * 32, _env_file=None)  # type: ignore[call-arg]
    body = {"shop_id": "cats", "periods": HORIZON,
            "series": [{"product_id": f"q{k}", "start": iso(0), "qty": units[k].tolist()} for k in range(40)],
            "prices": [{"product_id": f"q{k}", "start": iso(0), "price": price[k].tolist()} for k in range(40)],
            # the crisps are sent with a department only: they pool within it
            "products": [{"product_id": f"q{k}", **({"category": "bread"} if k < 20 else {"department": "crisps"})}
                         for k in range(40)]}
    with TestClient(create_app(settings)) as api:
        accepted = api.post(f"{PREFIX}/models/train", json=body)
        job, _ = follow(api, accepted.json()["job_id"])
        assert job["state"] == "succeeded", job
        categories = api.get(f"{PREFIX}/models/cats").json()["price_elasticity"]["categories"]
    assert abs(categories["bread"] + 1) < 0.3 and abs(categories["crisps"] + 3) < 0.3, categories


def test_scoped_pairs_count_against_the_work_budget(shop, tmp_path) -> None:
    _, series, _ = shop
    settings = Settings(model_dir=str(tmp_path), model_signing_key="k" * 32, max_pairs=1000,
                        _env_file=None)  # type: ignore[call-arg]
    events = [{"date": iso(k), "type": "sporting", "categories": ["grill"]} for k in range(101)]  # 101 x 10 grill
    body = {"shop_id": "budget", "series": series, "products": PRODUCTS_INFO, "calendar_events": events,
            "periods": HORIZON}
    with TestClient(create_app(settings)) as api:
        for path in ("forecast", "forecast/batch", "models/train"):
            response = api.post(f"{PREFIX}/{path}", json=body)
            assert response.status_code == 413, (path, response.text)
            assert response.json()["error"] == "work_budget_exceeded" and "MAX_PAIRS" in response.json()["message"]
        assert api.post(f"{PREFIX}/forecast", json={**body, "calendar_events": events[:100]}).status_code == 200


def test_scope_entries_count_towards_the_request_values(shop, tmp_path) -> None:
    _, series, _ = shop
    sent = len(PRODUCTS_INFO)  # the products: sales count against MAX_SALES_LINES
    settings = Settings(model_dir=str(tmp_path), model_signing_key="k" * 32, max_payload_rows=sent + 100,
                        _env_file=None)  # type: ignore[call-arg]
    event = {"date": iso(DAYS + 2), "type": "sporting", "product_ids": ["p00"] * 100}
    with TestClient(create_app(settings)) as api:
        body = {"shop_id": "rows", "series": series, "products": PRODUCTS_INFO, "periods": HORIZON}
        assert api.post(f"{PREFIX}/forecast", json={**body, "calendar_events": [event]}).status_code == 413
        fewer = {**event, "product_ids": ["p00"] * 99}  # 99 scope entries + 1 event = the limit
        assert api.post(f"{PREFIX}/forecast", json={**body, "calendar_events": [fewer]}).status_code == 200


def test_an_unscoped_event_is_named_for_every_product(shop) -> None:
    api, series, events = shop
    ahead = next(int(d) - DAYS for d in match_days(DAYS + HORIZON) if d >= DAYS)
    past = [e for e in events if e["date"] < iso(DAYS)]
    final = {"date": iso(DAYS + ahead), "title": "cup final", "type": "sporting"}  # no scope: everyone
    answer = forecast(api, series[0], [*past, final])
    said = [w for w in answer["forecasts"][0]["drivers"] if w.startswith("cup final (sporting) in ")]
    assert len(said) == 1 and ": +" in said[0], answer["forecasts"][0]["drivers"]


def test_categories_alone_are_no_driver_to_check_or_warn_about(shop, tmp_path) -> None:
    _, series, _ = shop
    settings = Settings(model_dir=str(tmp_path), model_signing_key="k" * 32, _env_file=None)  # type: ignore[call-arg]
    body = {"shop_id": "plain", "series": series, "products": PRODUCTS_INFO, "periods": HORIZON}
    with TestClient(create_app(settings)) as api:
        job, _ = follow(api, api.post(f"{PREFIX}/models/train", json=body).json()["job_id"])
        assert job["state"] == "succeeded", job
        assert api.get(f"{PREFIX}/models/plain").json()["drivers"] is None
        answer = api.post(f"{PREFIX}/forecast", json={**body, "series": [series[0]]}).json()
    assert answer["meta"]["shop_model"] and not [w for w in answer["warnings"] if w["code"] == "driver_unused"]
