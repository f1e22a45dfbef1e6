"""What whole-unit sales let an interval cover: honest bounds of a count forecast hold more than their level.

Sales are whole units, so a bound that is a quantile of the demand's distribution is a whole number and its interval
holds more than its nominal share: for a product selling 0.5 a day on average (Poisson), the 80 % interval [0, 1]
holds 91 % of the days, and no whole-number interval that holds the zero holds between 61 % and 91 %. This study
gives each product-period of a holdout's test window a forecast no service could make, an oracle: the product's own
mean over the test window's periods of the same weekday, as a Poisson mean. It reports the coverage its equal-tailed
80 and 95 % whole-number intervals would have if the sales were Poisson (expected) and what they hold of the actual
sales (measured: the sales are more dispersed than Poisson, the oracle mean rests on about four days a weekday),
overall, per band of that mean and per sales-rate band as the accuracy benchmarks band products
(`bench.accuracy_bands`). Bounds that are quantiles of a product's own demand hold about this much; coverage within
3 points of 80 on slow movers takes bounds between whole numbers (an upper bound of 0.8 leaves out every day a
product sells at all). It reads the data only, no server: a property of the data sets, not a measurement of the
service. Walmart's weekly dollar sales are not units, and every store-item product sells 10 or more a day (the
same weekday's mean over a 90-day quarter is no oracle there): neither is studied.

Usage: python -m bench.count_coverage [french-bakery|m5-tx3-foods3 ...]
"""

import itertools
import sys

import numpy as np
import pandas as pd
from scipy import stats

from bench import accuracy_data, bakery
from bench.accuracy_bands import banding

HOLDOUTS = {"french-bakery": lambda: bakery.bakery_holdout(), "m5-tx3-foods3": accuracy_data.m5_holdout}
MEANS = (0.0, 1.0, 3.0, 10.0, np.inf)  # units a day: bands of the test window's mean


def oracle_coverage(test: pd.DataFrame) -> pd.DataFrame:
    """Per product-day of `test` (unique_id, ds, y): the oracle mean, and for the equal-tailed 80 and 95 % Poisson
    whole-number intervals around it, their coverage if sales were Poisson and whether they hold the sale."""
    frame = test.copy()
    frame["mean"] = frame.groupby(["unique_id", frame["ds"].dt.day_of_week])["y"].transform("mean").clip(lower=1e-9)
    for level in (80, 95):
        tail = (1 - level / 100) / 2
        low = stats.poisson.ppf(tail, frame["mean"])
        high = stats.poisson.ppf(1 - tail, frame["mean"])
        frame[f"expected_{level}"] = stats.poisson.cdf(high, frame["mean"]) - stats.poisson.cdf(low - 1, frame["mean"])
        frame[f"held_{level}"] = (frame["y"] >= low) & (frame["y"] <= high)
    return frame


def _coverage(rows: pd.DataFrame) -> str:
    return " | ".join(f"{rows[f'expected_{level}'].mean() * 100:.1f} / {rows[f'held_{level}'].mean() * 100:.1f}"
                      for level in (80, 95))


def report(key: str) -> list[str]:
    holdout = HOLDOUTS[key]()
    frame = oracle_coverage(holdout.test.dropna(subset=["y"]))
    product_mean = frame.groupby("unique_id")["y"].transform("mean")
    frame["mean band"] = np.searchsorted(MEANS, product_mean, side="right") - 1
    bands = banding(holdout)
    frame["rate band"] = frame["unique_id"].map(bands.band)
    labels = {"mean band": [f"{lo:g} - {hi:g}" for lo, hi in itertools.pairwise(MEANS)],
              "rate band": [f"{'' if lo is None else f'{lo:.3g}'} - {'' if hi is None else f'{hi:.3g}'}"
                            for lo, hi in bands.ranges()]}
    header = "| products | 80 %: expected / held | 95 %: expected / held |"
    count = frame["unique_id"].nunique()
    lines = [f"**{key}** ({count} products, {len(frame):,} product-days)", "",
             f"| {header}", "|---|---|---|---|", f"| all | {count} | {_coverage(frame)} |", ""]
    for column, title in (("mean band", "test window's mean, units a day"),
                          ("rate band", "the benchmark's sales-rate band (last 8 training weeks)")):
        lines += [f"| {title} {header}", "|---|---|---|---|"]
        for band, rows in frame.groupby(column):
            lines.append(f"| {labels[column][band]} | {rows['unique_id'].nunique()} | {_coverage(rows)} |")
        lines.append("")
    return lines


def main(args: list[str]) -> None:
    for key in args or list(HOLDOUTS):
        print("\n".join(report(key)))


if __name__ == "__main__":
    main(sys.argv[1:])
