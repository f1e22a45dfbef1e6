"""The forecast and reorder answers as CSV tables (`Accept: text/csv`)."""

from collections.abc import Sequence

from fastapi import Response

from app.schemas.common import DataWarning
from app.schemas.forecast import ProductForecast
from app.schemas.reorder import ReorderRecommendation, ReorderResponse
from app.utils.csv_export import csv_response

FORECAST_COLUMNS = ["product_id", "date", "predicted_qty", "lower_ci", "upper_ci", "method", "model_version"]
REORDER_COLUMNS = [name for name in ReorderRecommendation.model_fields]


def forecast_csv(forecasts: Sequence[ProductForecast], filename: str,
                 warnings: Sequence[DataWarning] = ()) -> Response:
    """One row per product and period."""
    rows = ([f.product_id, p.date.isoformat(), p.predicted_qty, p.lower_ci, p.upper_ci, f.method, f.model_version]
            for f in forecasts for p in f.predictions)
    return csv_response(FORECAST_COLUMNS, rows, filename, warnings)


def reorder_csv(response: ReorderResponse, filename: str) -> Response:
    """One row per recommendation, every field of the JSON answer as a column."""
    rows = ([record[name] for name in REORDER_COLUMNS]
            for record in (r.model_dump(mode="json") for r in response.recommendations))
    return csv_response(REORDER_COLUMNS, rows, filename, response.warnings)
