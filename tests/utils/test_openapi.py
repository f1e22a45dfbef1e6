"""The OpenAPI document lists every refusal an operation can answer, so generated clients type them."""

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
