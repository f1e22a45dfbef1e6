"""The three standard holdouts of ../shared/data/README.md, as long frames (unique_id, ds, y).

Never tuned on: the splits are the README's, the events and prices are the data's own.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bench.data import SHARED_DATA, store_item

M5 = SHARED_DATA / "m5-tx3-foods3"
M5_TRAIN_END = pd.Timestamp("2016-04-24")  # d_1913


@dataclass(frozen=True)
class Holdout:
    key: str
    name: str
    train: pd.DataFrame  # unique_id, ds, y (every period, zeros included)
    test: pd.DataFrame
    freq: str  # pandas frequency, for the references
    season: int
    horizon: int
    events: list[str]  # ISO dates of the data's events, past and ahead
    revenue: pd.DataFrame | None = None  # unique_id, ds, revenue over the training days (M5)
    weights: pd.Series | None = None  # unique_id -> WRMSSE weight (M5: dollar sales of the last 28 training days)
    from_first_sale: bool = False  # scales (and the references' training) start at each product's first sale
    intermittent: bool = False  # LightGBM reference with a Tweedie loss
    prices: dict[str, dict] | None = None  # product -> price series (past and the horizon's planned prices)
    typed_events: list[dict] | None = None  # calendar_events with their types (benefit days included)
    promotions: dict[str, list[dict]] | None = None  # product -> its promotions (past and the horizon's planned)
    notes: list[str] = field(default_factory=list)

    @property
    def weekly(self) -> bool:
        return self.freq.startswith("W")


def store_item_holdout() -> Holdout:
    frame = store_item().rename(columns={"date": "ds", "sales": "y"})
    frame["unique_id"] = "s" + frame["store"].astype(str) + "_i" + frame["item"].astype(str)
    frame = frame[["unique_id", "ds", "y"]].astype({"y": float})
    cut = pd.Timestamp("2017-10-02")
    return Holdout("store-item", "store-item (500 daily series, train to 2017-10-02, 90 days)",
                   frame[frame.ds <= cut], frame[frame.ds > cut], "D", 7, 90, [])


def walmart_holdout() -> Holdout:
    raw = pd.read_csv(SHARED_DATA / "walmart-weekly" / "train.csv.gz", parse_dates=["Date"])
    raw["unique_id"] = "st" + raw["Store"].astype(str) + "_d" + raw["Dept"].astype(str)
    weeks = raw["Date"].nunique()
    complete = raw.groupby("unique_id")["Date"].transform("size") == weeks
    frame = raw[complete].rename(columns={"Date": "ds", "Weekly_Sales": "y"})[["unique_id", "ds", "y"]]
    cut = frame["ds"].sort_values().unique()[-14]
    features = pd.read_csv(SHARED_DATA / "walmart-weekly" / "features.csv.gz", parse_dates=["Date"])
    holidays = features.loc[features["IsHoliday"], "Date"].drop_duplicates().sort_values()
    events = [d.date().isoformat() for d in holidays]
    typed = [{"date": d.date().isoformat(), "title": WALMART_HOLIDAYS[d.month][0], "type": WALMART_HOLIDAYS[d.month][1]}
             for d in holidays]
    return Holdout("walmart-weekly", f"walmart-weekly ({frame.unique_id.nunique()} complete store-department "
                   "series, last 13 weeks)", frame[frame.ds <= cut], frame[frame.ds > cut], "W-FRI", 52, 13, events,
                   typed_events=typed, promotions=_markdown_promotions(features, frame["unique_id"].unique(),
                                                                           frame["ds"].max()))


# IsHoliday weeks by month: Super Bowl, Labor Day, Thanksgiving, Christmas
WALMART_HOLIDAYS = {2: ("Super Bowl", "sporting"), 9: ("Labor Day", "national"), 11: ("Thanksgiving", "holiday"),
                    12: ("Christmas", "religious")}
BIG_MARKDOWN = 1.5  # a store-week is a promotion when its markdowns exceed this x the store's median markdown week


def _markdown_promotions(features: pd.DataFrame, products: np.ndarray, last: pd.Timestamp) -> dict[str, list[dict]]:
    """Walmart's markdowns as promotions: MarkDown1..5 are anonymised dollar amounts per store and week,
    present nearly every week from Nov 2011 on; a store's big markdown weeks (BIG_MARKDOWN x its median)
    become a promotion of each of its departments (no discount depth: the data has none), consecutive weeks
    merged into one promotion. features.csv runs past the sales: the horizon's markdowns are the plan (up to
    `last`, the holdout's end)."""
    features = features[features["Date"] <= last]
    total = features.filter(like="MarkDown").fillna(0.0).sum(axis=1)
    marked = features.assign(total=total)[total > 0]
    big = marked[marked["total"] > BIG_MARKDOWN * marked.groupby("Store")["total"].transform("median")]
    spans: dict[int, list[dict]] = {}
    for store, weeks in big.groupby("Store")["Date"]:
        dates = weeks.sort_values().reset_index(drop=True)
        run_id = (dates.diff() != pd.Timedelta(days=7)).cumsum()
        spans[int(store)] = [{"start": run.iloc[0].date().isoformat(), "end": run.iloc[-1].date().isoformat(),
                              "kind": "price_cut"} for _, run in dates.groupby(run_id)]
    out = {}
    for product in products:
        store = int(str(product).split("_")[0].removeprefix("st"))
        if spans.get(store):
            out[str(product)] = [{"product_id": str(product), **span} for span in spans[store]]
    return out


def m5_holdout() -> Holdout:
    wide = pd.read_csv(M5 / "sales.csv.gz")
    calendar = pd.read_csv(M5 / "calendar.csv.gz", parse_dates=["date"])
    ids = wide["id"].str.removesuffix("_TX_3_validation")
    days = calendar.set_index("d").loc[wide.columns[1:], "date"].to_numpy()
    units = wide.drop(columns="id").to_numpy(dtype=float)
    frame = pd.DataFrame({"unique_id": np.repeat(ids.to_numpy(), len(days)), "ds": np.tile(days, len(ids)),
                          "y": units.ravel()})
    prices = pd.read_csv(M5 / "sell_prices.csv.gz").rename(columns={"item_id": "unique_id"})
    weeks = calendar[["date", "wm_yr_wk"]].rename(columns={"date": "ds"})
    priced = frame.merge(weeks, on="ds").merge(prices[["unique_id", "wm_yr_wk", "sell_price"]],
                         on=["unique_id", "wm_yr_wk"], how="left")
    priced["revenue"] = (priced["y"] * priced["sell_price"]).round(2)
    train_mask = frame.ds <= M5_TRAIN_END
    train, test = frame[train_mask], frame[~train_mask]
    revenue = priced.loc[priced.ds <= M5_TRAIN_END, ["unique_id", "ds", "revenue"]]
    last28 = revenue[revenue.ds > M5_TRAIN_END - pd.Timedelta(days=28)]
    dollars = last28.groupby("unique_id")["revenue"].sum()
    horizon_end = test.ds.max()
    known = calendar[calendar["date"] <= horizon_end]
    named = known[known["event_name_1"].notna() | known["event_name_2"].notna()]
    events = sorted(d.date().isoformat() for d in named["date"])
    typed = [{"date": row.date.date().isoformat(), "title": str(getattr(row, f"event_name_{k}")),
              "type": str(getattr(row, f"event_type_{k}")).lower()}
             for row in known.itertuples() for k in (1, 2) if isinstance(getattr(row, f"event_name_{k}"), str)]
    typed += [{"date": d.date().isoformat(), "type": "benefit_day", "title": "SNAP"}
              for d in known.loc[known["snap_TX"] == 1, "date"]]
    return Holdout("m5-tx3-foods3", "m5-tx3-foods3 (823 items of one supermarket department, train to "
                   "2016-04-24, 28 days)", train, test, "D", 7, 28, events,
                   revenue=revenue, weights=dollars / dollars.sum(), from_first_sale=True, intermittent=True,
                   prices=_price_series(priced), typed_events=typed)


def _price_series(priced: pd.DataFrame) -> dict[str, dict]:
    """Each item's daily selling price from its first priced day to the end of the horizon (planned prices)."""
    series = {}
    for product, group in priced.sort_values(["unique_id", "ds"]).groupby("unique_id", sort=False):
        known = group[group["sell_price"].notna()]
        if known.empty:
            continue
        tail = group[group["ds"] >= known["ds"].iloc[0]]
        series[str(product)] = {"product_id": str(product), "start": tail["ds"].iloc[0].date().isoformat(),
                                "price": [None if np.isnan(v) else float(v) for v in tail["sell_price"]]}
    return series


HOLDOUTS = {"store-item": store_item_holdout, "walmart-weekly": walmart_holdout, "m5-tx3-foods3": m5_holdout}


def from_first_sale(train: pd.DataFrame) -> pd.DataFrame:
    """Each product's rows from its first non-zero sale on (M5's release trimming)."""
    started = train["y"].ne(0).groupby(train["unique_id"]).cummax()
    return train[started]
