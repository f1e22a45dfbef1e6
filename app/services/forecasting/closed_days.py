"""Closed days in the forecast horizon: no demand, so a forecast of 0 (with its interval), and the answer
lists them (`meta.closed_dates`). Daily forecasts only: a week holds open days too.

Applied to every answer (the shop model's, the local families', a cached one) after it is made: the models
forecast demand on every day, and the shop's calendar (`app.utils.opening_days`) says which days it is open.
"""

import numpy as np

from app.models.panel import Panel
from app.schemas.forecast import ForecastResponse
from app.utils.dates import dates_of
from app.utils.opening_days import OpeningDays


def close_days(response: ForecastResponse, panel: Panel, periods: int, opening: OpeningDays) -> None:
    """Zero the forecasts (and intervals) of the horizon's closed days, in place, and list those dates."""
    if panel.step != 1 or not opening.any:
        return
    days = panel.days(panel.n_periods, periods)
    shut = opening.closed(days)
    if not shut.any():
        return
    positions = np.flatnonzero(shut)
    for forecast in response.forecasts:
        for k in positions:
            prediction = forecast.predictions[k]
            prediction.predicted_qty = prediction.lower_ci = prediction.upper_ci = 0.0
    response.meta.closed_dates = dates_of(days[shut])
