"""Small array helpers shared by the services and the models (pure functions, no state).

Shapes: `n` rows (products), `T` columns (days or periods). Row codes index 0..n-1; column
codes index 0..T-1.
"""

import numpy as np

GATHER_LIMIT = 200_000  # rows x steps gathered at once by strided_mean


def grid_sums(rows: np.ndarray, columns: np.ndarray, n_rows: int, n_columns: int,
              weights: np.ndarray | None = None) -> np.ndarray:
    """Sum of `weights` (or the count of entries when None) per (row, column) cell -> [n_rows, n_columns].

    `rows` and `columns` are int arrays of the same length k (with `weights` float64[k]); every
    code must lie inside the grid. The result is float64 with weights, int64 counts without.
    """
    flat = rows * n_columns + columns
    return np.bincount(flat, weights=weights, minlength=n_rows * n_columns).reshape(n_rows, n_columns)


def grid_ratio(rows: np.ndarray, columns: np.ndarray, n_rows: int, n_columns: int, numerator: np.ndarray,
               denominator: np.ndarray | None = None) -> np.ndarray:
    """sum(numerator) / sum(denominator) per cell (a mean per cell when `denominator` is None) -> float64
    [n_rows, n_columns], NaN where the cell has nothing: e.g. a unit price as revenue / units."""
    total = grid_sums(rows, columns, n_rows, n_columns, numerator)
    weight = grid_sums(rows, columns, n_rows, n_columns, denominator)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight > 0, total / np.where(weight > 0, weight, 1), np.nan)


def first_column(rows: np.ndarray, columns: np.ndarray, n_rows: int, missing: int) -> np.ndarray:
    """Smallest column per row -> int64[n_rows]; `missing` for a row with no entry.

    `rows` and `columns` are int arrays of the same length k, e.g. each sales row's product code
    and its day (or period) number.
    """
    first = np.full(n_rows, missing, dtype=np.int64)
    np.minimum.at(first, rows, columns)
    return first


def prefix_sums(values: np.ndarray) -> np.ndarray:
    """Running totals along the columns with a leading zero: [n, T] -> float64[n, T + 1].

    out[:, b] - out[:, a] is the sum of values[:, a:b].
    """
    return np.concatenate([np.zeros((values.shape[0], 1)), np.cumsum(values, axis=1)], axis=1)


def least_squares_slopes(values: np.ndarray, first: np.ndarray | None = None) -> np.ndarray:
    """Ordinary least-squares slope of each row against its column index -> float64[n].

    `values` is [n, T]; row i is fitted over columns first[i] .. T - 1 (every column when `first`
    is None). Units: `values` units per column. NaN for a row with fewer than 2 columns.
    """
    n, length = values.shape
    start = np.zeros(n, dtype=np.int64) if first is None else np.asarray(first)
    columns = np.arange(length, dtype=np.float64)[None, :]
    inside = columns >= start[:, None]
    count = length - start
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(inside, values, 0.0).sum(axis=1) / count
        x = np.where(inside, columns - (start[:, None] + length - 1) / 2, 0.0)
        sxx = (x**2).sum(axis=1)
        slope = ((values - mean[:, None]) * x).sum(axis=1) / sxx
    return np.where(count >= 2, slope, np.nan)


def rounded(values: np.ndarray, digits: int) -> list[float]:
    """`[round(v, digits) for v in values]` (float64[k]), the same floats, without a Python `round` per value: rint of
    the values x 10 ** digits is the decimal Python rounds to wherever the product is clear of a half (a half-way
    case decided by the product's own rounding error, a huge or non-finite value) and those take Python's `round`;
    n / 10 ** digits is then the float nearest n / 10 ** digits, as Python's `round` returns."""
    scale = 10.0 ** digits
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = values * scale
        half_way = np.abs(scaled - np.floor(scaled) - 0.5)
        sure = np.isfinite(scaled) & (np.abs(scaled) < 2.0 ** 50) & (half_way > 1e-6)
    result = (np.rint(scaled) / scale).tolist()
    for k in np.flatnonzero(~sure).tolist():
        result[k] = round(float(values[k]), digits)
    return result


def strided_mean(values: np.ndarray, first: np.ndarray, rows: np.ndarray, last: np.ndarray, stride: int,
                  count: int) -> np.ndarray:
    """Mean of row r at columns last, last - stride, ... (`count` of them, from column `first` on); NaN if none."""
    if rows.size * count <= GATHER_LIMIT:  # one gather (a request's rows): no per-step numpy calls
        columns = last[:, None] - stride * np.arange(count)[None, :]
        inside = columns >= first[:, None]
        taken = np.where(inside, values[rows[:, None], np.maximum(columns, 0)], 0.0).sum(axis=1)
        seen = inside.sum(axis=1)
    else:  # training: step by step, without a [rows, count] array
        taken = np.zeros(rows.size)
        seen = np.zeros(rows.size)
        for k in range(count):
            column = last - k * stride
            inside = column >= first
            taken += np.where(inside, values[rows, np.maximum(column, 0)], 0.0)
            seen += inside
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(seen > 0, taken / np.maximum(seen, 1), np.nan)
