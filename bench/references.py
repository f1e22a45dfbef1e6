"""The conventional pandas way to compute the same core numbers, for side-by-side timing.

This is what a retailer's team would stitch together with pandas (records -> DataFrame ->
groupby/merge); each returns the numbers our services return so the timings compare like work.
"""

import numpy as np
import pandas as pd


def at_risk_pandas(inventory: list[dict], sales: list[dict], as_of: str, window: int = 30,
                   low_stock: float = 10, expiry_days: int = 7, slow: float = 0.5) -> pd.DataFrame:
    inv = pd.DataFrame(inventory)
    frame = pd.DataFrame(sales)
    frame["date"] = pd.to_datetime(frame["date"])
    today = pd.Timestamp(as_of)
    recent = frame[(frame["date"] > today - pd.Timedelta(days=window)) & (frame["date"] <= today)]
    rate = (recent.groupby("product_id")["qty"].sum() / window).rename("rate")
    inv = inv.merge(rate, left_on="product_id", right_index=True, how="left").fillna({"rate": 0.0})
    inv["days_to_expiry"] = (pd.to_datetime(inv["expiry_date"]) - today).dt.days
    inv["low"] = inv["quantity"] <= low_stock
    inv["near"] = inv["days_to_expiry"].between(0, expiry_days)
    inv["slow"] = (inv["quantity"] > 0) & (inv["rate"] < slow)
    inv["unsold"] = (inv["quantity"] - inv["rate"] * inv["days_to_expiry"].clip(lower=0)).clip(lower=0)
    flagged = inv[inv["low"] | inv["near"] | inv["slow"] | (inv["unsold"] > 0)]
    return flagged.sort_values("unsold", ascending=False)


def insights_pandas(sales: list[dict], start: str, end: str, top_k: int = 10) -> dict:
    frame = pd.DataFrame(sales)
    frame["date"] = pd.to_datetime(frame["date"])
    frame = frame[(frame["date"] >= start) & (frame["date"] <= end)]
    daily = frame.groupby("date")[["qty", "revenue"]].sum().reindex(pd.date_range(start, end), fill_value=0)
    daily["ma7"] = daily["qty"].rolling(7, min_periods=1).mean()
    daily["ma30"] = daily["qty"].rolling(30, min_periods=1).mean()
    totals = frame.groupby("product_id")[["qty", "revenue"]].sum().nlargest(top_k, "qty")
    top = frame[frame["product_id"].isin(totals.index)]
    per_day = top.pivot_table(index="date", columns="product_id", values="qty", aggfunc="sum")
    per_day = per_day.reindex(pd.date_range(start, end)).fillna(0)
    slopes = {p: np.polyfit(np.arange(len(per_day)), per_day[p].to_numpy(), 1)[0] for p in per_day.columns}
    weekday = daily["qty"].groupby(daily.index.day_of_week).mean().idxmax()
    month = daily["qty"].groupby(daily.index.month).mean().idxmax()
    return {"series": daily, "top": totals, "slopes": slopes, "peak": (weekday, month)}


def promotions_pandas(items: list[dict], events: list[dict], as_of: str, elasticity: float = 2.0,
                      max_discount: float = 40.0) -> pd.DataFrame:
    left = pd.DataFrame(items)
    left["expiry"] = pd.to_datetime(left["expiry_date"])
    right = pd.DataFrame(events).rename(columns={"id": "event_id", "date": "event_date"})
    right["event_date"] = pd.to_datetime(right["event_date"])
    pairs = left.merge(right, how="cross")
    today = pd.Timestamp(as_of)
    pairs = pairs[(pairs["event_date"] >= today) & (pairs["event_date"] < pairs["expiry"])].copy()
    pairs["fit"] = [0.25 + 0.75 * (a.rstrip("s") in " ".join(c)) for a, c in zip(pairs["audience"], pairs["categories"],
                                                                                strict=True)]
    days_left = (pairs["expiry"] - today).dt.days
    pairs["score"] = 0.6 * pairs["fit"] + 0.4 * (1 - (pairs["event_date"] - today).dt.days / days_left)
    best = pairs.sort_values(["product_id", "score"], ascending=[True, False]).groupby("product_id").head(1).copy()
    selling = (best["expiry"] - best["event_date"]).dt.days + 2
    needed = (best["quantity"] / (best["avg_daily_sales"] * selling) - 1).clip(lower=0) * 100 / elasticity
    best["discount"] = (np.ceil(needed / 5) * 5).clip(5, max_discount)
    return best
