"""The shop model's accuracy in process: trained as the service trains it, scored on the data README's holdouts.

For trying a change to the shop model before the HTTP benchmarks (bench/accuracy.py, bench/bakery.py), which
take about ten times as long. Per holdout:
1. the training request the HTTP benchmark sends (`TrainRequest`: the series with revenue where the data has
   prices and the data's event dates; the bakery: its export as downloaded, a CSV upload with `as_of` at the
   training end), turned into the training panel by `training_panel`, as the training job does;
2. `ShopModel.fit` on it (timed: the training seconds the card reports);
3. every product forecast from the training panel (`ShopModel.forecast`: the served choice) and by the served
   trees alone, scored with bench/scoring.py on the periods after the split (WRMSSE where the holdout has
   revenue weights, else MASE).
It differs from the HTTP runs in one way: each product is forecast from the training panel, not from a request
of its own (the same history; the bakery's requests also cut at `as_of`). At 000d711, seed 0, on 2 cores shared
with other jobs (served / trees alone, fit seconds): M5 WRMSSE 0.8443 / 0.8408, 164 s; french-bakery MASE
0.6919 / 0.6721, 18 s; walmart-weekly MASE 0.7486 / 0.7900, 98 s; store-item MASE 0.7120 / 0.7120, 125 s.

Usage: python -m bench.shop_in_process [m5-tx3-foods3|french-bakery|walmart-weekly|store-item ...] [--seed N]
"""

import json
import sys
import time

import numpy as np
import pandas as pd

from app.config import Settings
from app.models.panel import Panel
from app.models.shop_model import ShopModel
from app.schemas.sales import CsvOptions
from app.schemas.shop_models import TrainRequest
from app.services.forecasting.shop_models import train_spec, training_panel
from app.utils.dates import from_day_number
from app.utils.sales_csv import read_sales_csv
from bench import bakery
from bench.accuracy import _series
from bench.accuracy_data import HOLDOUTS, Holdout
from bench.scoring import score

BAKERY = "french-bakery"


def training(key: str) -> tuple[Holdout, Panel]:
    """The holdout and the panel the service trains on from the HTTP benchmark's training request."""
    if key == BAKERY:
        holdout = bakery.bakery_holdout()
        block = read_sales_csv(bakery.EXPORT.read_bytes(), bakery.EXPORT.name, 2**34, (2**40, "unbounded"),
                               CsvOptions.model_validate(bakery.CSV_OPTIONS))
        request = TrainRequest.model_validate({"shop_id": "bakery", "as_of": bakery.TRAIN_END,
                                               "periods": bakery.HORIZON, "csv": bakery.CSV_OPTIONS})
        request.attach_upload(block)
    else:
        holdout = HOLDOUTS[key]()
        request = TrainRequest.model_validate({
            "shop_id": "bench", "periods": holdout.horizon, "calendar_events": [{"date": d} for d in holdout.events],
            **({"frequency": "weekly"} if holdout.weekly else {}), "series": list(_series(holdout).values())})
    panel, _, _ = training_panel(train_spec(request), Settings())
    return holdout, panel


def forecast_frame(panel: Panel, values: np.ndarray) -> pd.DataFrame:
    """float64[n, horizon] forecasts after the panel's last period as bench/scoring.py's (unique_id, ds, yhat)."""
    horizon = values.shape[1]
    last = panel.first_day + (panel.n_periods - 1) * panel.step
    days = np.array([pd.Timestamp(from_day_number(last + (k + 1) * panel.step)) for k in range(horizon)],
                    dtype="datetime64[ns]")
    return pd.DataFrame({"unique_id": np.repeat(np.array(panel.product_ids, dtype=object), horizon),
                         "ds": np.tile(days, panel.n_products), "yhat": values.ravel()})


def run(key: str, seed: int = 0) -> dict:
    holdout, panel = training(key)
    started = time.perf_counter()
    model = ShopModel(horizon=holdout.horizon, random_state=seed).fit(panel)
    seconds = time.perf_counter() - started
    served, _ = model.forecast(panel, holdout.horizon)
    trees = np.maximum(model.trees_.forecast(model.tree_history(panel), holdout.horizon), 0.0)
    metric = "wrmsse" if holdout.weights is not None else "mase"
    return {"holdout": key, "seed": seed, "fit_seconds": round(seconds, 1), "metric": metric,
            "served": round(score(holdout, forecast_frame(panel, served))[metric], 4),
            "trees_alone": round(score(holdout, forecast_frame(panel, trees))[metric], 4)}


def main(args: list[str]) -> None:
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 0
    keys = [a for a in args if not a.startswith("--") and not a.isdigit()] or [BAKERY, *HOLDOUTS]
    for key in keys:
        print(json.dumps(run(key, seed)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
