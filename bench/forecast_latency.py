"""Latency of one forecast: one product, 2 years of daily history, 30 periods, `auto`.

No cache is involved (every call trains), so each call is a cold-cache call; the first call in
the process also pays the imports (xgboost).
"""

import time
from collections.abc import Callable

from app.schemas.forecast import ForecastRequest
from app.services.forecast import forecast_products, spec_of
from bench.data import daily_panel, sales_rows
from bench.service_speed import timed
from tests.support.budget import BUDGET


def run(progress: Callable[[str], None] = print) -> dict:
    progress("forecast latency: one product, 730 days, 30 periods")
    units, dates = daily_panel(1, 730)
    request = spec_of(ForecastRequest.model_validate(
        {"shop_id": "bench", "sales": sales_rows(units, dates), "periods": 30, "model": "auto"}))
    started = time.perf_counter()
    first = forecast_products(request, BUDGET)
    first_ms = (time.perf_counter() - started) * 1000
    timing = timed(lambda: forecast_products(request, BUDGET), 15)
    return {"first_call_ms": round(first_ms, 1), **timing, "method": first.forecasts[0].method}
