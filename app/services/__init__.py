"""Business logic, one room (subpackage) per capability. Each room's docstring says what it holds and
which other rooms it may import; `tests/test_layers.py` holds them to it:

- `forecasting/`: demand forecasts, the forecast path in one function (`pipeline.py`), shop models.
- `decisions/`: what the shop acts on: at-risk stock, reorder, promotions, discount sizing.
- `analytics/`: what the sales say: insights, anomalies, forecast plots.
- `jobs/`: work that outlives a request: batch forecasts and trainings, their store and runners.
- `records/`: the service's own records: the audit trail, the model store's clean-up, readiness.

Rooms import `app.models`, `app.utils`, `app.schemas` and `app.config`, never `app.routes` or `app.tasks`.
"""
