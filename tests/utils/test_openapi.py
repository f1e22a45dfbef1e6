"""The OpenAPI document lists every refusal an operation can answer, so generated clients type them."""

import jsonschema_rs

BODY_REFUSALS = {"400", "408", "413", "415", "422", "431"}


def test_every_operation_lists_the_error_answers_it_can_return(client):
    operations = {(method.upper(), path): operation
                  for path, item in client.get("/openapi.json").json()["paths"].items()
                  for method, operation in item.items()}
    posts = [key for key, operation in operations.items() if "requestBody" in operation]
    assert sorted(path for _, path in posts) == [
        "/api/v1/smart-shelf/anomalies", "/api/v1/smart-shelf/at-risk", "/api/v1/smart-shelf/forecast",
        "/api/v1/smart-shelf/forecast/batch", "/api/v1/smart-shelf/insights", "/api/v1/smart-shelf/models/train",
        "/api/v1/smart-shelf/promotions",
        "/api/v1/smart-shelf/reorder"]
    for key in posts:
        assert set(operations[key]["responses"]) >= BODY_REFUSALS, key
    for key, operation in operations.items():
        refusal = operation["responses"].get("431")
        assert refusal and "MAX_HEADER_BYTES" in refusal["description"], key
        assert refusal["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
    described = operations[("POST", "/api/v1/smart-shelf/at-risk")]["responses"]
    assert "BODY_TIMEOUT_SECONDS" in described["408"]["description"]
    assert "multipart/form-data" in described["415"]["description"]


def test_every_json_body_schema_states_whether_sales_are_required(client):
    """A request body the schema accepts is not refused for lacking sales: the operations that answer 422 "no
    sales" (forecast, batch, training, reorder) publish it (`anyOf` sales rows or a series value, and a sentence
    in the description); the others accept a body without sales."""
    document = client.get("/openapi.json").json()
    required = []
    for path, item in document["paths"].items():
        body = item.get("post", {}).get("requestBody", {}).get("content", {}).get("application/json")
        if body is None:
            continue
        schema = {**body["schema"], "components": document["components"]}
        example = next(e["value"] for e in body["examples"].values() if "sales" in e["value"] or "series" in e["value"])
        assert jsonschema_rs.is_valid(schema, example), path
        without = {key: value for key, value in example.items() if key not in ("sales", "series")}
        empty_series = {**without, "series": [{"product_id": "p1", "start": "2025-01-01", "qty": []}]}
        for body_without_sales in (without, empty_series):
            answer = client.post(path, json=body_without_sales)
            refused = answer.status_code == 422 and [d["field"] for d in answer.json()["detail"]] == ["sales"]
            assert jsonschema_rs.is_valid(schema, body_without_sales) is not refused, (path, answer.text[:200])
        if not jsonschema_rs.is_valid(schema, without):
            required.append(path.rsplit("smart-shelf/", 1)[1])
            name = body["schema"]["$ref"].rsplit("/", 1)[1]
            assert "Sales are required" in document["components"]["schemas"][name]["description"]
    assert sorted(required) == ["forecast", "forecast/batch", "models/train", "reorder"]
