"""Benchmark payloads built from the real retail data in ../shared/data (never tuned on it)."""

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
STORE_ITEM = SHARED_DATA / "store-item" / "train.csv.gz"


@lru_cache(maxsize=1)
def store_item() -> pd.DataFrame:
    """Daily unit sales of 500 store-item series, 2013-01-01 .. 2017-12-31."""
    if not STORE_ITEM.exists():
        raise SystemExit(f"benchmark data missing: {STORE_ITEM}")
    return pd.read_csv(STORE_ITEM, parse_dates=["date"])


def daily_panel(n_products: int, days: int, end: str = "2017-12-31") -> tuple[np.ndarray, pd.DatetimeIndex]:
    """units[n_products, days] of real series: product k is series k % 500, each lap of 500 taken
    from an earlier window of the five years."""
    frame = store_item()
    wide = frame.pivot_table(index="date", columns=["store", "item"], values="sales").sort_index()
    end_ts = pd.Timestamp(end)
    dates = pd.date_range(end=end_ts, periods=days, freq="D")
    units = np.empty((n_products, days))
    for lap in range((n_products + 499) // 500):
        back = (lap * max(days, 7)) % (len(wide) - days)
        shifted = wide.loc[end_ts - pd.Timedelta(days=back + days - 1): end_ts - pd.Timedelta(days=back)]
        block = shifted.to_numpy().T
        rows = slice(lap * 500, min((lap + 1) * 500, n_products))
        units[rows] = block[: rows.stop - rows.start, -days:]
    return units, dates


def sales_rows(units: np.ndarray, dates: pd.DatetimeIndex, every: int = 1) -> list[dict]:
    """Contract sales rows for every `every`-th day of each product (zero days left out, as POS exports do)."""
    iso = dates.strftime("%Y-%m-%d").tolist()
    return [
        {"product_id": f"p{k:06d}", "date": iso[d], "qty": float(units[k, d]),
         "revenue": round(float(units[k, d]) * 2.5, 2)}
        for k in range(units.shape[0])
        for d in range(0, units.shape[1], every)
        if units[k, d] != 0
    ]
