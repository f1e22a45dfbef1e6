"""The forecast path (its cache and store) against a real Redis: hits, tenants, disk, tampering, outages,
single flight, the read path and accuracy monitoring."""

import json
import shutil
import socket
import subprocess
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.models import store
from app.schemas.forecast import ForecastRequest
from app.services.forecasting import artifacts, monitoring, pipeline
from app.services.forecasting.spec import spec_of
from app.utils.cache import make_cache
from app.utils.errors import NotFoundError

PREFIX = "/api/v1/smart-shelf"
WEEK = [12, 10, 11, 13, 18, 24, 21]


def body(shop: str = "shop_a", days: int = 84, scale: float = 1.0, product: str = "p1", **extra) -> dict:
    start = date(2025, 6, 2)
    sales = [{"product_id": product, "date": (start + timedelta(days=k)).isoformat(),
              "qty": float(round(WEEK[k % 7] * scale + (k * 7919) % 5))} for k in range(days)]
    return {"shop_id": shop, "sales": sales, "periods": 7, "confidence_interval": 0.9, **extra}


def make_client(tmp_path: Path, redis_url: str | None, **settings) -> TestClient:
    config = Settings(_env_file=None, model_dir=str(tmp_path / "models"), redis_url=redis_url,  # type: ignore[call-arg]
                      model_signing_key="test-key", **settings)
    return TestClient(create_app(config))


def predictions(response) -> list:
    return [f["predictions"] for f in response.json()["forecasts"]]


@pytest.fixture
def client(tmp_path, redis_url):
    with make_client(tmp_path, redis_url) as test_client:
        yield test_client


pytestmark = pytest.mark.redis


def test_same_request_twice_is_a_hit_with_the_identical_forecast(client):
    first = client.post(f"{PREFIX}/forecast", json=body())
    second = client.post(f"{PREFIX}/forecast", json=body())
    assert first.json()["meta"]["cache"] == "miss"
    assert second.json()["meta"]["cache"] == "hit"
    assert predictions(first) == predictions(second)
    assert first.json()["forecasts"][0]["model_version"] == second.json()["forecasts"][0]["model_version"]


def test_a_shorter_horizon_is_the_first_days_of_the_28_day_answer(client):
    """The per-request models are chosen for 28 days whatever `periods` asks (up to 28): the same sales' forecast
    for a day does not change with the horizon asked, and the shorter answer is read from the longer one's cache."""
    month = client.post(f"{PREFIX}/forecast", json=body(periods=28)).json()
    week = client.post(f"{PREFIX}/forecast", json=body(periods=7)).json()
    fortnight = client.post(f"{PREFIX}/forecast", json=body(periods=14)).json()
    assert month["meta"]["cache"] == "miss"
    assert (week["meta"]["cache"], fortnight["meta"]["cache"]) == ("hit", "hit")
    assert (week["meta"]["periods"], len(week["forecasts"][0]["predictions"])) == (7, 7)
    assert week["forecasts"][0]["predictions"] == month["forecasts"][0]["predictions"][:7]
    assert fortnight["forecasts"][0]["predictions"] == month["forecasts"][0]["predictions"][:14]
    assert {week["forecasts"][0]["model_version"], fortnight["forecasts"][0]["model_version"]} == {
        month["forecasts"][0]["model_version"]}


def test_changed_history_is_a_miss_with_a_new_model_version(client):
    first = client.post(f"{PREFIX}/forecast", json=body(days=84)).json()
    changed = client.post(f"{PREFIX}/forecast", json=body(days=85)).json()
    assert changed["meta"]["cache"] == "miss"
    assert changed["forecasts"][0]["model_version"] != first["forecasts"][0]["model_version"]


def test_a_product_sent_with_other_products_is_not_answered_from_another_requests_cache(client):
    """The local families learn across the request's products (the boosted one, the per-band choice): the same
    product sent beside other products is another forecast, never the cached answer of the first request."""
    own = body()["sales"]
    with_p2 = {**body(), "sales": own + body(product="p2", scale=3.0)["sales"], "product_ids": ["p1"]}
    with_p3 = {**body(), "sales": own + body(product="p3", scale=0.2)["sales"], "product_ids": ["p1"]}
    assert client.post(f"{PREFIX}/forecast", json=with_p2).json()["meta"]["cache"] == "miss"
    assert client.post(f"{PREFIX}/forecast", json=with_p3).json()["meta"]["cache"] == "miss"
    assert client.post(f"{PREFIX}/forecast", json=with_p2).json()["meta"]["cache"] == "hit"


def test_same_product_in_two_shops_never_shares_an_answer(client):
    a = client.post(f"{PREFIX}/forecast", json=body(shop="shop_a", scale=1.0)).json()
    b = client.post(f"{PREFIX}/forecast", json=body(shop="shop_b", scale=3.0)).json()
    assert b["meta"]["cache"] == "miss"
    first_b, first_a = (x["forecasts"][0]["predictions"][0]["predicted_qty"] for x in (b, a))
    assert first_b > 2 * first_a
    latest_a = client.get(f"{PREFIX}/forecast/shop_a/p1").json()
    assert latest_a["predictions"] == a["forecasts"][0]["predictions"]


def test_redis_flushed_answers_from_the_signed_disk_artifact(client, redis_url):
    import redis

    first = client.post(f"{PREFIX}/forecast", json=body())
    redis.Redis.from_url(redis_url).flushdb()
    again = client.post(f"{PREFIX}/forecast", json=body())
    assert again.json()["meta"]["cache"] == "disk"
    assert predictions(again) == predictions(first)


def test_tampered_artifact_is_refused_and_retrained(client, redis_url, tmp_path, capsys):
    import redis

    client.post(f"{PREFIX}/forecast", json=body())
    [model_file] = list((tmp_path / "models").glob("*/*/model.joblib"))
    model_file.write_bytes(model_file.read_bytes()[:-8] + b"tampered")
    redis.Redis.from_url(redis_url).flushdb()
    again = client.post(f"{PREFIX}/forecast", json=body())
    assert again.status_code == 200 and again.json()["meta"]["cache"] == "miss"
    assert "artifact_rejected" in capsys.readouterr().out
    artifact_id = model_file.parent.name
    loaded, _ = store.load(str(tmp_path / "models"), "shop_a", artifact_id, "test-key")  # re-written, valid
    assert loaded.wanted == ["p1"]


def test_artifact_older_than_model_cache_days_is_retrained(tmp_path):
    settings = Settings(_env_file=None, model_dir=str(tmp_path / "models"), model_cache_days=7)  # type: ignore[call-arg]
    request = spec_of(ForecastRequest.model_validate(body()))
    saved_at = time.time()
    first = pipeline.forecast(request, settings, make_cache(None), "test-key", clock=lambda: saved_at)
    assert first.meta.cache == "miss"

    def answer(days_later: float) -> str:  # an empty cache each time, so the artifact on disk is what is read
        clock = lambda: saved_at + days_later * 86400  # noqa: E731
        return pipeline.forecast(request, settings, make_cache(None), "test-key", clock=clock).meta.cache

    assert answer(6.9) == "disk"  # within MODEL_CACHE_DAYS=7: served from the artifact
    assert answer(8) == "miss"  # older: retrained


def test_artifacts_signed_with_another_key_are_not_loaded(tmp_path):
    store.save(str(tmp_path), "s", "a1", {"x": 1}, {"product_ids": ["p"]}, "key-1")
    with pytest.raises(store.ArtifactRejected, match="signature"):
        store.load(str(tmp_path), "s", "a1", "key-2")
    assert store.load(str(tmp_path), "s", "a1", "key-1")[0] == {"x": 1}


def test_read_path_returns_latest_without_training_and_404_otherwise(client):
    client.post(f"{PREFIX}/forecast", json=body(days=84))
    newest = client.post(f"{PREFIX}/forecast", json=body(days=90)).json()["forecasts"][0]
    latest = client.get(f"{PREFIX}/forecast/shop_a/p1")
    assert latest.status_code == 200
    assert latest.json()["model_version"] == newest["model_version"]
    missing = client.get(f"{PREFIX}/forecast/shop_a/nope")
    assert missing.status_code == 404
    assert "no stored forecast for product 'nope'" in missing.json()["message"]


def test_concurrent_identical_misses_train_once(client, monkeypatch):
    calls = []
    real_train = artifacts.train

    def counting_train(*args, **kwargs):
        calls.append(1)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(artifacts, "train", counting_train)
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(client.post(f"{PREFIX}/forecast", json=body())))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert sorted(r.json()["meta"]["cache"] for r in results) == ["hit", "hit", "hit", "miss"]
    assert len({json.dumps(predictions(r)) for r in results}) == 1


def test_realized_accuracy_and_drift_are_reported(client):
    first = client.post(f"{PREFIX}/forecast", json=body(days=84)).json()["forecasts"][0]
    normal = client.post(f"{PREFIX}/forecast", json=body(days=91)).json()["forecasts"][0]
    realized = normal["realized_accuracy"]
    assert realized["model_version"] == first["model_version"] and realized["periods"] == 7
    actual = [b["qty"] for b in body(days=91)["sales"][84:]]
    predicted = [p["predicted_qty"] for p in first["predictions"]]
    assert realized["mae"] == pytest.approx(np.mean(np.abs(np.array(actual) - predicted)), abs=1e-3)
    assert realized["drift"] is False
    surge = body(days=98)
    for row in surge["sales"][91:]:
        row["qty"] *= 6
    drifted = client.post(f"{PREFIX}/forecast", json=surge).json()["forecasts"][0]
    assert drifted["realized_accuracy"]["drift"] is True
    assert "drift_detected" in {w["code"] for w in drifted["warnings"]}
    summary = client.get(f"{PREFIX}/accuracy/shop_a").json()
    assert summary["products"]["p1"]["drift"] is True
    assert sum(f["drifting"] for f in summary["families"].values()) == 1
    assert client.get(f"{PREFIX}/accuracy/unknown_shop").status_code == 404


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_redis(port: int) -> subprocess.Popen:
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no"], stdout=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return server
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server binary not installed")
def test_redis_stopped_mid_traffic_degrades_and_recovers_without_restart(tmp_path, redis_url):
    port = _free_port()
    server = _start_redis(port)
    try:
        with make_client(tmp_path, f"redis://127.0.0.1:{port}/0") as client:
            assert client.post(f"{PREFIX}/forecast", json=body()).json()["meta"]["cache"] == "miss"
            assert client.get("/health/ready").json()["status"] == "ready"
            server.terminate()
            server.wait(10)
            during = client.post(f"{PREFIX}/forecast", json=body())
            assert during.status_code == 200 and during.json()["meta"]["cache"] == "disk"
            ready = client.get("/health/ready").json()
            assert ready["status"] == "degraded" and ready["checks"]["redis"] == "down"
            server = _start_redis(port)
            time.sleep(2.1)  # the down-marker expires
            assert client.get("/health/ready").json()["status"] == "ready"
            client.post(f"{PREFIX}/forecast", json=body(days=85))
            assert client.post(f"{PREFIX}/forecast", json=body(days=85)).json()["meta"]["cache"] == "hit"
    finally:
        server.terminate()
        server.wait(10)


def test_cleanup_keeps_newest_versions_per_product_and_drops_old(tmp_path):
    now = time.time()
    for k in range(5):
        artifact = store.save(str(tmp_path), "s", f"a{k}", {}, {"product_ids": ["p1"]}, "key")
        meta = json.loads((artifact.path / "meta.json").read_text())
        meta["saved_at"] = now - (5 - k) * 3600
        (artifact.path / "meta.json").write_text(json.dumps(meta, sort_keys=True))
    old = store.save(str(tmp_path), "s", "old", {}, {"product_ids": ["p2"]}, "key")
    meta = json.loads((old.path / "meta.json").read_text())
    meta["saved_at"] = now - 40 * 86400
    (old.path / "meta.json").write_text(json.dumps(meta))
    report = store.cleanup(str(tmp_path), keep_per_product=2, max_age_days=30, now=now)
    names = sorted(Path(p).name for p in report["removed"])
    assert names == ["a0", "a1", "a2", "old"]
    assert report["kept"] == 2


def test_unwritable_model_dir_still_answers_and_leaves_no_partial_artifact(tmp_path, redis_url, capsys):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the model directory should be")  # root ignores chmod; this always fails
    config = Settings(_env_file=None, model_dir=str(blocker / "models"), redis_url=redis_url,  # type: ignore[call-arg]
                      model_signing_key="k")
    with TestClient(create_app(config)) as client:
        response = client.post(f"{PREFIX}/forecast", json=body())
    assert response.status_code == 200 and response.json()["meta"]["cache"] == "miss"
    assert "artifact_not_saved" in capsys.readouterr().out
    assert not list(tmp_path.rglob("model.joblib")) and not list(tmp_path.rglob(".model.joblib*"))


@pytest.fixture
def full_disk(tmp_path):
    """A 256 KiB tmpfs filled to within 1 KiB: every artifact write runs out of space (needs root)."""
    mount_point = tmp_path / "full"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        free = shutil.disk_usage(mount_point).free
        (mount_point / "filler").write_bytes(b"\0" * (free - 1024))
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def test_full_model_dir_still_answers_logs_it_and_leaves_no_partial_artifact(full_disk, redis_url, capsys):
    config = Settings(_env_file=None, model_dir=str(full_disk / "models"), redis_url=redis_url,  # type: ignore[call-arg]
                      model_signing_key="k")
    with TestClient(create_app(config)) as client:
        response = client.post(f"{PREFIX}/forecast", json=body(days=200))
    assert response.status_code == 200 and response.json()["meta"]["cache"] == "miss"
    out = capsys.readouterr().out
    assert "artifact_not_saved" in out and "No space left on device" in out
    parts = {"model.joblib", "meta.json", "model.sig"}
    for folder in (p for p in full_disk.rglob("*") if p.is_dir()):
        present = {f.name for f in folder.iterdir()} & parts
        assert present in (set(), parts), folder  # an artifact is complete or absent
    assert not list(full_disk.rglob(".*"))  # no temporary file or staging folder left behind


def test_forecast_arrays_are_the_cached_answer_as_numbers(tmp_path):
    settings = Settings(_env_file=None, model_dir=str(tmp_path / "models"))  # type: ignore[call-arg]
    cache = make_cache(None)
    spec = spec_of(ForecastRequest.model_validate(body()))
    answer = pipeline.forecast(spec, settings, cache, "test-key")
    arrays = pipeline.forecast_arrays(spec, settings, cache, "test-key")
    assert (answer.meta.cache, arrays.cache) == ("miss", "hit")
    assert arrays.product_ids == [f.product_id for f in answer.forecasts]
    assert arrays.methods == [f.method for f in answer.forecasts]
    assert arrays.forecast.shape == (len(answer.forecasts), spec.periods)
    np.testing.assert_array_equal(arrays.forecast, [[p.predicted_qty for p in f.predictions]
                                                    for f in answer.forecasts])
    np.testing.assert_array_equal(arrays.short_term_rmse, [np.nan if f.short_term_rmse is None else
                                                           f.short_term_rmse for f in answer.forecasts])


def test_forecast_arrays_read_from_the_cache_close_the_closed_days_and_keep_the_answers_warnings(tmp_path):
    settings = Settings(_env_file=None, model_dir=str(tmp_path / "models"))  # type: ignore[call-arg]
    cache = make_cache(None)
    spec = spec_of(ForecastRequest.model_validate(body(closed_weekdays=["sunday"])))
    pipeline.forecast(spec, settings, cache, "test-key")  # trained and cached
    answer = pipeline.forecast(spec, settings, cache, "test-key")  # the whole answer, from the cache
    arrays = pipeline.forecast_arrays(spec, settings, cache, "test-key")
    assert (answer.meta.cache, arrays.cache) == ("hit", "hit")
    assert len(answer.meta.closed_dates) == 1
    np.testing.assert_array_equal(arrays.forecast, [[p.predicted_qty for p in f.predictions]
                                                    for f in answer.forecasts])
    assert (arrays.forecast == 0).sum() == 1  # the Sunday of the week ahead
    assert arrays.warnings == answer.warnings


def test_forecast_arrays_of_a_cached_answer_still_score_an_earlier_forecast_of_another_version(tmp_path):
    settings = Settings(_env_file=None, model_dir=str(tmp_path / "models"))  # type: ignore[call-arg]
    cache = make_cache(None)
    later = spec_of(ForecastRequest.model_validate(body(days=91)))
    earlier = spec_of(ForecastRequest.model_validate(body(days=84)))
    pipeline.forecast(later, settings, cache, "test-key")
    made = pipeline.forecast(earlier, settings, cache, "test-key").forecasts[0]  # now the latest; its days are sold
    with pytest.raises(NotFoundError):  # by days 84-90 of `later`, which have not been scored yet
        monitoring.shop_accuracy("shop_a", settings)
    arrays = pipeline.forecast_arrays(later, settings, cache, "test-key")
    assert arrays.cache == "hit"
    scored = monitoring.shop_accuracy("shop_a", settings)["products"]["p1"]
    assert (scored["model_version"], scored["periods"]) == (made.model_version, 7)
