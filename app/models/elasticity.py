"""Price elasticity per product, learned from the shop's own sales and prices, pooled towards the shop.

Per product, a log-log regression of units on price with fixed effects: each block of
`BLOCK` periods has its own level (so slow drifts in demand, seasons and inflation are not read
as price effects) and each weekday its own shape; what is left is how units move when the
price moves within a block. Units enter as log(units + 0.5), which keeps zero days.

A product whose price hardly varied has a wide (or no) estimate of its own; every estimate is
shrunk towards its category's, where the caller named categories and at least `MIN_GROUP` of
its products have an estimate of their own, else the shop's (random-effects pooling,
DerSimonian-Laird, at both levels: a category's value is itself pulled towards the shop's by
its precision). The product's own estimate counts for much when it is precise, little when it
is not. The answer carries the interval (`LEVEL`) and the share of the estimate that is the
product's own.
"""

from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

BLOCK = {1: 28, 7: 8}
LEVEL = 0.9
MIN_MOVES = 2  # periods inside blocks whose price differs from the block's mean, for an own estimate
BOUNDS = (-6.0, 1.0)  # a fitted elasticity outside these is an artefact, not a product
MIN_GROUP = 3  # products with an own estimate for a category to have a value of its own
MIN_VARIANCE = 1e-8  # a perfect fit's variance, floored: precisions and their squares stay finite
Z = NormalDist().inv_cdf(0.5 + LEVEL / 2)


@dataclass(frozen=True)
class Elasticities:
    value: np.ndarray  # float64[n]: pooled elasticity (d log units / d log price)
    low: np.ndarray  # float64[n]: LEVEL interval
    high: np.ndarray
    own_weight: np.ndarray  # float64[n] in 0..1: how much of `value` is the product's own estimate
    own: np.ndarray  # float64[n]: the product's own estimate, NaN when its prices cannot tell
    own_variance: np.ndarray  # float64[n]: its variance, inf when none
    shop: float  # the shop's pooled elasticity (NaN when no product could tell)
    prior_variance: float  # spread of products around the shop's value, plus the shop value's own variance
    groups: dict[str, tuple[float, float]] = field(default_factory=dict)  # category -> (prior mean, variance)

    def lift(self, k: int, price_ratio: float) -> float:
        """Relative change of units for product k when its price is multiplied by `price_ratio`."""
        return float(price_ratio ** self.value[k] - 1.0)

    def shop_range(self) -> tuple[float, float]:
        """The LEVEL range of a product's elasticity in this shop (the spread between products plus the
        uncertainty of the shop's value)."""
        spread = Z * float(np.sqrt(self.prior_variance))
        return self.shop - spread, self.shop + spread


def _demeaned(values: np.ndarray, mask: np.ndarray, size: int) -> np.ndarray:
    """values minus their mean within each row's consecutive groups of `size` columns (aligned on the last
    column), over the masked cells; 0 outside the mask."""
    n, length = values.shape
    pad = (-length) % size
    shape = (n, (length + pad) // size, size)
    padded = np.pad(np.where(mask, values, 0.0), ((0, 0), (pad, 0))).reshape(shape)
    counts = np.pad(mask, ((0, 0), (pad, 0))).reshape(shape).sum(axis=2, keepdims=True)
    means = np.divide(padded.sum(axis=2, keepdims=True), counts, out=np.zeros(counts.shape), where=counts > 0)
    return np.where(mask, values - np.broadcast_to(means, shape).reshape(n, -1)[:, pad:], 0.0)


def _weekday_demeaned(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """values minus each row's mean per weekday (column % 7), over the masked cells."""
    n, length = values.shape
    pad = (-length) % 7
    grid = np.pad(np.where(mask, values, 0.0), ((0, 0), (0, pad))).reshape(n, -1, 7)
    counts = np.pad(mask, ((0, 0), (0, pad))).reshape(n, -1, 7).sum(axis=1)
    means = np.divide(grid.sum(axis=1), counts, out=np.zeros(counts.shape), where=counts > 0)
    return np.where(mask, values - np.tile(means, (1, grid.shape[1]))[:, :length], 0.0)


def estimate(units: np.ndarray, price: np.ndarray, begin: np.ndarray, step: int, pool: bool = True,
             groups: np.ndarray | None = None) -> Elasticities:
    """Elasticities of n products from units[n, T] and price[n, T] (NaN = unknown), each product's
    history counting from column begin[n]; pooled towards their category (`groups`, object[n], None
    = none) and shop, or (`pool=False`) each product's own estimate only, to `shrink` towards a shop
    estimated earlier."""
    length = units.shape[1]
    columns = np.arange(length)
    mask = np.isfinite(price) & (price > 0) & (columns[None, :] >= begin[:, None])
    x = np.log(np.where(mask, price, 1.0))
    y = np.log(np.maximum(units, 0.0) + 0.5)
    n_blocks = (length + BLOCK[step] - 1) // BLOCK[step]
    x_tilde = _demeaned(x, mask, BLOCK[step])  # a level per block, aligned on the last period
    y_tilde = _demeaned(y, mask, BLOCK[step])
    if step == 1:  # weekday shapes, after the block levels (one pass: a close approximation of both)
        x_tilde = _weekday_demeaned(x_tilde, mask)
        y_tilde = _weekday_demeaned(y_tilde, mask)
    sxx = (x_tilde**2).sum(axis=1)
    moves = (np.abs(x_tilde) > 1e-6).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = (x_tilde * y_tilde).sum(axis=1) / sxx
        used = mask.sum(axis=1)
        dof = used - (n_blocks + (6 if step == 1 else 0)) - 1
        residual = ((y_tilde - beta[:, None] * x_tilde) ** 2 * mask).sum(axis=1)
        variance = residual / np.maximum(dof, 1) / sxx
    own = (moves >= MIN_MOVES) & (dof > 0) & np.isfinite(beta) & np.isfinite(variance) & (variance > 0)
    beta = np.where(own, np.clip(beta, *BOUNDS), np.nan)
    variance = np.where(own, np.maximum(variance, MIN_VARIANCE), np.inf)
    if not pool:
        return _combined(beta, variance, float("nan"), float("inf"))
    return _pooled(beta, variance, groups)


def _random_effects(b: np.ndarray, v: np.ndarray) -> tuple[float, float, float]:
    """DerSimonian-Laird: (pooled mean, its variance, spread tau^2 between the estimates)."""
    w = 1 / v
    fixed = float((w * b).sum() / w.sum())
    q = float((w * (b - fixed) ** 2).sum())
    tau2 = max(0.0, (q - (b.size - 1)) / (w.sum() - (w**2).sum() / w.sum())) if b.size > 1 else 0.0
    w_random = 1 / (v + tau2)
    return float((w_random * b).sum() / w_random.sum()), 1 / float(w_random.sum()), tau2


def _pooled(beta: np.ndarray, variance: np.ndarray, groups: np.ndarray | None) -> Elasticities:
    own = np.isfinite(beta)
    if own.sum() == 0:
        return _combined(beta, variance, float("nan"), float("inf"))
    shop, shop_variance, tau2 = _random_effects(beta[own], variance[own])
    prior_variance = tau2 + shop_variance
    priors: dict[str, tuple[float, float]] = {}
    for name in sorted({g for g in (groups if groups is not None else []) if g is not None}):
        members = own & (groups == name)
        if members.sum() < MIN_GROUP:
            continue
        mean, mean_variance, spread = _random_effects(beta[members], variance[members])
        # the category's value, pulled towards the shop's by how precisely the category is known
        precision = 1 / mean_variance + 1 / prior_variance
        priors[str(name)] = ((mean / mean_variance + shop / prior_variance) / precision, spread + 1 / precision)
    return _combined(beta, variance, shop, prior_variance, priors, groups)


def shrink(raw: Elasticities, prior: Elasticities, groups: np.ndarray | None = None) -> Elasticities:
    """Products' own estimates (`estimate(..., pool=False)`) pooled towards their category (`groups`) and
    shop as estimated before (`prior`)."""
    return _combined(raw.own, raw.own_variance, prior.shop, prior.prior_variance, prior.groups, groups)


def _combined(beta: np.ndarray, variance: np.ndarray, shop: float, prior_variance: float,
              priors: dict[str, tuple[float, float]] | None = None, groups: np.ndarray | None = None) -> Elasticities:
    """Each product's estimate and its prior's (its category's, else the shop's), weighted by their
    precision (the prior's alone when the product has none, the product's alone without a shop)."""
    priors = priors or {}
    own = np.isfinite(beta)
    has_shop = np.isfinite(shop) and np.isfinite(prior_variance)
    mean = np.full(beta.shape, shop if has_shop else 0.0)
    prior_precision = np.full(beta.shape, 1 / prior_variance if has_shop else 0.0)
    if groups is not None and priors:
        for name, (group_mean, group_variance) in priors.items():
            members = groups == name
            mean[members], prior_precision[members] = group_mean, 1 / group_variance
    own_precision = np.where(own, 1 / variance, 0.0)
    precision = own_precision + prior_precision
    with np.errstate(invalid="ignore", divide="ignore"):
        value = (np.where(own, beta, 0.0) * own_precision + mean * prior_precision) / precision
        sd = np.sqrt(1 / precision)
        own_weight = np.where(precision > 0, own_precision / precision, 0.0)
    value = np.where(precision > 0, value, np.nan)
    return Elasticities(value, value - Z * sd, value + Z * sd, own_weight, beta, variance, shop, prior_variance,
                        priors)
