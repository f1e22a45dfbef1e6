"""Anomalies: injected spikes and drops on real series, stock rules, outlier products, determinism."""

import numpy as np
import pytest

from app.schemas.anomalies import ANOMALIES_EXAMPLE, AnomaliesRequest
from app.services.analytics.anomalies import find_anomalies
from tests.conftest import sales_rows
from tests.support.budget import BUDGET


def run(**body):
    return find_anomalies(AnomaliesRequest.model_validate({"shop_id": "s", **body}), BUDGET)


@pytest.mark.slow
def test_injected_spikes_and_drops_on_real_series_are_found(store_item):
    frame = store_item[(store_item.store == 4) & (store_item.item <= 10) & (store_item.date >= "2017-01-01")].copy()
    frame = frame.sort_values(["item", "date"]).reset_index(drop=True)
    rng = np.random.default_rng(0)
    injected = set()
    for item in range(1, 11):
        rows = frame.index[frame.item == item]
        for position, factor in zip(rng.choice(np.arange(60, len(rows)), 3, replace=False), (2.5, 0.0, 2.2),
                                    strict=True):
            frame.loc[rows[position], "sales"] = round(frame.loc[rows[position], "sales"] * factor)
            injected.add((f"p{item}", frame.loc[rows[position], "date"].date()))
    found = {(a.product_id, a.date) for a in run(sales=sales_rows(frame)).anomalies if a.method == "robust_z"}
    recall = len(found & injected) / len(injected)
    precision = len(found & injected) / max(len(found), 1)
    assert recall >= 0.9 and precision >= 0.6


def test_spike_has_expected_range_and_description():
    response = find_anomalies(AnomaliesRequest.model_validate(ANOMALIES_EXAMPLE), BUDGET)
    spike = next(a for a in response.anomalies if a.type == "spike")
    assert spike.date.isoformat() == "2025-10-21" and spike.observed == 60
    assert spike.expected_low <= 14 <= spike.expected_high < 60
    assert "expected" in spike.description


def test_stock_rules_flag_negative_stock_and_large_adjustments():
    response = find_anomalies(AnomaliesRequest.model_validate(ANOMALIES_EXAMPLE), BUDGET)
    kinds = {(a.type, a.date.isoformat()) for a in response.anomalies if a.method == "stock_rule"}
    assert kinds == {("negative_stock", "2025-10-05"), ("large_adjustment", "2025-10-03")}
    small = run(opening_stock=[{"product_id": "a", "quantity": 100}],
                stock_movements=[{"product_id": "a", "date": "2025-10-01", "type": "adjustment", "qty": -5}])
    assert small.anomalies == []


def test_isolation_forest_points_at_the_odd_product():
    rng = np.random.default_rng(3)
    sales = []
    for k in range(12):
        rate = 20 if k < 11 else 0.3  # one product barely sells and is erratic
        for d in range(90):
            qty = float(rng.poisson(rate))
            sales.append({"product_id": f"p{k}", "date": f"2025-{7 + d // 30:02d}-{d % 30 + 1:02d}", "qty": qty})
    unusual = [a for a in run(sales=sales).anomalies if a.type == "unusual_product"]
    assert "p11" in {a.product_id for a in unusual}
    assert run(sales=sales).anomalies == run(sales=sales).anomalies  # deterministic
