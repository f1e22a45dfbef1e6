"""Property tests (Hypothesis) of the services on generated shops: what must hold for any input.

- at-risk scores lie in [0, 1], every product is counted, and the answer does not depend on
  the order of the input rows;
- every forecast has 0 <= lower <= point <= upper, and row order does not change it;
- promotion discounts stay within the limit and keep the minimum margin;
- insights' period totals sum back to the input totals, in any row order.
"""

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.config import Settings
from app.schemas.at_risk import AtRiskRequest
from app.schemas.forecast import ForecastRequest
from app.schemas.insights import InsightsRequest
from app.schemas.promotions import PromotionsRequest
from app.services.analytics.insights import summarise_sales
from app.services.decisions.at_risk import find_at_risk
from app.services.decisions.promotions import plan_promotions
from app.services.forecasting.local_models import forecast_products
from app.services.forecasting.spec import spec_of
from tests.support.budget import BUDGET

AS_OF = date(2025, 6, 30)
SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]
PROFILE = settings(max_examples=40, derandomize=True, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def shops(draw, max_products: int = 5, max_days: int = 60) -> tuple[list[str], list[dict]]:
    """Product ids and unique (product, day) sales rows ending on AS_OF."""
    n = draw(st.integers(1, max_products))
    products = [f"p{k}" for k in range(n)]
    days = draw(st.integers(1, max_days))
    rows = []
    for product in products:
        qty = draw(st.lists(st.integers(0, 40), min_size=days, max_size=days))
        for offset, units in enumerate(qty):
            if units or draw(st.booleans()):
                day = AS_OF - timedelta(days=days - 1 - offset)
                rows.append({"product_id": product, "date": day.isoformat(), "qty": float(units),
                             "revenue": round(units * 2.5, 2)})
    return products, rows or [{"product_id": products[0], "date": AS_OF.isoformat(), "qty": 1.0}]


@PROFILE
@given(shops(), st.data())
def test_at_risk_scores_in_unit_interval_and_independent_of_row_order(shop, data):
    products, sales = shop
    inventory = [{"product_id": p, "name": p, "quantity": data.draw(st.integers(0, 500)),
                  "expiry_date": (AS_OF + timedelta(days=data.draw(st.integers(-5, 90)))).isoformat(),
                  "price": data.draw(st.floats(0.5, 50)), "cost": data.draw(st.floats(0, 0.5))} for p in products]
    body = {"shop_id": "s", "as_of": AS_OF.isoformat(), "inventory": inventory, "sales": sales}
    answer = find_at_risk(AtRiskRequest.model_validate(body), SETTINGS)
    assert answer.meta.total_products == len(products)
    assert all(0 <= item.score <= 1 for item in answer.at_risk)
    shuffled = {**body, "inventory": data.draw(st.permutations(inventory)), "sales": data.draw(st.permutations(sales))}
    again = find_at_risk(AtRiskRequest.model_validate(shuffled), SETTINGS)
    assert sorted(i.model_dump_json() for i in again.at_risk) == sorted(i.model_dump_json() for i in answer.at_risk)


@settings(max_examples=25, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(shops(max_products=3, max_days=80), st.integers(1, 21), st.sampled_from([0.8, 0.95]), st.data())
def test_forecast_intervals_are_ordered_non_negative_and_row_order_free(shop, periods, level, data):
    _, sales = shop
    body = {"shop_id": "s", "sales": sales, "periods": periods, "confidence_interval": level}
    answer = forecast_products(spec_of(ForecastRequest.model_validate(body)), BUDGET)
    for forecast in answer.forecasts:
        assert len(forecast.predictions) == periods
        for p in forecast.predictions:
            assert 0 <= p.lower_ci <= p.predicted_qty <= p.upper_ci
    shuffled = forecast_products(spec_of(ForecastRequest.model_validate(
        {**body, "sales": data.draw(st.permutations(sales))})), BUDGET)
    by_product = {f.product_id: f for f in shuffled.forecasts}
    for a in answer.forecasts:
        b = by_product[a.product_id]
        assert a.method == b.method
        for x, y in zip(a.predictions, b.predictions, strict=True):
            assert abs(x.predicted_qty - y.predicted_qty) <= 1e-6 * max(1.0, abs(x.predicted_qty))


@PROFILE
@given(shops(max_days=30), st.floats(5, 80), st.floats(0, 60), st.data())
def test_promotion_discounts_respect_the_limit_and_the_margin(shop, max_discount, min_margin, data):
    products, sales = shop
    items = []
    for p in products:
        price = data.draw(st.floats(0.5, 100))
        items.append({"product_id": p, "name": p, "quantity": data.draw(st.integers(1, 300)), "price": price,
                      "cost": data.draw(st.one_of(st.none(), st.floats(0, price))),
                      "expiry_date": (AS_OF + timedelta(days=data.draw(st.integers(1, 30)))).isoformat()})
    events = [{"id": f"e{k}", "date": (AS_OF + timedelta(days=data.draw(st.integers(0, 30)))).isoformat(),
               "title": f"event {k}"} for k in range(data.draw(st.integers(1, 4)))]
    body = {"shop_id": "s", "as_of": AS_OF.isoformat(), "items": items, "calendar_events": events, "sales": sales,
            "preferences": {"discount_max_pct": max_discount, "min_margin_pct": min_margin}}
    answer = plan_promotions(PromotionsRequest.model_validate(body), SETTINGS)
    by_id = {item["product_id"]: item for item in items}
    assert {p.product_id for p in answer.promotions} | {u.product_id for u in answer.unmatched} == set(by_id)
    for promotion in answer.promotions:
        item = by_id[promotion.product_id]
        assert 0 < promotion.suggested_discount_pct <= max_discount + 1e-9
        if item["cost"] is not None:
            sale_price = item["price"] * (1 - promotion.suggested_discount_pct / 100)
            assert sale_price - item["cost"] >= sale_price * min_margin / 100 - 1e-6


@PROFILE
@given(shops(max_days=90), st.sampled_from(["daily", "weekly", "monthly"]), st.data())
def test_insights_totals_sum_back_to_the_input_in_any_row_order(shop, granularity, data):
    _, sales = shop
    body = {"shop_id": "s", "sales": sales, "granularity": granularity, "top_k": 1000}
    answer = summarise_sales(InsightsRequest.model_validate(body), BUDGET)
    total_units = sum(row["qty"] for row in sales)
    total_revenue = sum(row.get("revenue", 0.0) for row in sales)
    assert abs(sum(p.total_sales for p in answer.series) - total_units) <= 1e-6 * max(1, total_units)
    assert abs(sum(p.total_revenue for p in answer.series) - total_revenue) <= 1e-6 * max(1, total_revenue)
    assert abs(sum(t.total_qty for t in answer.top_items) - total_units) <= 1e-6 * max(1, total_units)
    shuffled = summarise_sales(InsightsRequest.model_validate(
        {**body, "sales": data.draw(st.permutations(sales))}), BUDGET)
    assert [p.total_sales for p in shuffled.series] == [p.total_sales for p in answer.series]
