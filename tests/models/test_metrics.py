"""Forecast error metrics against numbers worked out by hand."""

import numpy as np
import pytest

from app.models.metrics import bias, mape, mase, rmse, seasonal_scale, smape

ACTUAL = np.array([[1.0, 2.0, 3.0]])
PREDICTED = np.array([[2.0, 2.0, 5.0]])  # errors +1, 0, +2


def test_mase_is_mean_absolute_error_over_the_scale():
    assert mase(ACTUAL, PREDICTED, np.array([2.0])).tolist() == pytest.approx([(1 + 0 + 2) / 3 / 2])  # 0.5


def test_rmse():
    assert rmse(ACTUAL, PREDICTED).tolist() == pytest.approx([np.sqrt((1 + 0 + 4) / 3)])  # 1.291


def test_smape_in_percent_and_zero_where_both_are_zero():
    # 2|a-f| / (|a|+|f|): 2/3, 0, 4/8 -> mean 0.3889
    assert smape(ACTUAL, PREDICTED).tolist() == pytest.approx([100 * (2 / 3 + 0 + 0.5) / 3])  # 38.89 %
    assert smape(np.array([[0.0, 4.0]]), np.array([[0.0, 2.0]])).tolist() == pytest.approx([100 * (0 + 4 / 6) / 2])


def test_bias_is_positive_for_over_forecasts():
    assert bias(ACTUAL, PREDICTED).tolist() == pytest.approx([1.0])
    assert bias(PREDICTED, ACTUAL).tolist() == pytest.approx([-1.0])


def test_mape_counts_only_periods_with_sales():
    assert mape(np.array([[0.0, 2.0, 4.0]]), np.array([[1.0, 3.0, 2.0]])).tolist() == pytest.approx([50.0])
    assert np.isnan(mape(np.array([[0.0]]), np.array([[1.0]]))[0])


def test_nan_periods_are_not_evaluated_and_each_row_is_its_own():
    actual = np.array([[1.0, np.nan, 3.0], [4.0, 4.0, 4.0], [np.nan, np.nan, np.nan]])
    predicted = np.array([[2.0, 100.0, 5.0], [1.0, 4.0, 7.0], [1.0, 1.0, 1.0]])
    result = mase(actual, predicted, np.array([1.0, 3.0, 1.0]))
    assert result[:2].tolist() == pytest.approx([(1 + 2) / 2 / 1, (3 + 0 + 3) / 3 / 3])
    assert np.isnan(result[2])
    assert rmse(actual, predicted)[0] == pytest.approx(np.sqrt((1 + 4) / 2))


def test_seasonal_scale_is_the_mean_seasonal_difference():
    values = np.array([[1.0, 2, 3, 4, 5, 6, 7, 8, 10]])
    # lag 7 over the history: |8 - 1| = 7, |10 - 2| = 8
    assert seasonal_scale(values, np.array([0]), 7).tolist() == [7.5]


def test_seasonal_scale_falls_back_to_lag_one_then_the_level_then_one():
    short = np.array([[1.0, 4.0, 2.0]])  # shorter than a season: |4-1|, |2-4| -> 2.5
    assert seasonal_scale(short, np.array([0]), 7).tolist() == [2.5]
    flat = np.array([[5.0] * 10, [0.0] * 10])  # no change at all: the mean level, or 1 for no sales
    assert seasonal_scale(flat, np.array([0, 0]), 7).tolist() == [5.0, 1.0]


def test_seasonal_scale_reads_only_each_rows_own_history():
    values = np.array([[100.0, 0.0, 1.0, 3.0]])  # the first column is before the row's start
    assert seasonal_scale(values, np.array([1]), 7).tolist() == [1.5]  # |1-0|, |3-1|
