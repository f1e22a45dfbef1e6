"""The data slices in tests/fixtures/ keep their shape, coverage and joins (so they cannot rot)."""

import numpy as np
import pandas as pd


def test_store_item_slice_covers_the_stores_and_items_the_tests_select(store_item):
    assert list(store_item.columns) == ["date", "store", "item", "sales"]
    days = pd.date_range("2013-01-01", "2017-12-31")
    core = store_item[(store_item.store <= 4) & (store_item.item <= 12)]
    assert core.groupby(["store", "item"]).date.apply(lambda d: d.tolist() == list(days)).all()
    assert len(core) == 4 * 12 * len(days)
    full = store_item[(store_item.store <= 2) & (store_item.date >= "2017-01-01")]
    assert full.groupby("store").item.nunique().to_dict() == {1: 50, 2: 50}
    assert len(full) == 2 * 50 * 365
    assert set(store_item.store) == {1, 2, 3, 4} and not store_item.duplicated(["date", "store", "item"]).any()


def test_walmart_slice_is_stores_one_and_two_weekly(walmart_weekly):
    assert list(walmart_weekly.columns) == ["Store", "Dept", "Date", "Weekly_Sales", "IsHoliday"]
    assert set(walmart_weekly.Store) == {1, 2}
    dates = pd.to_datetime(walmart_weekly.Date)
    assert (dates.dt.day_of_week == 4).all()  # Fridays
    assert (dates.min(), dates.max()) == (pd.Timestamp("2010-02-05"), pd.Timestamp("2012-10-26"))


def test_m5_sales_map_to_prices_through_item_id_and_the_calendar_week(m5_sales, m5_calendar, m5_prices):
    assert m5_sales.shape == (30, 1 + 1941) and m5_sales.id.is_unique
    assert list(m5_sales.columns[[1, -1]]) == ["d_1", "d_1941"]
    assert m5_calendar.shape[0] == 1969 and m5_calendar.d.is_unique
    assert (m5_calendar.date.iloc[0], m5_calendar.date.iloc[-1]) == (pd.Timestamp("2011-01-29"),
                                                                     pd.Timestamp("2016-06-19"))
    assert list(m5_prices.columns) == ["store_id", "item_id", "wm_yr_wk", "sell_price"]
    assert set(m5_prices.store_id) == {"TX_3"} and (m5_prices.sell_price > 0).all()

    item_ids = m5_sales.id.str.removesuffix("_TX_3_validation")
    assert (m5_sales.id == item_ids + "_TX_3_validation").all()
    assert set(item_ids) == set(m5_prices.item_id)  # every sales id has prices, and no others are kept
    assert set(m5_prices.wm_yr_wk) <= set(m5_calendar.wm_yr_wk)

    # every day with a sale has its week's price (an item is priced from its release on)
    long = m5_sales.melt("id", var_name="d", value_name="units")
    sold = long[long.units > 0].assign(item_id=lambda f: f.id.str.removesuffix("_TX_3_validation"))
    sold = sold.merge(m5_calendar[["d", "wm_yr_wk"]], on="d", how="left")
    assert sold.wm_yr_wk.notna().all()
    priced = sold.merge(m5_prices, on=["item_id", "wm_yr_wk"], how="left")
    assert len(priced) == len(sold) and priced.sell_price.notna().all()
    # a spread of movers: from a fast seller down to a slow, intermittent one
    totals = m5_sales.drop(columns="id").sum(axis=1)
    assert totals.max() > 100 * totals.min() and np.mean(m5_sales.drop(columns="id").to_numpy() == 0) > 0.5
