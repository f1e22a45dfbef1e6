"""The accuracy benchmark's scores per sales-rate band, banded the way the shop model bands its products.

A product's rate is its mean over the last BASE_WINDOW training periods (from its first sale where the
holdout trims histories there), as `app.models.rate_bands.recent_rate` reads it at the training end; the
bands are the quintiles of those rates (`band_edges`). A band's weight is its share of the holdout's
weights (M5: dollar sales) or of its products.
"""

import dataclasses
import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from app.models.rate_bands import band_edges
from app.models.shop_features import BASE_WINDOW
from bench.accuracy_data import Holdout, from_first_sale
from bench.scoring import score

HEAVY_BAND = 0.10  # issue #26: a band holding more than this share of the weight must not lose


@dataclass(frozen=True)
class Banding:
    band: pd.Series  # unique_id -> band number (0 = slowest)
    edges: np.ndarray  # float64[bands - 1]: rate boundaries, units per period
    weight: np.ndarray  # float64[bands]: each band's share of the weight

    def ranges(self) -> list[tuple[float | None, float | None]]:
        bounds = [None, *self.edges.tolist(), None]
        return list(itertools.pairwise(bounds))


def banding(holdout: Holdout) -> Banding:
    """Each product's band by its recent rate at the training end, and the bands' weights."""
    train = holdout.train.sort_values(["unique_id", "ds"])
    if holdout.from_first_sale:
        train = from_first_sale(train)
    window = BASE_WINDOW[7 if holdout.weekly else 1]
    rate = train.groupby("unique_id")["y"].apply(lambda y: float(y.iloc[-window:].mean()))
    edges = band_edges(rate.to_numpy())
    band = pd.Series(np.searchsorted(edges, rate.to_numpy(), side="right"), index=rate.index)
    if holdout.weights is not None:
        shares = holdout.weights.reindex(band.index).fillna(0.0)
    else:
        shares = pd.Series(1.0, index=band.index)
    weight = shares.groupby(band).sum().reindex(range(edges.size + 1), fill_value=0.0).to_numpy()
    return Banding(band, edges, weight / weight.sum())


def restricted(holdout: Holdout, products: pd.Index | list[str]) -> Holdout:
    """The holdout of the given products alone (WRMSSE weights renormalised over them by `score`)."""
    return dataclasses.replace(
        holdout, train=holdout.train[holdout.train["unique_id"].isin(products)],
        test=holdout.test[holdout.test["unique_id"].isin(products)],
        weights=None if holdout.weights is None else holdout.weights.reindex(products).fillna(0.0))


def spread_sample(bands: Banding, count: int) -> Banding:
    """About `count` products spread evenly over the sales-rate order (band, then product id: the bands are
    quintiles, so each band gives its share), with their bands; the weights stay the whole set's."""
    ordered = pd.DataFrame({"band": bands.band.to_numpy(), "product": bands.band.index}).sort_values(
        ["band", "product"])
    step = max(1, len(ordered) // count)
    chosen = ordered.iloc[step // 2::step]
    return Banding(bands.band.loc[chosen["product"].to_numpy()], bands.edges, bands.weight)


def band_scores(holdout: Holdout, pred: pd.DataFrame, bands: Banding) -> list[dict]:
    """`score` of `pred` on each band's products alone (WRMSSE with the band's weights renormalised)."""
    out = []
    for number in range(bands.edges.size + 1):
        products = bands.band.index[bands.band.to_numpy() == number]
        if products.empty:
            continue
        scores = score(restricted(holdout, products), pred[pred["unique_id"].isin(products)])
        lo, hi = bands.ranges()[number]
        out.append({"band": number, "rate_from": lo, "rate_to": hi, "weight": round(float(bands.weight[number]), 4),
                    **{k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()}})
    return out
