"""Sales of products outside the request's inventory get no answer and change none: /reorder and /at-risk answer
from their own products' sales alone (the shop's closed days excepted, which every sale sent tells), and the
data-rule warnings count only those products."""

from datetime import date, timedelta

import numpy as np

PREFIX = "/api/v1/smart-shelf"
AS_OF = date(2025, 9, 28)


def _rows(product: str, rate: float, seed: int, days: int = 120) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for back in range(days - 1, -1, -1):
        qty = int(rng.poisson(rate))
        if qty:
            rows.append({"product_id": product, "date": (AS_OF - timedelta(days=back)).isoformat(), "qty": qty})
    return rows


INVENTORY = [{"product_id": "bread", "quantity": 40, "price": 2.0, "cost": 0.8},
             {"product_id": "cake", "quantity": 3, "price": 9.0, "cost": 4.0}]
OWN = _rows("bread", 25.0, 1) + _rows("cake", 2.0, 2)
# another product, sold until 50 days ago: it would add `history_extended` and pool into the request's models
OTHER = [row for row in _rows("sandwich", 60.0, 3) if row["date"] < (AS_OF - timedelta(days=50)).isoformat()]


def _post(client, path: str, shop: str, sales: list[dict]) -> dict:
    response = client.post(f"{PREFIX}/{path}", json={"shop_id": shop, "as_of": AS_OF.isoformat(),
                                                      "inventory": INVENTORY, "sales": sales})
    assert response.status_code == 200, response.text
    return response.json()


def test_sales_of_products_not_in_the_inventory_change_no_answer(client):
    for path, items in (("reorder", "recommendations"), ("at-risk", "at_risk")):
        alone = _post(client, path, f"alone-{path}", OWN)
        beside = _post(client, path, f"beside-{path}", OWN + OTHER)
        assert beside[items] == alone[items]
        codes = {w["code"]: w for w in beside["warnings"]}
        assert codes["unknown_products"]["count"] == len(OTHER)
        assert "history_extended" not in codes  # only the sandwich stopped before as_of
