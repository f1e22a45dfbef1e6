"""POST /models/train and GET /models/{shop_id}: the shop model's request and its model card."""

import datetime as dt

from pydantic import BaseModel, Field

from app.schemas.common import AS_OF_DESCRIPTION, IsoDate, ShopId
from app.schemas.drivers import DriversPayload
from app.schemas.forecast import ForecastEvent, Frequency
from app.schemas.sales import SalesRequiredPayload


class TrainRequest(SalesRequiredPayload, DriversPayload):
    shop_id: ShopId
    periods: int = Field(default=28, ge=1, le=365,
                         description="The longest horizon the model must serve (days or weeks); the last `periods` "
                         "of history are held out to score it.")
    frequency: Frequency = Field(default="auto", description="`auto`: weekly when every date falls on one weekday.")
    calendar_events: list[ForecastEvent] = Field(
        default_factory=list, description="Known past and future events (holidays, promotions).")
    as_of: IsoDate | None = Field(default=None, description=AS_OF_DESCRIPTION)


class FeatureImportance(BaseModel):
    name: str
    importance: float = Field(description="Share of the trees' total gain, 0..1.")


class PointScore(BaseModel):
    mase: float | None = Field(description="Mean over products of MAE / in-sample seasonal naive MAE.")
    rmsse: float | None = Field(description="Mean over products of RMSE / in-sample one-period-change RMS.")
    wrmsse: float | None = Field(description="RMSSE weighted by each product's revenue over the `periods` before "
                                 "the window (M5's weighting); null without revenue.")


class HeldOutScore(PointScore):
    coverage_80: float | None = Field(description="Share of actuals inside the 80% bounds, 0..1; each half of the "
                                      "products bounded with errors of the other half; null when either half has "
                                      "under 20 held-out errors, and then the model serves no intervals (warning "
                                      "`intervals_unavailable`).")
    coverage_95: float | None
    msis: float | None = Field(description="Mean scaled interval score at 95% (M4), lower is better.")


class BandScore(BaseModel):
    rate_from: float | None = Field(description="The band's lowest recent sales rate (units per period) before "
                                    "the window; null for the first band.")
    rate_to: float | None = Field(description="Its highest (exclusive); null for the last band.")
    products_scored: int
    weight: float = Field(description="The band's share of the revenue weights (of the products scored, without "
                          "revenue), 0..1.")
    mase: dict[str, float | None] = Field(description="Mean MASE over the band's scored products, per row of "
                                          "`scores`.")


class WindowScore(BaseModel):
    first_date: str
    last_date: str
    products_scored: int = Field(description="Products the scores average (as `held_out.products_scored`).")
    chosen_on: int = Field(description="Backtest windows before this one that `auto`'s choice for it was made on.")
    scores: dict[str, PointScore] = Field(
        description="On this window: `auto` as chosen on the windows before it only, and every candidate (the "
        "trees: the one fit made before the earliest window).")


class HeldOut(BaseModel):
    first_date: str
    last_date: str
    periods: int
    products_scored: int = Field(description="Products the scores average: those with sales in the window or in "
                                 "the 8 weeks before it.")
    products_idle: int = Field(default=0, description="Products left out of the scores: they sold nothing in the "
                               "window nor in the 8 weeks before it (out of season, delisted), so every method's "
                               "zero is right and their near-zero errors would flatter the headline.")
    windows: int = Field(description="Backtest windows of `periods` ending at the training end (this one the "
                         "last) on which the served method of each product was chosen.")
    scores: dict[str, HeldOutScore] = Field(
        description="On the last window: `auto`, the method each product keeps as chosen on the earlier windows "
        "only (this one unseen; with a single window, the trees); `shop_model`, the trees alone; and every "
        "local family.")
    bands: list[BandScore] = Field(description="The same scores per sales-rate band (quintiles of the products' "
                                   "recent rate; one band for a small shop).")
    earlier_windows: list[WindowScore] = Field(
        default_factory=list, description="The backtest windows between this one and the earliest, latest first, "
        "each scored as this one (`auto` chosen on the windows before it alone): how far the scores move from one "
        "window to the next, the noise a later measurement of `auto` is read against. An earlier window's choice "
        "had fewer windows to go on and its trees are older: it reads a little worse than the served choice would. "
        "The earliest window has none before it (with 4 windows, 2 rows); empty with under three windows.")


class PriceElasticity(BaseModel):
    shop: float = Field(description="The shop's pooled price elasticity (% change of units per 1% of price).")
    low: float = Field(description="90% range of a product's elasticity in this shop (the spread between products "
                       "plus the uncertainty of the shop's value).")
    high: float
    products_with_own_estimate: int = Field(description="Products whose own price changes say something; the "
                                            "others take the shop's value.")
    median: float = Field(description="Median over products of their pooled elasticities.")
    categories: dict[str, float] = Field(
        default_factory=dict, description="Each category's pooled elasticity (categories named in `products`, or "
        "the department of products sent without a category, with at least 3 products that have an estimate of "
        "their own); their products pool towards it.")


class DriversCheck(BaseModel):
    metric: str = Field(description="`wrmsse` (revenue known) or `mase`, each backtest window's, averaged over "
                        "the windows.")
    with_drivers: float = Field(description="The trees trained with the caller's drivers.")
    without_drivers: float = Field(description="The same trees without them.")
    used: bool = Field(description="Whether the served model reads the drivers (only when they scored better).")
    windows: int = Field(description="The backtest windows both were scored on: the same windows as the per-product "
                         "choice of method.")


class ModelCard(BaseModel):
    shop_id: str
    model_version: str
    trained_at: str
    frequency: str
    horizon: int = Field(description="The longest horizon served, in periods.")
    training_first_date: str
    training_last_date: str
    products: int
    training_seconds: float
    features: list[FeatureImportance]
    methods_kept: dict[str, int] = Field(description="Products per method `auto` keeps (held-out MASE).")
    held_out: HeldOut
    drivers: DriversCheck | None = Field(
        default=None, description="When the training request sent drivers (prices, promotions, typed or scoped "
        "events): the held-out score with and without them, and whether they were kept.")
    price_elasticity: PriceElasticity | None = Field(
        default=None, description="Learned from the shop's prices (sent, or revenue / qty); null without prices.")
    closed_weekdays: list[str] = Field(
        default_factory=list, description="The closed weekdays the training was told (or detected): a forecast "
        "request that says nothing of closed days uses them.")
    closed_dates: list[str] = Field(
        default_factory=list, description="The closed dates the training was told (or detected), past and planned.")
    closed_weekdays_from: str | None = Field(
        default=None, description="The first date the closed weekdays hold from: for detected ones the day after the "
        "training's sales (the weekday's earlier days that sold were open; its empty ones are in closed_dates); "
        "null when they were told (every date).")



TRAIN_EXAMPLE = {
    "shop_id": "shop_123",
    "sales": [
        {"product_id": product, "date": (dt.date(2025, 8, 1) + dt.timedelta(days=k)).isoformat(),
         "qty": float(base + [2, 0, 1, 3, 6, 9, 7][k % 7] + (k % 30) // 10)}
        for product, base in (("p001", 10), ("p002", 4), ("p003", 20)) for k in range(120)
    ],
    "periods": 28,
}
