"""What whole-unit sales let an interval cover: the floor any honest count forecast's bounds stand on.

Sales are whole units, so a bound that is a quantile of the demand's distribution is a whole number and its interval
holds more than its nominal share: for a product selling 0.5 a day on average (Poisson), the 80 % interval [0, 1]
holds 91 % of the days, and no whole-number interval holds between 61 % and 91 %. This study gives each product-
period of a holdout's test window the best demand forecast there can be, an oracle: the product's own mean over the
test window's periods of the same weekday (its mean, for weekly data), as a Poisson mean, and reports the expected
coverage of its equal-tailed 80 and 95 % whole-number intervals, per band of that mean and per sales-rate band as
the accuracy benchmarks band products (`bench.accuracy_bands`). A forecast that knew the test window's weekday
levels and bounded it by honest quantiles would cover this much; coverage within 3 points of 80 is then only reached
by bounds that are not quantiles of the product's own demand (e.g. a lower bound of 0.3 that leaves out every day
the product sells nothing). It reads the data only, no server: a property of the data sets, not a measurement of the
service.

Usage: python -m bench.count_coverage [french-bakery|m5-tx3-foods3|store-item|walmart-weekly ...]
"""

import itertools
import sys

import numpy as np
import pandas as pd
from scipy import stats

from bench import accuracy_data, bakery
from bench.accuracy_bands import banding

HOLDOUTS = {"french-bakery": lambda: bakery.bakery_holdout(), "m5-tx3-foods3": accuracy_data.m5_holdout,
            "store-item": accuracy_data.store_item_holdout, "walmart-weekly": accuracy_data.walmart_holdout}
MEANS = (0.0, 1.0, 3.0, 10.0, np.inf)  # units a period: bands of the test window's mean


def oracle_coverage(test: pd.DataFrame, weekly: bool) -> pd.DataFrame:
    """Per product-period of `test` (unique_id, ds, y): the oracle mean and the expected coverage of the
    equal-tailed 80 and 95 % Poisson whole-number intervals around it."""
    frame = test.copy()
    keys = ["unique_id"] if weekly else ["unique_id", frame["ds"].dt.day_of_week]
    frame["mean"] = frame.groupby(keys)["y"].transform("mean").clip(lower=1e-9)
    for level in (80, 95):
        tail = (1 - level / 100) / 2
        low = stats.poisson.ppf(tail, frame["mean"])
        high = stats.poisson.ppf(1 - tail, frame["mean"])
        frame[f"coverage_{level}"] = stats.poisson.cdf(high, frame["mean"]) - stats.poisson.cdf(low - 1, frame["mean"])
    return frame


def report(key: str) -> list[str]:
    holdout = HOLDOUTS[key]()
    frame = oracle_coverage(holdout.test.dropna(subset=["y"]), holdout.weekly)
    product_mean = frame.groupby("unique_id")["y"].transform("mean")
    frame["mean band"] = np.searchsorted(MEANS, product_mean, side="right") - 1
    bands = banding(holdout)
    frame["rate band"] = frame["unique_id"].map(bands.band)
    labels = {"mean band": [f"{lo:g} - {hi:g}" for lo, hi in itertools.pairwise(MEANS)],
              "rate band": [f"{'' if lo is None else f'{lo:.3g}'} - {'' if hi is None else f'{hi:.3g}'}"
                            for lo, hi in bands.ranges()]}
    lines = [f"**{key}** ({frame['unique_id'].nunique()} products, {len(frame):,} product-periods): "
             f"{frame['coverage_80'].mean() * 100:.1f} / {frame['coverage_95'].mean() * 100:.1f} % at 80 / 95", ""]
    for column, title in (("mean band", "test window's mean, units a period"),
                          ("rate band", "the benchmark's sales-rate band (last 8 training weeks)")):
        lines += [f"| {title} | products | oracle coverage 80 / 95 % |", "|---|---|---|"]
        for band, rows in frame.groupby(column):
            lines.append(f"| {labels[column][band]} | {rows['unique_id'].nunique()} | "
                         f"{rows['coverage_80'].mean() * 100:.1f} / {rows['coverage_95'].mean() * 100:.1f} |")
        lines.append("")
    return lines


def main(args: list[str]) -> None:
    for key in args or list(HOLDOUTS):
        print("\n".join(report(key)))


if __name__ == "__main__":
    main(sys.argv[1:])
