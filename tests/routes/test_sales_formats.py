"""Sales as rows, as series and as a CSV upload: the same answers, the same rules, precise errors.

The payloads are the committed real-data examples (store-item sales, `examples/payloads/`), so
every endpoint is checked on real demand.
"""

import copy
import gzip
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import ApiKeyConfig, Settings
from app.main import create_app
from app.schemas.sales import rows_to_series
from app.utils.access import hash_key
from tests.support.jobs import follow
from tests.support.pos_export import OPTIONS, pos_export

PREFIX = "/api/v1/smart-shelf"
GOOD_CSV = b"product_id,date,qty\np1,2025-11-01,3\np1,2025-11-02,4\n"
PAYLOADS = Path(__file__).resolve().parents[2] / "examples" / "payloads"
ENDPOINTS = ["at-risk", "forecast", "reorder", "anomalies", "insights", "promotions"]


def payload(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    with_revenue = any("revenue" in row for row in rows)
    lines = ["product_id,date,qty" + (",revenue" if with_revenue else "")]
    lines += [f"{r['product_id']},{r['date']},{r['qty']}" + (f",{r.get('revenue', '')}" if with_revenue else "")
              for r in rows]
    return ("\n".join(lines) + "\n").encode()


def as_series(body: dict[str, Any]) -> dict[str, Any]:
    converted = {k: v for k, v in body.items() if k != "sales"}
    converted["series"] = rows_to_series(body["sales"])
    return converted


def upload(api: TestClient, path: str, body: dict[str, Any], csv: bytes, name: str = "sales.csv") -> Any:
    request = json.dumps({k: v for k, v in body.items() if k != "sales"})
    return api.post(path, data={"request": request}, files={"sales": (name, csv, "text/csv")})


def comparable(answer: Any) -> Any:
    """An answer without what legitimately differs between two computations (training time)."""
    if isinstance(answer, dict):
        return {k: comparable(v) for k, v in answer.items()
                if k not in ("trained_at", "created_at", "finished_at", "started_at", "training_seconds", "job_id",
                             "status_url")}
    if isinstance(answer, list):
        return [comparable(v) for v in answer]
    return answer


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Any]:
    """A new app per call (own model store and cache), so no answer comes from another's cache."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        settings = Settings(model_dir=str(tmp_path / f"models{len(clients)}"), _env_file=None, **overrides)
        api = TestClient(create_app(settings), raise_server_exceptions=False)
        api.__enter__()
        clients.append(api)
        return api

    yield make
    for api in clients:
        api.__exit__(None, None, None)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_rows_and_series_give_the_same_answer_on_real_data(fresh, endpoint):
    body = payload(endpoint)
    by_rows = fresh().post(f"{PREFIX}/{endpoint}", json=body)
    by_series = fresh().post(f"{PREFIX}/{endpoint}", json=as_series(body))
    assert by_rows.status_code == 200, by_rows.text
    assert by_series.status_code == 200, by_series.text
    assert comparable(by_series.json()) == comparable(by_rows.json())


def test_forecast_from_a_csv_upload_equals_rows_plain_and_gzip(fresh):
    body = payload("forecast")
    by_rows = fresh().post(f"{PREFIX}/forecast", json=body).json()
    plain = upload(fresh(), f"{PREFIX}/forecast", body, to_csv(body["sales"]))
    zipped = upload(fresh(), f"{PREFIX}/forecast", body, gzip.compress(to_csv(body["sales"])), "sales.csv.gz")
    assert plain.status_code == 200, plain.text
    assert zipped.status_code == 200, zipped.text
    assert comparable(plain.json()) == comparable(by_rows) == comparable(zipped.json())


@pytest.mark.parametrize("endpoint", ["at-risk", "insights", "anomalies", "reorder", "promotions"])
def test_every_sales_endpoint_takes_a_csv_upload_with_the_answer_of_rows(fresh, endpoint):
    body = payload(endpoint)
    by_rows = fresh().post(f"{PREFIX}/{endpoint}", json=body)
    by_csv = upload(fresh(), f"{PREFIX}/{endpoint}", body, gzip.compress(to_csv(body["sales"])), "sales.csv.gz")
    assert by_rows.status_code == 200, by_rows.text
    assert by_csv.status_code == 200, by_csv.text
    assert comparable(by_csv.json()) == comparable(by_rows.json())


CSV_WARNINGS = ("csv_columns_ignored", "revenue_from_unit_price")


@pytest.mark.parametrize(("endpoint", "options"), [
    ("forecast", {"product_ids": ["BAGUETTE", "CROISSANT"], "periods": 7}),
    ("insights", {"granularity": "weekly", "top_k": 3}),
])
def test_a_pos_export_goes_in_as_exported_with_one_request_part(fresh, endpoint, options):
    """The bakery's shape (index column, time and ticket columns, Quantity floats, "0,90 €" prices) with the
    request part docs/sales.md shows: the answer of the same sales as rows, and two warnings saying how it was read."""
    export = pos_export(datetime_column=endpoint == "insights")
    body = {"shop_id": "bakery", **options}
    by_rows = fresh().post(f"{PREFIX}/{endpoint}", json={**body, "sales": export.rows})
    by_csv = upload(fresh(), f"{PREFIX}/{endpoint}", {**body, "csv": OPTIONS}, gzip.compress(export.csv),
                    "sales_as_downloaded.csv.gz")
    assert by_rows.status_code == 200, by_rows.text
    assert by_csv.status_code == 200, by_csv.text
    uploaded, sent = by_csv.json(), by_rows.json()
    assert [w["code"] for w in uploaded["warnings"][:2]] == list(CSV_WARNINGS)
    uploaded["warnings"] = uploaded["warnings"][2:]
    assert comparable(uploaded) == comparable(sent)


@pytest.mark.parametrize("endpoint", ["at-risk", "insights", "anomalies", "reorder", "promotions"])
def test_an_uploads_lines_count_for_the_line_limit_and_other_rows_for_the_row_limit(fresh, endpoint):
    body = payload(endpoint)
    lines = len(body["sales"])
    refused = upload(fresh(max_sales_lines=lines - 1), f"{PREFIX}/{endpoint}", body, to_csv(body["sales"]))
    assert refused.status_code == 413
    assert f"{lines} lines, over MAX_SALES_LINES={lines - 1}" in refused.json()["message"]
    others = len(body.get("inventory", [])) + len(body.get("items", [])) + len(body.get("calendar_events", []))
    accepted = upload(fresh(max_sales_lines=lines, max_payload_rows=max(others, 1)), f"{PREFIX}/{endpoint}", body,
                      to_csv(body["sales"]))
    assert accepted.status_code == 200, accepted.text  # the lines do not count against MAX_PAYLOAD_ROWS
    if others:  # the request's other rows do
        over = upload(fresh(max_payload_rows=others - 1), f"{PREFIX}/{endpoint}", body, to_csv(body["sales"]))
        assert over.status_code == 413 and f"exceed MAX_PAYLOAD_ROWS={others - 1}" in over.json()["message"], over.text


@pytest.mark.parametrize(("csv_options", "field", "words"), [
    ({"decimal": ";"}, "csv.decimal", "Input should be '.' or ','"),
    ({"columns": {"sku": "article"}}, "csv.columns.sku.[key]", "Input should be 'product_id'"),
    ({"currency_signs": ["1"]}, "csv.currency_signs[0]", "'1' is not a currency sign"),
    ({"columns": {"qty": "n", "revenue": "n"}}, "csv.columns", "'n' is named for two fields"),
    ({"separator": ";"}, "csv.separator", "Extra inputs are not permitted"),
    ({"columns": {"qty": "Quantity"}}, "csv.columns.qty", "names the column 'Quantity', but the header has none"),
])
def test_bad_csv_options_are_422_naming_the_field(client, csv_options, field, words):
    answer = upload(client, f"{PREFIX}/insights", {"shop_id": "s", "csv": csv_options}, GOOD_CSV)
    assert answer.status_code == 422, answer.text
    first = answer.json()["detail"][0]
    assert first["field"] == field and words in first["msg"], first


def test_csv_options_in_a_json_body_are_422_saying_they_need_an_upload(client):
    answer = client.post(f"{PREFIX}/insights", json={"shop_id": "s", "csv": {"decimal": ","},
                                                     "sales": [{"product_id": "p1", "date": "2025-11-01", "qty": 1}]})
    assert answer.status_code == 422
    assert answer.json()["message"].startswith("csv: csv options need a CSV upload")


def test_rows_and_series_mixed_in_one_request_equal_rows_alone(fresh):
    body = payload("forecast")
    half = {row["product_id"] for row in body["sales"]} - {"p1"}
    mixed = {**body, "sales": [r for r in body["sales"] if r["product_id"] == "p1"],
             "series": rows_to_series([r for r in body["sales"] if r["product_id"] in half])}
    assert comparable(fresh().post(f"{PREFIX}/forecast", json=mixed).json()) == \
        comparable(fresh().post(f"{PREFIX}/forecast", json=body).json())


def test_batch_from_series_and_from_csv_equals_batch_from_rows(fresh):
    body = payload("forecast-batch")
    answers = []
    for send in (lambda api: api.post(f"{PREFIX}/forecast/batch", json=body),
                 lambda api: api.post(f"{PREFIX}/forecast/batch", json=as_series(body)),
                 lambda api: upload(api, f"{PREFIX}/forecast/batch", body, gzip.compress(to_csv(body["sales"])))):
        api = fresh(batch_chunk_size=3)
        accepted = send(api)
        assert accepted.status_code == 202, accepted.text
        job, _ = follow(api, accepted.json()["job_id"])
        assert job["state"] == "succeeded", job["errors"]
        answers.append(comparable(job))
    assert answers[0]["progress"] == {"done": 8, "total": 8, "chunks_done": 3, "chunks_total": 3}
    assert answers[1] == answers[0] == answers[2]


def test_weekly_series_follow_the_request_frequency(fresh):
    start = date(2025, 1, 3)
    rows = [{"product_id": "w1", "date": (start + timedelta(weeks=k)).isoformat(), "qty": float(10 + k % 4)}
            for k in range(30)]
    base = {"shop_id": "s", "periods": 4, "frequency": "weekly"}
    by_rows = fresh().post(f"{PREFIX}/forecast", json={**base, "sales": rows}).json()
    by_series = fresh().post(f"{PREFIX}/forecast", json={**base, "series": rows_to_series(rows, step=7)}).json()
    assert by_series["meta"]["frequency"] == "weekly"
    assert comparable(by_series) == comparable(by_rows)


def test_a_row_on_a_series_cells_day_is_another_sale_or_a_duplicate_when_the_caller_says_so(client):
    series = [{"product_id": "p1", "start": "2025-11-01", "qty": [2, None, 3], "revenue": [4.0, None, 6.0]}]
    body = {"shop_id": "s", "series": series, "sales": [{"product_id": "p1", "date": "2025-11-03", "qty": 3,
                                                         "revenue": 6.0}],
            "range": {"start": "2025-11-01", "end": "2025-11-03"}, "granularity": "daily"}
    answer = client.post(f"{PREFIX}/insights", json=body).json()
    assert [p["total_sales"] for p in answer["series"]] == [2.0, 0.0, 6.0]
    assert [w["code"] for w in answer["warnings"]] == ["lines_aggregated"]
    answer = client.post(f"{PREFIX}/insights", json={**body, "duplicates": "drop"}).json()
    assert [p["total_sales"] for p in answer["series"]] == [2.0, 0.0, 3.0]
    assert [w["code"] for w in answer["warnings"]] == ["duplicate_rows"]


def test_null_cells_are_gaps_like_missing_rows(client):
    series = [{"product_id": "p1", "start": "2025-10-01", "qty": [5.0] * 10 + [None] * 3 + [4.0] * 10}]
    answer = client.post(f"{PREFIX}/forecast", json={"shop_id": "s", "series": series, "periods": 3}).json()
    gaps = [w for w in answer["warnings"] if w["code"] == "gaps_filled"]
    assert gaps and gaps[0]["count"] == 3


def _series_body(**change: Any) -> dict[str, Any]:
    series = {"product_id": "p1", "start": "2025-11-01", "qty": [1, 2, 3], "revenue": [1.0, 2.0, 3.0], **change}
    return {"shop_id": "s", "series": [series], "periods": 3}


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"revenue": [1.0, 2.0]}, "series[0].revenue", "2 values but qty has 3"),
    ({"start": "2025-13-01"}, "series[0].start", "month must be in 1..12"),
    ({"start": "20251101"}, "series[0].start", "must be an ISO date"),
    ({"start": 0}, "series[0].start", "must be an ISO date"),
    ({"start": "2025-11-01T25:00:00"}, "series[0].start", "must be an ISO date"),
    ({"qty": [1, "abc", 3]}, "series[0].qty[1]", "'abc' is not a number"),
    ({"qty": [1, True, 3]}, "series[0].qty[1]", "True is not a number"),
    ({"qty": [1, 2e13, 3]}, "series[0].qty[1]", "outside"),
    ({"qty": "123"}, "series[0].qty", "must be a list"),
    ({"qty": [1] * 3654, "revenue": None}, "series[0].qty", "at most 3653"),
    ({"revenue": [1.0, None, 3.0], "qty": [1, 2, None]}, "series[0].revenue[2]", "qty is null"),
    ({"product_id": ""}, "series[0].product_id", "at least 1"),
])
def test_malformed_series_are_422_naming_the_cell(client, change, field, words):
    response = client.post(f"{PREFIX}/forecast", json=_series_body(**change))
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    assert detail["field"] == field and words in detail["msg"], detail


def test_a_nan_literal_in_a_series_is_422(client):
    raw = json.dumps(_series_body()).replace('"qty": [1, 2, 3]', '"qty": [1, NaN, 3]')
    response = client.post(f"{PREFIX}/forecast", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "series[0].qty[1]"


def test_a_forecast_without_any_sales_is_422_naming_sales(client):
    response = client.post(f"{PREFIX}/forecast", json={"shop_id": "s", "periods": 3})
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "sales"




@pytest.mark.parametrize(("csv", "words"), [
    (b"", "sales.csv is empty"),
    (b"p1,2025-11-01,3\n", "sales.csv line 1: no column product_id, date, qty in the header"),
    (b"product_id,date,quantity\np1,2025-11-01,3\n", "sales.csv line 1: no column qty in the header"),
    (GOOD_CSV + b"p1,2025-11-03,abc\n", 'sales.csv line 4, column qty: \'abc\' is not a number'),
    (GOOD_CSV + b"p1,03/11/2025,2\n", "sales.csv line 4, column date: '03/11/2025' is not an ISO date"),
    (b"product_id,date,qty\np1,12/31/2025,1\np1,01/15/2025,1\n", "sales.csv line 2, column date: '12/31/2025'"),
    (GOOD_CSV + b"p1,2025-11-03,2,9\n", "sales.csv line 4: 4 fields, but the header has 3"),
    (GOOD_CSV + b"p1,2025-11-03\n", "sales.csv line 4, column qty: is empty"),
    (GOOD_CSV + b",2025-11-03,1\n", "sales.csv line 4, column product_id: is empty"),
    (b"product_id,date,qty,revenue\np1,2025-11-01,3,x\n", "sales.csv line 2, column revenue: 'x' is not a number"),
    (b"\x1f\x8bnot really gzip", "not a valid gzip file"),
])
def test_malformed_csv_is_422_naming_line_and_column(client, csv, words):
    response = upload(client, f"{PREFIX}/forecast", {"shop_id": "s", "periods": 3}, csv)
    assert response.status_code == 422, response.text
    assert words in response.json()["message"], response.json()["message"]


@pytest.mark.parametrize(("csv", "words"), [
    (GOOD_CSV.decode().encode("utf-16"), "sales.csv: UTF-16 text (or a binary file), not UTF-8"),
    (GOOD_CSV.decode().encode("utf-16-le"), "sales.csv: UTF-16 text (or a binary file), not UTF-8"),
    (GOOD_CSV + "p\xe9,2025-11-03,1\n".encode("latin-1"), "sales.csv line 4: not UTF-8 text (byte 0xe9)"),
    ("product_id,d\xe4te,qty\n".encode("cp1252") + GOOD_CSV.split(b"\n", 1)[1],
     "sales.csv line 1: not UTF-8 text (byte 0xe4)"),
    (GOOD_CSV.replace(b"\n", b"\r") + b"p1,2025-11-03,x\r", "sales.csv line 4, column qty: 'x' is not a number"),
])
def test_an_upload_in_another_encoding_is_422_naming_the_problem(client, csv, words):
    """UTF-16 (with or without its byte order mark), Windows-1252 or Latin-1 bytes: a 422 that says what the
    file is and where, never a 500; a CR-only file's lines are read (and named) like any other's."""
    response = upload(client, f"{PREFIX}/forecast", {"shop_id": "s", "periods": 3}, csv)
    assert response.status_code == 422, response.text
    assert words in response.json()["message"], response.json()["message"]


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n", b"\r"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_utf8_with_or_without_bom_and_any_line_end_is_read(client, line_end, bom):
    lines = b"product_id,date,qty\n\xc3\xa9clair,2025-11-01,3\n\xc3\xa9clair,2025-11-02,4\n"
    csv = bom + lines.replace(b"\n", line_end)
    answer = upload(client, f"{PREFIX}/forecast", {"shop_id": "s", "periods": 2}, csv)
    assert answer.status_code == 200, answer.text
    assert [(f["product_id"], f["history_periods"]) for f in answer.json()["forecasts"]] == [("\u00e9clair", 2)]


def test_csv_ids_stay_text_and_odd_headers_are_read(client):
    """'00042' is not 42, 'NA' is an id, and quoted or spaced header names are names."""
    csv = (b'"product_id" , "date", qty\n00042,2025-11-01,3\nNA,2025-11-01,1\n042,2025-11-02,5\n')
    answer = upload(client, f"{PREFIX}/forecast", {"shop_id": "s", "periods": 1}, csv)
    assert answer.status_code == 200, answer.text
    assert [f["product_id"] for f in answer.json()["forecasts"]] == ["00042", "NA", "042"]
    bad = upload(client, f"{PREFIX}/forecast", {"shop_id": "s"}, b"product_id , date ,qty\np1,2025-11-01,x\n")
    assert bad.status_code == 422 and "line 2, column qty: 'x' is not a number" in bad.json()["message"]


def test_a_gzip_file_cut_short_is_422_and_concatenated_members_are_all_read(client):
    whole = gzip.compress(GOOD_CSV)
    cut = upload(client, f"{PREFIX}/forecast", {"shop_id": "s"}, whole[:-12])
    assert cut.status_code == 422 and "cut short" in cut.json()["message"]
    two = gzip.compress(GOOD_CSV) + gzip.compress(b"p2,2025-11-01,7\np2,2025-11-02,8\n")
    answer = upload(client, f"{PREFIX}/forecast", {"shop_id": "s", "periods": 1}, two)
    assert answer.status_code == 200 and [f["product_id"] for f in answer.json()["forecasts"]] == ["p1", "p2"]


def test_a_csv_upload_without_its_parts_is_422_naming_the_part(client):
    only_csv = client.post(f"{PREFIX}/forecast", files={"sales": ("sales.csv", GOOD_CSV, "text/csv")})
    assert only_csv.status_code == 422 and only_csv.json()["detail"][0]["field"] == "request"
    only_request = client.post(f"{PREFIX}/forecast", files={"request": (None, '{"shop_id": "s"}')})
    assert only_request.status_code == 422 and only_request.json()["detail"][0]["field"] == "sales"
    bad_json = upload(client, f"{PREFIX}/forecast", {}, GOOD_CSV)
    assert bad_json.status_code == 422 and bad_json.json()["detail"][0]["field"] == "shop_id"


def test_a_gzip_bomb_is_refused_at_max_csv_bytes(fresh):
    api = fresh(max_csv_bytes=4096)
    bomb = gzip.compress(b"product_id,date,qty\n" + b"p1,2025-11-01,1\n" * 10_000)
    response = upload(api, f"{PREFIX}/forecast", {"shop_id": "s"}, bomb)
    assert response.status_code == 413 and "MAX_CSV_BYTES=4096" in response.json()["message"]


@pytest.mark.parametrize("form", ["rows", "series", "csv"])
def test_limits_count_values_whatever_their_form(fresh, form):
    api = fresh(max_sales_lines=40)
    rows = [{"product_id": "p1", "date": (date(2025, 1, 1) + timedelta(days=k)).isoformat(), "qty": 1.0}
            for k in range(41)]

    def send(sent: list[dict[str, Any]]) -> Any:
        body = {"shop_id": "s", "periods": 2}
        if form == "rows":
            return api.post(f"{PREFIX}/forecast", json={**body, "sales": sent})
        if form == "series":
            return api.post(f"{PREFIX}/forecast", json={**body, "series": rows_to_series(sent)})
        return upload(api, f"{PREFIX}/forecast", body, to_csv(sent))

    assert send(rows[:40]).status_code == 200
    over = send(rows)
    assert over.status_code == 413
    words = ("41 lines, over MAX_SALES_LINES=40" if form == "csv"  # counted before the CSV is parsed
             else "41 sales lines (rows, series cells and CSV lines) exceed MAX_SALES_LINES=40")
    assert words in over.json()["message"]


def test_an_upload_over_the_line_limit_is_refused_before_it_is_parsed(fresh):
    api = fresh(max_sales_lines=40, batch_max_rows=60)
    lines = b"".join(b"p1,2025-01-%02d,1\n" % (1 + k % 28) for k in range(50))
    forecast = upload(api, f"{PREFIX}/forecast", {"shop_id": "s"}, b"product_id,date,qty\n" + lines)
    assert forecast.status_code == 413 and "50 lines, over MAX_SALES_LINES=40" in forecast.json()["message"]
    batch = upload(api, f"{PREFIX}/forecast/batch", {"shop_id": "s"}, b"product_id,date,qty\n" + lines)
    assert batch.status_code == 202, batch.text  # the batch limit is BATCH_MAX_ROWS
    more = b"".join(b"p2,2025-01-%02d,1\n" % (1 + k % 28) for k in range(11))
    refused = upload(api, f"{PREFIX}/forecast/batch", {"shop_id": "s"}, b"product_id,date,qty\n" + lines + more)
    assert refused.status_code == 413 and "61 lines, over BATCH_MAX_ROWS=60" in refused.json()["message"]


def test_a_series_null_counts_as_a_value_for_the_limit(fresh):
    api = fresh(max_sales_lines=10)
    series = [{"product_id": "p1", "start": "2025-01-01", "qty": [1.0] * 5 + [None] * 6}]
    assert api.post(f"{PREFIX}/insights", json={"shop_id": "s", "series": series}).status_code == 413


def test_a_repeated_forecast_is_answered_from_its_bytes(client):
    body = json.dumps(payload("forecast")).encode()
    headers = {"content-type": "application/json"}
    first = client.post(f"{PREFIX}/forecast", content=body, headers=headers)
    second = client.post(f"{PREFIX}/forecast", content=body, headers=headers)
    assert first.json()["meta"]["cache"] == "miss" and second.json()["meta"]["cache"] == "hit"
    assert second.json()["forecasts"] == first.json()["forecasts"]
    def timing(response: Any) -> dict[str, float]:
        return {k: float(v) for k, v in (p.split(";dur=") for p in response.headers["server-timing"].split(", "))}

    assert set(timing(first)) == {"parse", "validate", "handler", "total"}
    assert timing(first)["handler"] > 0 and timing(first)["validate"] > 0
    assert timing(second)["handler"] == 0.0  # no handler ran: the request was never decoded
    changed = client.post(f"{PREFIX}/forecast", content=body.replace(b'"periods": 14', b'"periods": 13'),
                          headers=headers)
    assert changed.json()["meta"]["periods"] == 13


def test_a_cached_answer_still_checks_the_api_key_against_the_shop(tmp_path):
    own, other = "key-of-store-2", "key-of-store-9"
    keys = [ApiKeyConfig(name="store-2", sha256=hash_key(own), shops=["store_2"]),
            ApiKeyConfig(name="store-9", sha256=hash_key(other), shops=["store_9"])]
    settings = Settings(model_dir=str(tmp_path / "m"), api_keys=keys, _env_file=None)
    body = json.dumps(payload("forecast")).encode()
    with TestClient(create_app(settings)) as api:
        for key, status in ((own, 200), (own, 200), (other, 403)):
            response = api.post(f"{PREFIX}/forecast", content=body,
                                headers={"content-type": "application/json", "x-api-key": key})
            assert response.status_code == status, response.text


def test_csv_uploads_are_never_served_another_uploads_answer(client):
    first = upload(client, f"{PREFIX}/forecast", {"shop_id": "s", "periods": 2}, GOOD_CSV).json()
    longer = upload(client, f"{PREFIX}/forecast", {"shop_id": "s", "periods": 2}, GOOD_CSV + b"p1,2025-11-03,9\n")
    assert first["forecasts"][0]["history_periods"] == 2 and longer.json()["forecasts"][0]["history_periods"] == 3


def test_a_different_request_is_not_served_the_cached_bytes(client):
    body = payload("forecast")
    first = client.post(f"{PREFIX}/forecast", json=body).json()
    other = copy.deepcopy(body)
    other["sales"][-1]["qty"] += 5
    second = client.post(f"{PREFIX}/forecast", json=other).json()
    assert second["meta"]["cache"] == "miss" and second["forecasts"] != first["forecasts"]


def test_a_datetime_without_a_zone_counts_as_the_date_written_in_every_form(client):
    rows = [{"product_id": "p1", "date": f"2025-11-0{d} 08:26:00", "qty": 2.0} for d in range(1, 4)]
    body = {"shop_id": "s", "range": {"start": "2025-11-01", "end": "2025-11-03"}, "granularity": "daily"}
    as_rows = client.post(f"{PREFIX}/insights", json={**body, "sales": rows}).json()
    series = [{"product_id": "p1", "start": "2025-11-01T08:26", "qty": [2.0, 2.0, 2.0]}]
    as_series = client.post(f"{PREFIX}/insights", json={**body, "series": series}).json()
    assert [p["total_sales"] for p in as_rows["series"]] == [2.0, 2.0, 2.0]
    assert as_series["series"] == as_rows["series"]


@pytest.mark.parametrize("path", ["models/train", "forecast/batch"])
def test_a_jobs_upload_reports_what_reading_it_did(client, settings, path):
    """Each rule once (issue #24): the batch's training and its 3 chunks read the same lines, and a backend summing
    the counts must count each line once."""
    settings.batch_chunk_size = 2
    export = pos_export(days=120)
    accepted = upload(client, f"{PREFIX}/{path}", {"shop_id": "till", "periods": 14, "csv": OPTIONS}, export.csv)
    assert accepted.status_code == 202, accepted.text
    job, _ = follow(client, accepted.json()["job_id"], timeout=300)
    assert job["state"] == "succeeded", job["errors"]
    codes = [w["code"] for w in job["warnings"]]
    assert {"csv_columns_ignored", "revenue_from_unit_price", "lines_aggregated"} <= set(codes), codes
    assert len(codes) == len(set(codes)), codes
    counts = {w["code"]: w["count"] for w in job["warnings"]}
    assert counts["revenue_from_unit_price"] == len(export.rows)
