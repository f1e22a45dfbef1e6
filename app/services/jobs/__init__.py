"""Jobs: work that outlives its request. Accepting and reading jobs (`intake.py`), planning and running
batch forecasts and shop-model trainings in chunks (`batch_jobs.py`), the in-process runner
(`batch_runner.py`; Celery's lives in `app.tasks`), the job store (`job_store.py`, `job_records.py`) and
what a job needs from the calling backend (`backend_contract.py`).

May import: `forecasting` and `records`. Never `decisions` or `analytics`.
"""
