"""CSV answers (Accept: text/csv) for forecast and reorder, and the forecast plot (SVG)."""

import csv
import io
import xml.etree.ElementTree as ET
from datetime import date, timedelta

from app.schemas.reorder import REORDER_EXAMPLE

PREFIX = "/api/v1/smart-shelf"
SVG = "{http://www.w3.org/2000/svg}"


def forecast_body(products=("a", "b"), days: int = 120) -> dict:
    start = date(2025, 3, 3)
    sales = [{"product_id": p, "date": (start + timedelta(days=d)).isoformat(), "qty": float(5 + (d * 7 + k) % 9)}
             for k, p in enumerate(products) for d in range(days)]
    return {"shop_id": "s1", "sales": sales, "periods": 7}


def read_csv(response) -> list[dict]:
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_forecast_as_csv_has_one_row_per_product_and_period_matching_the_json(client):
    as_json = client.post(f"{PREFIX}/forecast", json=forecast_body()).json()
    rows = read_csv(client.post(f"{PREFIX}/forecast", json=forecast_body(), headers={"Accept": "text/csv"}))
    assert list(rows[0]) == ["product_id", "date", "predicted_qty", "lower_ci", "upper_ci", "method", "model_version"]
    expected = [(f["product_id"], p["date"], p["predicted_qty"], f["method"])
                for f in as_json["forecasts"] for p in f["predictions"]]
    assert [(r["product_id"], r["date"], float(r["predicted_qty"]), r["method"]) for r in rows] == expected
    latest = read_csv(client.get(f"{PREFIX}/forecast/s1/a", headers={"Accept": "text/csv"}))
    assert [r["date"] for r in latest] == [p["date"] for p in as_json["forecasts"][0]["predictions"]]


def test_reorder_as_csv_has_every_field_and_the_warning_codes_in_a_header(client):
    as_json = client.post(f"{PREFIX}/reorder", json=REORDER_EXAMPLE).json()
    response = client.post(f"{PREFIX}/reorder", json=REORDER_EXAMPLE, headers={"Accept": "text/csv"})
    rows = read_csv(response)
    assert list(rows[0]) == list(as_json["recommendations"][0])
    assert [r["product_id"] for r in rows] == [r["product_id"] for r in as_json["recommendations"]]
    assert float(rows[0]["reorder_point"]) == as_json["recommendations"][0]["reorder_point"]
    codes = {w["code"] for w in as_json["warnings"]}
    assert set(filter(None, response.headers.get("x-smartshelf-warnings", "").split(","))) == codes


def test_plot_draws_history_forecast_band_and_names_the_method(client):
    forecast = client.post(f"{PREFIX}/forecast", json=forecast_body()).json()["forecasts"][0]
    response = client.get(f"{PREFIX}/forecast/s1/a/plot")
    assert response.status_code == 200 and response.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(response.text)
    assert forecast["method"] in root.find(f"{SVG}title").text
    titles = {el.find(f"{SVG}title").text: el for el in root.iter() if el.find(f"{SVG}title") is not None
              and el.tag in (f"{SVG}polyline", f"{SVG}polygon")}
    assert set(titles) == {"history", "forecast", "prediction interval"}
    assert len(titles["forecast"].get("points").split()) == 7
    assert len(titles["history"].get("points").split()) == 56  # the last 8 weeks (4 x 7 periods < 56 days)
    assert client.get(f"{PREFIX}/forecast/s1/unknown/plot").status_code == 404
