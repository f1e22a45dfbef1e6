"""Without `as_of` the decisions are made on the latest date of all the request's sales (docs/sales.md "Today is
the origin"), whatever the inventory holds: the owner uploads the whole export and asks about one article. A slow
seller sent alone, or a mistyped id, must not move "today" back to its own last sale or to the server's clock."""

from datetime import UTC, date, datetime, timedelta

PREFIX = "/api/v1/smart-shelf"
LAST = date(2022, 9, 30)  # the export's last day: the bread sells every day up to it


def _sales() -> list[dict]:
    bread = [{"product_id": "BREAD", "date": (LAST - timedelta(days=back)).isoformat(), "qty": 40 + back % 7}
             for back in range(120)]
    # croutons: a bag now and then, the last one 39 days before the export ends
    croutons = [{"product_id": "CROUTONS", "date": (LAST - timedelta(days=back)).isoformat(), "qty": 1}
                for back in range(119, 38, -9)]
    return bread + croutons


CROUTONS = {"product_id": "CROUTONS", "quantity": 30, "price": 2.0, "cost": 0.4,
            "expiry_date": (LAST + timedelta(days=60)).isoformat(), "lead_time_days": 7, "shelf_life_days": 60}
BREAD = {"product_id": "BREAD", "quantity": 200, "price": 1.3, "cost": 0.35,
         "expiry_date": (LAST + timedelta(days=1)).isoformat(), "lead_time_days": 1, "shelf_life_days": 1}
TYPO = {"product_id": "Bread ", "quantity": 20, "price": 1.3, "cost": 0.35,
        "expiry_date": (LAST + timedelta(days=3)).isoformat()}


def _at_risk(client, inventory: list[dict]) -> dict:
    answer = client.post(f"{PREFIX}/at-risk", json={"shop_id": "origin", "sales": _sales(), "inventory": inventory})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_one_slow_article_is_judged_on_the_exports_last_day_as_beside_a_best_seller(client):
    alone, beside = _at_risk(client, [CROUTONS]), _at_risk(client, [CROUTONS, BREAD])
    assert alone["meta"]["as_of"] == beside["meta"]["as_of"] == LAST.isoformat()
    days = {answer["meta"]["as_of"]: next(a for a in answer["at_risk"] if a["product_id"] == "CROUTONS")
            ["days_to_expiry"] for answer in (alone, beside)}
    assert days == {LAST.isoformat(): 60}
    reorder = [{r["product_id"]: r for r in client.post(f"{PREFIX}/reorder", json={
        "shop_id": "origin", "sales": _sales(), "inventory": inventory}).json()["recommendations"]}["CROUTONS"]
        for inventory in ([CROUTONS], [CROUTONS, BREAD])]
    # the same decision alone as beside the bread, but for the ABC class (a share of the inventory's value)
    assert {**reorder[0], "abc_class": None} == {**reorder[1], "abc_class": None}
    promotions = client.post(f"{PREFIX}/promotions", json={"shop_id": "origin", "sales": _sales(),
                                                            "items": [CROUTONS]}).json()
    assert promotions["meta"]["as_of"] == LAST.isoformat()
    forecast = client.post(f"{PREFIX}/forecast", json={"shop_id": "origin", "sales": _sales(), "periods": 3,
                                                        "product_ids": ["CROUTONS"]}).json()
    assert forecast["forecasts"][0]["predictions"][0]["date"] == (LAST + timedelta(days=1)).isoformat()


def test_a_mistyped_id_alone_is_judged_on_the_exports_last_day_not_the_servers_clock(client):
    answer = _at_risk(client, [TYPO])
    assert answer["meta"]["as_of"] == LAST.isoformat()
    assert {w["code"] for w in answer["warnings"]} >= {"items_without_sales"}
    assert all("Expired" not in a["recommended_action"]["reasoning"] for a in answer["at_risk"])
    promotions = client.post(f"{PREFIX}/promotions", json={"shop_id": "origin", "sales": _sales(),
                                                            "items": [TYPO]}).json()
    assert promotions["meta"]["as_of"] == LAST.isoformat()
    assert all("expired" not in u["reason"] for u in promotions["unmatched"])


def test_a_request_without_sales_is_made_on_todays_date(client):
    """No sales at all: the server's date is the only "today" there is (the caller should send as_of)."""
    answer = client.post(f"{PREFIX}/at-risk", json={"shop_id": "origin", "sales": [], "inventory": [TYPO]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["meta"]["as_of"] == datetime.now(UTC).date().isoformat()
