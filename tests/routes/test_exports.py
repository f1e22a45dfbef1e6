"""CSV answers (Accept: text/csv) for forecast and reorder, safe to open and to name from any id, and
the forecast plot (SVG)."""

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from urllib.parse import quote

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


def test_a_product_id_with_a_slash_is_read_back_as_json_csv_and_plot(client):
    """A till's article names hold slashes (`PAIN S/SEL`): sent percent-encoded, the read paths find it."""
    forecast = client.post(f"{PREFIX}/forecast", json=forecast_body(("PAIN S/SEL", "b"))).json()["forecasts"][0]
    path = f"{PREFIX}/forecast/s1/PAIN%20S%2FSEL"
    latest = client.get(path)
    assert latest.status_code == 200 and latest.json()["product_id"] == "PAIN S/SEL"
    assert latest.json()["predictions"] == forecast["predictions"]
    assert [r["product_id"] for r in read_csv(client.get(path, headers={"Accept": "text/csv"}))] == ["PAIN S/SEL"] * 7
    assert client.get(f"{path}/plot").headers["content-type"] == "image/svg+xml"
    assert client.get(f"{PREFIX}/forecast/s1/PAIN%20S%2FSELS").status_code == 404


HOSTILE_SHOP = "shöp\r\nX-Evil: 1"
SAFE_DISPOSITION = ("attachment; filename=\"forecast-sh_p__X-Evil__1.csv\"; "
                    "filename*=UTF-8''forecast-sh%C3%B6p__X-Evil%3A%201.csv")


def test_csv_cells_a_spreadsheet_would_run_as_formulas_start_with_a_quote(client):
    products = ("=cmd|' /C calc'!A0", "+1+1", "-2", "@SUM(A1)", "\tp", "p1")
    rows = read_csv(client.post(f"{PREFIX}/forecast", json={**forecast_body(products), "periods": 1},
                                headers={"Accept": "text/csv"}))
    assert sorted(r["product_id"] for r in rows) == sorted(["'=cmd|' /C calc'!A0", "'+1+1", "'-2", "'@SUM(A1)",
                                                           "'\tp", "p1"])
    assert all(float(r["predicted_qty"]) >= 0 for r in rows)  # numbers stay numbers
    json_ids = [f["product_id"] for f in client.post(f"{PREFIX}/forecast", json=forecast_body(products)).json()
                ["forecasts"]]
    assert "=cmd|' /C calc'!A0" in json_ids  # the JSON answer keeps the id exactly as sent

    reorder = json.loads(json.dumps(REORDER_EXAMPLE))
    reorder["inventory"][0]["name"] = '=HYPERLINK("http://evil.example","click")'
    reorder["inventory"][0]["supplier"] = "@Dairy Co"
    rows = read_csv(client.post(f"{PREFIX}/reorder", json=reorder, headers={"Accept": "text/csv"}))
    first = next(r for r in rows if r["product_id"] == reorder["inventory"][0]["product_id"])
    assert first["name"] == "'" + reorder["inventory"][0]["name"] and first["supplier"] == "'@Dairy Co"


def test_csv_file_names_from_hostile_ids_are_ascii_with_the_exact_name_in_filename_star(client):
    posted = client.post(f"{PREFIX}/forecast", json={**forecast_body(), "shop_id": HOSTILE_SHOP},
                         headers={"Accept": "text/csv"})
    assert posted.status_code == 200 and posted.headers["content-disposition"] == SAFE_DISPOSITION
    shop_path = quote(HOSTILE_SHOP, safe="")
    latest = client.get(f"{PREFIX}/forecast/{shop_path}/a", headers={"Accept": "text/csv"})
    assert latest.status_code == 200
    assert latest.headers["content-disposition"] == SAFE_DISPOSITION.replace(".csv", "-a.csv")
    cjk = client.post(f"{PREFIX}/forecast", json={**forecast_body(), "shop_id": "店"}, headers={"Accept": "text/csv"})
    assert cjk.status_code == 200  # not Latin-1: a 500 when the name went into the header as is
    assert cjk.headers["content-disposition"] == "attachment; filename=\"forecast-_.csv\"; " \
                                                 "filename*=UTF-8''forecast-%E5%BA%97.csv"


def test_a_real_server_sends_the_csv_of_a_hostile_shop_id_with_one_safe_header(live_api):
    posted = live_api.post(f"{PREFIX}/forecast", json={**forecast_body(), "shop_id": HOSTILE_SHOP},
                           headers={"Accept": "text/csv"})  # was: the connection dropped, the log said 200
    assert posted.status_code == 200 and "x-evil" not in posted.headers
    assert posted.headers["content-disposition"] == SAFE_DISPOSITION
    latest = live_api.get(f"{PREFIX}/forecast/{quote(HOSTILE_SHOP, safe='')}/a", headers={"Accept": "text/csv"})
    assert latest.status_code == 200 and "x-evil" not in latest.headers
    assert [row["product_id"] for row in read_csv(latest)] == ["a"] * 7
