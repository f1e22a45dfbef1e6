"""A synthetic shop with a known price elasticity, for the driver tests (model and API)."""

import numpy as np

ELASTICITY = -2.0
WEEKDAY_SHAPE = np.array([0.8, 0.9, 1.0, 1.0, 1.1, 1.4, 1.2])


def priced_shop(days: int, horizon: int, products: int = 60, seed: int = 0,
                elasticity: np.ndarray | float = ELASTICITY) -> tuple[np.ndarray, np.ndarray]:
    """(units[products, days + horizon], price[products, days + horizon]): units are Poisson with mean
    base x (price / regular) ** elasticity x a weekday shape; prices are cut 10-30% in random weeks."""
    rng = np.random.default_rng(seed)
    width = days + horizon
    regular = rng.uniform(1, 5, products)
    weeks = width // 7 + 1
    cut = np.repeat(rng.random((products, weeks)) < 0.25, 7, axis=1)[:, :width]
    depth = np.repeat(rng.uniform(0.1, 0.3, (products, weeks)), 7, axis=1)[:, :width]
    price = np.round(regular[:, None] * np.where(cut, 1 - depth, 1.0), 2)
    base = rng.uniform(2, 30, products)
    relative = price / price.max(axis=1, keepdims=True)
    mean = base[:, None] * relative ** np.reshape(elasticity, (-1, 1)) * WEEKDAY_SHAPE[np.arange(width) % 7]
    return rng.poisson(mean).astype(float), price
