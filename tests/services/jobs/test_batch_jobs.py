"""Planning a scheduled job: the chunk specs Celery carries as JSON and the job's meta, key for key."""

import json
from datetime import date

from app.config import Settings
from app.services.jobs.batch_jobs import plan_shop_job


def test_a_shop_is_planned_into_json_chunk_specs_of_a_fixed_shape(tmp_path):
    settings = Settings(_env_file=None, model_dir=str(tmp_path), batch_chunk_size=2,  # type: ignore[call-arg]
                        batch_history_days=28)
    shop = {"shop_id": "shop_1", "product_ids": ["p3", "p1", "p2", "p1"], "periods": 7}
    job_id, meta, specs, training = plan_shop_job("daily_forecast_batch", shop, date(2025, 11, 20), settings, push=True)
    assert job_id.startswith("daily_forecast_batch-2025-11-20-") and training is None  # only the retrain trains
    assert json.loads(json.dumps(specs)) == specs  # travels to the workers as JSON, unchanged
    assert specs[1] == {
        "job_id": job_id, "index": 1, "chunks": 2, "source": "backend", "push": True, "shop_id": "shop_1",
        "product_ids": ["p3"], "batch_date": "2025-11-20", "since": "2025-10-23", "as_of": "2025-11-19",
        "options": {"periods": 7, "confidence_interval": 0.95, "model": "auto", "frequency": "auto"}}
    assert [spec["product_ids"] for spec in specs] == [["p1", "p2"], ["p3"]]
    assert list(meta) == ["kind", "shop_id", "created_at", "chunks", "total", "chunk_products", "push", "batch_date"]
    assert (meta["chunks"], meta["total"], meta["chunk_products"]) == (2, 3, [2, 1])
