"""Today is the origin (issue #23, item 3): `as_of` ends every product's history, the days after a
product's last line are zero sales, and every forecast starts the next day; without it, the latest date
in the request."""

from datetime import date, timedelta

PREFIX = "/api/v1/smart-shelf"
LAST = date(2025, 4, 10)


def lines(silent_days: int = 10, days: int = 100) -> list[dict]:
    """Product `a` sells every day to LAST; `b` the same but falls silent for its last `silent_days`."""
    rows = []
    for k in range(days):
        day = LAST - timedelta(days=days - 1 - k)
        rows.append({"product_id": "a", "date": day.isoformat(), "qty": 5.0 + k % 7})
        if k < days - silent_days:
            rows.append({"product_id": "b", "date": day.isoformat(), "qty": 3.0 + k % 3})
    return rows


def first_dates(answer: dict) -> dict[str, str]:
    return {f["product_id"]: f["predictions"][0]["date"] for f in answer["forecasts"]}


def test_every_forecast_starts_after_the_latest_date_in_the_request(client):
    answer = client.post(f"{PREFIX}/forecast", json={"shop_id": "s", "sales": lines(), "periods": 7}).json()
    assert first_dates(answer) == {"a": "2025-04-11", "b": "2025-04-11"}
    extended = {w["code"]: w for w in answer["warnings"]}["history_extended"]
    assert extended["count"] == 1 and extended["product_ids"] == ["b"]
    assert "gaps_filled" not in {w["code"] for w in answer["warnings"]}  # silence after the last line is no gap
    alone = client.post(f"{PREFIX}/forecast", json={"shop_id": "s", "sales": lines(), "periods": 7,
                                                    "product_id": "b"}).json()
    assert first_dates(alone) == {"b": "2025-04-11"}


def test_as_of_is_the_origin_of_every_forecast(client):
    body = {"shop_id": "s", "sales": lines(), "periods": 7, "as_of": "2025-04-20"}
    answer = client.post(f"{PREFIX}/forecast", json=body).json()
    assert first_dates(answer) == {"a": "2025-04-21", "b": "2025-04-21"}
    assert {w["code"]: w["count"] for w in answer["warnings"]}["history_extended"] == 2
    # ten days without a sale before as_of: b's forecast falls, it is not b's level before it went silent
    b = next(f for f in answer["forecasts"] if f["product_id"] == "b")
    assert sum(p["predicted_qty"] for p in b["predictions"]) < 7 * 3.0
    earlier = client.post(f"{PREFIX}/forecast", json={**body, "as_of": "2025-03-31"}).json()
    assert first_dates(earlier) == {"a": "2025-04-01", "b": "2025-04-01"}
    assert {w["code"] for w in earlier["warnings"]} >= {"future_sales"}


def test_reorder_counts_the_days_to_as_of_as_no_sales(client):
    inventory = [{"product_id": p, "quantity": 10, "price": 2.0, "cost": 1.0, "lead_time_days": 3} for p in "ab"]
    body = {"shop_id": "s", "sales": lines(), "inventory": inventory}
    today = client.post(f"{PREFIX}/reorder", json={**body, "as_of": "2025-04-10"}).json()
    later = client.post(f"{PREFIX}/reorder", json={**body, "as_of": "2025-05-10"}).json()
    demand = {r["product_id"]: r["expected_lead_time_demand"] for r in today["recommendations"]}
    later_demand = {r["product_id"]: r["expected_lead_time_demand"] for r in later["recommendations"]}
    assert later_demand["a"] < demand["a"] / 2  # a month without a line is a month of no sales
