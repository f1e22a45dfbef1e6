"""What the service learned survives: a restart with the default settings, a retrain, concurrent trainings.

Issue 25, items 1 and 3: real server processes (restart), real Redis (byte cache), real threads (retrains).
"""

import json
import shutil
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.models import store
from app.models.signing_key import KEY_FILE
from app.schemas.shop_models import TrainRequest
from app.services.forecasting.shop_models import artifact_id, train_shop_model, train_spec
from tests.services.forecasting.test_shop_models import catalogue
from tests.support.jobs import follow
from tests.support.server import serving

PREFIX = "/api/v1/smart-shelf"


def train(api, series: list[dict], shop: str = "shop_1") -> str:
    """Train the shop's model through the API; its model version."""
    accepted = api.post(f"{PREFIX}/models/train", json={"shop_id": shop, "series": series, "periods": 7})
    assert accepted.status_code == 202, accepted.text
    job, _ = follow(api, accepted.json()["job_id"])
    assert job["state"] == "succeeded", job["errors"]
    return job["shop_model"]["card"]["model_version"]


@pytest.fixture(scope="module")
def series(store_item: pd.DataFrame) -> list[dict]:
    return catalogue(store_item, days=250)


def test_a_restart_with_the_default_settings_serves_the_same_shop_model(tmp_path: Path, series):
    env = {"MODEL_DIR": str(tmp_path / "models")}  # no MODEL_SIGNING_KEY, no REDIS_URL: the embedded default
    with serving(env) as first:
        version = train(first, series)
    key_file = tmp_path / "models" / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with serving(env) as second:  # a new process
        card = second.get(f"{PREFIX}/models/shop_1")
        assert card.status_code == 200, card.text
        assert card.json()["model_version"] == version
        answer = second.post(f"{PREFIX}/forecast", json={"shop_id": "shop_1", "series": series[:2], "periods": 7})
        assert answer.json()["meta"]["shop_model"]["model_version"] == version
        assert answer.json()["warnings"] == []


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory: pytest.TempPathFactory, series) -> Path:
    model_dir = tmp_path_factory.mktemp("trained")
    settings = Settings(model_dir=str(model_dir), model_signing_key="key-1", _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings)) as api:
        train(api, series)
    return model_dir


def _client(model_dir: Path, key: str | None, redis_url: str | None = None) -> TestClient:
    settings = Settings(model_dir=str(model_dir), model_signing_key=key, redis_url=redis_url,  # type: ignore[call-arg]
                        _env_file=None)
    return TestClient(create_app(settings), raise_server_exceptions=False)


def _refused_everywhere(api: TestClient, shop: str, series: list[dict], why: str) -> None:
    card = api.get(f"{PREFIX}/models/{shop}")
    assert card.status_code == 409, card.text
    assert "stored but refused" in card.json()["message"] and why in card.json()["message"]
    answer = api.post(f"{PREFIX}/forecast", json={"shop_id": shop, "series": series[:1], "periods": 7}).json()
    unused = [w["message"] for w in answer["warnings"] if w["code"] == "shop_model_unused"]
    assert len(unused) == 1 and "stored but refused" in unused[0] and why in unused[0]
    assert "has no usable" not in unused[0]


def test_a_model_signed_with_another_key_is_named_refused_not_missing(trained_dir: Path, series):
    with _client(trained_dir, "key-2") as api:
        _refused_everywhere(api, "shop_1", series, "signed with another MODEL_SIGNING_KEY")
        assert api.get(f"{PREFIX}/models/shop_9").status_code == 404


def test_a_tampered_model_is_named_refused(tmp_path: Path, trained_dir: Path, series):
    model_dir = tmp_path / "copy"
    shutil.copytree(trained_dir, model_dir)
    folder = store.resolve(store.shop_dir(str(model_dir), "shop_1") / artifact_id(1))
    meta = json.loads((folder / "meta.json").read_text())
    meta["card"]["products"] = 1000
    (folder / "meta.json").write_text(json.dumps(meta, sort_keys=True))
    with _client(model_dir, "key-1") as api:
        _refused_everywhere(api, "shop_1", series, "tampered with")


def test_a_shops_model_copied_under_another_shop_is_refused(tmp_path: Path, trained_dir: Path, series):
    model_dir = tmp_path / "copy"
    shutil.copytree(trained_dir, model_dir)
    shutil.copytree(store.shop_dir(str(model_dir), "shop_1"), store.shop_dir(str(model_dir), "shop_2"))
    with _client(model_dir, "key-1") as api:
        assert api.get(f"{PREFIX}/models/shop_1").status_code == 200
        _refused_everywhere(api, "shop_2", series, "signed for shop 'shop_1'")


def trained_by_a_worker(model_dir: Path, series: list[dict]) -> str:
    """Train as a Celery worker does (the service, beside the API); the model version."""
    settings = Settings(model_dir=str(model_dir), model_signing_key="key-1", _env_file=None)  # type: ignore[call-arg]
    spec = train_spec(TrainRequest.model_validate({"shop_id": "shop_1", "series": series, "periods": 7}))
    return train_shop_model(spec, settings, "key-1")[0].model_version


def test_the_same_bytes_after_a_training_are_answered_by_the_new_model(tmp_path: Path, redis_url: str, series):
    body = json.dumps({"shop_id": "shop_1", "series": series[:2], "periods": 7}).encode()
    with _client(tmp_path, "key-1", redis_url) as api:  # the byte cache and answer cache in Redis
        def ask() -> dict:
            answer = api.post(f"{PREFIX}/forecast", content=body, headers={"Content-Type": "application/json"})
            assert answer.status_code == 200, answer.text
            return answer.json()

        before = ask()
        assert before["meta"]["shop_model"] is None
        assert ask()["meta"]["cache"] == "hit"  # the byte cache answers it while nothing changed
        first = trained_by_a_worker(tmp_path, series)
        assert ask()["meta"]["shop_model"]["model_version"] == first
        second = trained_by_a_worker(tmp_path, series[:12])  # other data: another version
        assert second != first
        again = ask()
        assert again["meta"]["shop_model"]["model_version"] == second
        assert again["warnings"] == []


def test_forecasts_during_retrains_never_fall_back(tmp_path: Path, series):
    with _client(tmp_path, "key-1") as api:
        train(api, series)
        answers: list[dict] = []
        stop = threading.Event()

        def forecast_in_a_loop() -> None:
            k = 0
            while not stop.is_set():
                k += 1  # another body each time: each is served by the current model, not the byte cache
                answer = api.post(f"{PREFIX}/forecast", json={"shop_id": "shop_1", "series": series[k % 20:k % 20 + 2],
                                                              "periods": 7})
                answers.append(answer.json())

        reader = threading.Thread(target=forecast_in_a_loop)
        reader.start()
        try:
            versions = {train(api, series[:n]) for n in (14, 18, 22)}
        finally:
            stop.set()
            reader.join()
    assert len(versions) == 3 and len(answers) >= 3
    fallen = [w["message"] for a in answers for w in a.get("warnings", []) if w["code"] == "shop_model_unused"]
    assert fallen == []
    assert all(a["meta"]["shop_model"] is not None for a in answers)


def test_two_concurrent_trainings_of_one_shop_both_succeed(tmp_path: Path, series):
    settings = Settings(model_dir=str(tmp_path), model_signing_key="key-1", _env_file=None)  # type: ignore[call-arg]
    specs = [train_spec(TrainRequest.model_validate({"shop_id": "shop_1", "series": part, "periods": 7}))
             for part in (series, series[:12])]
    with ThreadPoolExecutor(2) as pool:
        cards = [card for card, _ in pool.map(lambda spec: train_shop_model(spec, settings, "key-1"), specs)]
    with _client(tmp_path, "key-1") as api:
        served = api.get(f"{PREFIX}/models/shop_1").json()["model_version"]
    assert served in {card.model_version for card in cards}  # the last one written wins


def test_concurrent_versions_swap_in_whole_while_readers_read(tmp_path: Path):
    model_dir = str(tmp_path)
    store.save_version(model_dir, "s", "shop-model-daily", {"n": -1}, {}, "key")
    errors: list[BaseException] = []

    def write(k: int) -> None:
        for n in range(10):
            store.save_version(model_dir, "s", "shop-model-daily", {"n": k * 100 + n}, {}, "key")

    def read() -> None:
        for _ in range(200):
            try:
                store.load(model_dir, "s", "shop-model-daily", "key")
            except BaseException as exc:
                errors.append(exc)

    with ThreadPoolExecutor(8) as pool:
        done = [pool.submit(write, k) for k in range(4)] + [pool.submit(read) for _ in range(4)]
        for future in done:
            future.result()  # a writer's OSError fails the test here
    assert errors == []
    obj, _ = store.load(model_dir, "s", "shop-model-daily", "key")
    assert obj["n"] % 100 == 9
