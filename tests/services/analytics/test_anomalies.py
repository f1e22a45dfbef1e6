"""Anomalies: real series without a flood, injected spikes and drops found, closed days never flagged, at most
`max_alerts` per product, stock rules, outlier products, determinism."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from app.schemas.anomalies import ANOMALIES_EXAMPLE, AnomaliesRequest
from app.services.analytics.anomalies import find_anomalies
from tests.conftest import sales_rows
from tests.support.budget import BUDGET


def run(**body):
    return find_anomalies(AnomaliesRequest.model_validate({"shop_id": "s", **body}), BUDGET)


@pytest.mark.slow
def test_injected_spikes_and_drops_on_real_series_are_found(store_item):
    frame = store_item[(store_item.store == 4) & (store_item.item <= 10) & (store_item.date >= "2017-01-01")].copy()
    frame = frame.sort_values(["item", "date"]).reset_index(drop=True)
    rng = np.random.default_rng(0)
    injected = set()
    for item in range(1, 11):
        rows = frame.index[frame.item == item]
        for position, factor in zip(rng.choice(np.arange(60, len(rows)), 3, replace=False), (2.5, 0.0, 2.2),
                                    strict=True):
            frame.loc[rows[position], "sales"] = round(frame.loc[rows[position], "sales"] * factor)
            injected.add((f"p{item}", frame.loc[rows[position], "date"].date()))
    found = {(a.product_id, a.date) for a in run(sales=sales_rows(frame)).anomalies if a.type in ("spike", "drop")}
    recall = len(found & injected) / len(injected)
    precision = len(found & injected) / max(len(found), 1)
    assert recall >= 0.9 and precision >= 0.6


def test_spike_has_expected_range_and_description():
    response = find_anomalies(AnomaliesRequest.model_validate(ANOMALIES_EXAMPLE), BUDGET)
    spike = next(a for a in response.anomalies if a.type == "spike")
    assert spike.date.isoformat() == "2025-10-21" and spike.observed == 60
    assert spike.expected_low <= 14 <= spike.expected_high < 60
    assert "expected" in spike.description


def test_stock_rules_flag_negative_stock_and_large_adjustments():
    response = find_anomalies(AnomaliesRequest.model_validate(ANOMALIES_EXAMPLE), BUDGET)
    kinds = {(a.type, a.date.isoformat()) for a in response.anomalies if a.method == "stock_rule"}
    assert kinds == {("negative_stock", "2025-10-05"), ("large_adjustment", "2025-10-03")}
    small = run(opening_stock=[{"product_id": "a", "quantity": 100}],
                stock_movements=[{"product_id": "a", "date": "2025-10-01", "type": "adjustment", "qty": -5}])
    assert small.anomalies == []


def test_stock_walk_reads_the_requests_sales_where_the_movements_carry_none():
    """Opening 10, a receipt of 100 on the 1st, 4 sold a day, a count of -40 on the 10th: the count is 40 of the
    70 left after nine days of sales (57 %), and selling on past what is left is negative stock, as the review of a
    bakery's export found (it read 40 of 110, and no negative stock)."""
    sales = [{"product_id": "e", "date": (dt.date(2025, 9, 1) + dt.timedelta(days=k)).isoformat(), "qty": 4}
             for k in range(30)]
    response = run(sales=sales, opening_stock=[{"product_id": "e", "quantity": 10}],
                   stock_movements=[{"product_id": "e", "date": "2025-09-01", "type": "receipt", "qty": 100},
                                    {"product_id": "e", "date": "2025-09-10", "type": "adjustment", "qty": -40}])
    rules = {a.type: a for a in response.anomalies if a.method == "stock_rule"}
    assert "40 units is 57% of the 70 in stock" in rules["large_adjustment"].description.replace("-40", "40")
    assert rules["negative_stock"].date.isoformat() == "2025-09-18"  # 30 left after the count, 4 a day
    with_sales = run(sales=sales, opening_stock=[{"product_id": "e", "quantity": 10}],
                     stock_movements=[{"product_id": "e", "date": "2025-09-01", "type": "receipt", "qty": 100},
                                      {"product_id": "e", "date": "2025-09-02", "type": "sale", "qty": 5},
                                      {"product_id": "e", "date": "2025-09-10", "type": "adjustment", "qty": -40}])
    assert {a.type for a in with_sales.anomalies if a.method == "stock_rule"} == {"large_adjustment"}  # its own


def test_isolation_forest_points_at_the_odd_product_not_the_best_seller():
    rng = np.random.default_rng(3)
    sales = []
    rates = [2, 3, 5, 8, 12, 20, 30, 45, 60, 90, 400, 25]  # a best seller (400 a day) among ordinary counts
    for k, rate in enumerate(rates):
        for d in range(90):
            qty = float(rng.poisson(rate))
            if k == len(rates) - 1:  # the same mean in bursts: nothing most days, a crate now and then
                qty = float(rng.poisson(rate * 6)) if rng.random() < 1 / 6 else 0.0
            sales.append({"product_id": f"p{k}", "date": f"2025-{7 + d // 30:02d}-{d % 30 + 1:02d}", "qty": qty})
    unusual = {a.product_id: a for a in run(sales=sales).anomalies if a.type == "unusual_product"}
    assert "p11" in unusual and "beyond chance" in unusual["p11"].description
    assert "p10" not in unusual  # selling the most is no anomaly
    assert run(sales=sales).anomalies == run(sales=sales).anomalies  # deterministic


def _m5_series(m5_sales: pd.DataFrame, days: int = 730) -> list[dict]:
    """The fixture's 30 M5 items over their last `days` days, each from its first sale in them."""
    units = m5_sales.drop(columns="id").to_numpy(dtype=float)[:, -days:]
    dates = pd.date_range("2011-01-29", periods=m5_sales.shape[1] - 1)[-days:]
    return [{"product_id": m5_sales.id[i], "start": dates[int(np.argmax(row > 0))].date().isoformat(),
             "qty": row[int(np.argmax(row > 0)):].tolist()} for i, row in enumerate(units) if (row > 0).any()]


def test_real_slow_and_fast_movers_are_not_flooded(m5_sales):
    """Issue #24: 6,504 alerts for 220 products. 30 real M5 items (best seller to 36 units in five years):
    at most 1% of product-days flagged (main flagged 1.4%), at most max_alerts listed per product."""
    response = run(series=_m5_series(m5_sales))
    assert response.meta.product_days > 20_000
    assert response.meta.flagged <= 0.01 * response.meta.product_days
    listed = pd.Series([a.product_id for a in response.anomalies if a.type in ("spike", "drop")]).value_counts()
    assert listed.max() <= 5
    assert response.meta.flagged == int(listed.sum()) + response.meta.not_shown


def _steady(products: int, days: int, rate: float, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).poisson(rate, (products, days)).astype(float)


def _series(units: np.ndarray, start: str = "2025-01-06") -> list[dict]:
    return [{"product_id": f"p{i}", "start": start, "qty": row.tolist()} for i, row in enumerate(units)]


def test_days_the_shop_did_not_trade_are_never_drops():
    """Issue #24: closed days came back as drops. Five products selling about 30 a day, the shop closed on
    three days it does not declare (too small a catalogue for the detection): no drop on them, a warning says
    why; a real drop (one product at 0 while the others sell) is still found."""
    units = _steady(5, 120, 30)
    closed = [40, 41, 90]
    units[:, closed] = 0
    units[2, 70] = 0
    response = run(series=_series(units))
    drops = {(a.product_id, a.date) for a in response.anomalies if a.type == "drop"}
    closed_dates = {(pd.Timestamp("2025-01-06") + pd.Timedelta(days=d)).date() for d in closed}
    assert not {d for _, d in drops} & closed_dates
    assert ("p2", (pd.Timestamp("2025-01-06") + pd.Timedelta(days=70)).date()) in drops
    assert [w.count for w in response.warnings if w.code == "no_sale_days"] == [3]


def test_declared_closed_weekday_is_never_flagged_nor_learned():
    units = _steady(3, 140, 20, seed=1)
    units[:, 6::7] = 0  # closed on Sundays (2025-01-06 is a Monday)
    response = run(series=_series(units), closed_weekdays=["sunday"])
    assert all(a.date.weekday() != 6 for a in response.anomalies if a.date is not None)
    assert response.meta.product_days == 3 * 120


def test_at_most_max_alerts_per_product_strongest_first_and_the_rest_counted():
    units = _steady(2, 200, 20, seed=2)
    sizes = [100, 110, 120, 150, 180, 105]
    units[0, [30, 50, 70, 90, 110, 130]] = sizes
    response = run(series=_series(units), max_alerts=3)
    every = run(series=_series(units), max_alerts=366)
    shown = [a for a in response.anomalies if a.product_id == "p0"]
    ranked = [a for a in every.anomalies if a.product_id == "p0"]
    assert {a.observed for a in ranked} >= set(sizes) and shown == ranked[:3]
    assert [a.score for a in ranked] == sorted((a.score for a in ranked), reverse=True)
    assert response.meta.not_shown_by_product["p0"] == 3
    assert response.meta.flagged == len([a for a in response.anomalies if a.type in ("spike", "drop")]) \
        + response.meta.not_shown


def test_slow_mover_is_judged_as_counts():
    """A product selling 0.3 a day: a day of 2 is ordinary, a day of 15 is a spike, and no zero is a drop."""
    units = _steady(1, 365, 0.3, seed=4)
    units[0, 200] = 2
    units[0, 300] = 15
    spikes = {a.date: a for a in run(series=_series(units)).anomalies if a.type in ("spike", "drop")}
    day = pd.Timestamp("2025-01-06")
    assert list(spikes) == [(day + pd.Timedelta(days=300)).date()]
    assert spikes[(day + pd.Timedelta(days=300)).date()].method == "counts"


def test_sensitivity_is_one_field():
    with pytest.raises(ValidationError, match="not both"):
        AnomaliesRequest.model_validate({"shop_id": "s", "z_threshold": 3, "false_alerts_per_year": 2})
    units = _steady(1, 200, 0.5, seed=5)
    units[0, 150] = 6
    strict, loose = run(series=_series(units), false_alerts_per_year=0.01), run(series=_series(units),
                                                                               false_alerts_per_year=30)
    assert strict.meta.flagged < loose.meta.flagged


def test_a_stock_out_is_one_drop_with_its_first_and_last_day():
    """Issue #24: days without a sale are judged as a run. A product selling about 20 a day with nothing sold for
    20 days (a stock-out) gets one drop from its first to its last day, not 20 alerts; the stock-out is not
    learned as normal demand, so one empty day elsewhere is still a drop."""
    units = _steady(1, 300, 20, seed=6)
    units[0, 100:120] = 0
    units[0, 200] = 0
    response = run(series=_series(units), max_alerts=366)
    drops = sorted((a for a in response.anomalies if a.type == "drop"), key=lambda a: a.date)
    day = pd.Timestamp("2025-01-06")
    assert [(a.date, a.end_date) for a in drops] == [
        ((day + pd.Timedelta(days=100)).date(), (day + pd.Timedelta(days=119)).date()),
        ((day + pd.Timedelta(days=200)).date(), (day + pd.Timedelta(days=200)).date())]
    assert "nothing sold on 20 open days" in drops[0].description and drops[0].expected_low > 200
    spikes = sum(a.type == "spike" for a in response.anomalies)  # the year's false alert or two of a steady seller
    assert response.meta.flagged == 2 + spikes and response.meta.flagged_days == 21 + spikes


def test_a_closed_day_inside_an_empty_run_is_skipped_not_counted():
    units = _steady(2, 140, 20, seed=7)
    units[:, 6::7] = 0  # closed on Sundays (2025-01-06 is a Monday)
    units[0, 60:64] = 0  # Friday .. Monday: three open days without a sale around a closed Sunday
    response = run(series=_series(units), closed_weekdays=["sunday"])
    day = pd.Timestamp("2025-01-06")
    drops = [a for a in response.anomalies if a.type == "drop" and a.date <= (day + pd.Timedelta(days=62)).date()
             <= a.end_date]  # the closed Sunday
    assert [(a.product_id, a.date, a.end_date) for a in drops] == [
        ("p0", (day + pd.Timedelta(days=60)).date(), (day + pd.Timedelta(days=63)).date())]
    assert "nothing sold on 3 open days" in drops[0].description
    assert all(a.date.weekday() != 6 and a.end_date.weekday() != 6 for a in response.anomalies if a.date)


def test_an_empty_day_of_a_product_with_promotions_is_a_drop():
    """A product selling about 10 a day with promotion days at 3x: its spread is upward, and a dispersion read
    from both sides put an empty day at about once in 50 (not flagged). Judged with its spread below the mean,
    the empty day is a drop; the promotion days, part of its normal range, are not flooded as spikes."""
    rng = np.random.default_rng(1)
    days = 364
    promotion = (np.arange(days) % 9) < 2
    units = rng.poisson(np.where(promotion, 30.0, 10.0)).astype(float)
    empty = 200 + int(np.flatnonzero(~promotion[200:])[0])
    units[empty] = 0.0
    response = run(series=[{"product_id": "p", "start": "2025-01-06", "qty": units.tolist()}], max_alerts=366)
    drops = [a for a in response.anomalies if a.type == "drop"]
    assert [(a.date, a.end_date) for a in drops] == [(dt.date(2025, 1, 6) + dt.timedelta(days=empty),) * 2]
    assert response.meta.flagged <= 0.01 * response.meta.product_days + 1


def test_a_sale_inside_a_stock_out_is_judged_against_the_products_level():
    """Issue #24: a product selling about 6 a day is out of stock for 41 days, and on the 21st of them 30 units
    sell. The days around it are a stock-out, not demand: the day is judged against the product's level in the
    weeks before and after (about 6), not against the stock-out's zeros nor left unjudged. A day of 2 inside the
    stock-out is part of it, not a drop."""
    units = _steady(1, 300, 6, seed=8)
    units[0, 100:141] = 0
    units[0, 120] = 30
    units[0, 110] = 2
    response = run(series=_series(units), max_alerts=366)
    day = pd.Timestamp("2025-01-06")
    spike = [a for a in response.anomalies if a.type == "spike" and a.date == (day + pd.Timedelta(days=120)).date()]
    assert len(spike) == 1 and spike[0].method == "counts" and 8 <= spike[0].expected_high <= 15  # Poisson(6): 0-14
    assert not any(a.type == "drop" and a.date == a.end_date == (day + pd.Timedelta(days=110)).date()
                   for a in response.anomalies)
    assert any(a.type == "drop" and a.date <= (day + pd.Timedelta(days=100)).date() for a in response.anomalies)


def test_a_products_promotion_days_do_not_widen_its_usual_range_on_every_other_day():
    """Issue #24: a product selling about 5 a day with one promotion day in ten at 4x, beside 11 steadier products.
    Its own dispersion (about 0.23, the promotion days) made 25 units on a usual day a once-in-600-days event, not
    flagged at the default rate; halfway to the catalogue's typical dispersion, the day is a spike."""
    rng = np.random.default_rng(0)
    days = 364
    steady = rng.poisson(rng.gamma(20.0, 0.25, (11, days)))  # mean 5, dispersion 0.05
    promoted = rng.poisson(np.where(np.arange(days) % 10 == 3, 20.0, 5.0))
    promoted[250] = 25
    response = run(series=_series(np.vstack([steady, promoted]).astype(float)), max_alerts=366)
    day = dt.date(2025, 1, 6) + dt.timedelta(days=250)
    assert [a.type for a in response.anomalies if a.product_id == "p11" and a.date == day] == ["spike"]
    assert response.meta.flagged <= 0.01 * response.meta.product_days


def test_an_article_sold_on_one_or_two_days_has_no_spike():
    """A review found each one-off till label of a bakery's export (one sale in 637 open days) flagged as a spike
    "expected 0.00 ... (usually 0-0) ... about once in 1,001 open days": an article with one or two selling days
    has no normal to depart from. A third selling day makes it a product judged like any other."""
    start = dt.date(2025, 1, 6)
    day = [(start + dt.timedelta(days=k)).isoformat() for k in range(640)]
    sales = [{"product_id": "bread", "date": d, "qty": 20 + k % 7} for k, d in enumerate(day)]
    sales += [{"product_id": "cake", "date": day[5], "qty": 1},
              {"product_id": "pates", "date": day[3], "qty": 1}, {"product_id": "pates", "date": day[190], "qty": 1},
              *({"product_id": "buche", "date": day[k], "qty": 9} for k in (50, 400, 600))]
    found = {(a.product_id, a.type) for a in run(sales=sales).anomalies}
    assert not {p for p, _ in found} & {"cake", "pates"}
    assert ("buche", "spike") in found  # three selling days: judged


def test_descriptions_read_as_sentences():
    """'1 unit sold', 'after an adjustment', 'adjustment of -1 unit' (a review read "1 units sold" and "after a
    adjustment")."""
    start = dt.date(2025, 1, 6)
    sales = [{"product_id": "bread", "date": (start + dt.timedelta(days=k)).isoformat(),
              "qty": 1 if k == 100 else 20 + k % 7} for k in range(150)]
    drop = next(a for a in run(sales=sales).anomalies if a.type == "drop")
    assert drop.description.startswith("1 unit sold, expected")
    moves = run(opening_stock=[{"product_id": "a", "quantity": 10}, {"product_id": "b", "quantity": 1}],
                stock_movements=[{"product_id": "a", "date": "2025-10-01", "type": "adjustment", "qty": -20},
                                 {"product_id": "b", "date": "2025-10-01", "type": "adjustment", "qty": -1}])
    text = {a.product_id + a.type: a.description for a in moves.anomalies}
    assert text["anegative_stock"].startswith("stock fell to -10 after an adjustment of -20")
    assert text["blarge_adjustment"].startswith("adjustment of -1 unit is 100%")


def test_a_declared_holiday_is_the_events_not_a_spike():
    """Owner review 6 F13: Ascension and Easter Monday came back as 'less than once in a million' spikes, and
    /anomalies took no calendar events. A holiday sent as a calendar event is not judged (for every product, or
    the ones it names) and the warning counts its product-days; an undeclared spike is still found."""
    units = _steady(4, 120, 20, seed=3)
    units[:, 50] *= 3  # the holiday rush, every product
    units[1, 80] = 90  # a spike of one product on an ordinary day
    holiday = (pd.Timestamp("2025-01-06") + pd.Timedelta(days=50)).date()
    plain = run(series=_series(units))
    assert holiday in {a.date for a in plain.anomalies if a.type == "spike"}
    told = run(series=_series(units), calendar_events=[{"id": "ascension", "date": holiday.isoformat()}])
    spikes = {(a.product_id, a.date) for a in told.anomalies if a.type == "spike"}
    assert holiday not in {d for _, d in spikes}
    assert ("p1", (pd.Timestamp("2025-01-06") + pd.Timedelta(days=80)).date()) in spikes
    assert [w.count for w in told.warnings if w.code == "event_days_not_judged"] == [4]
    scoped = run(series=_series(units), calendar_events=[{"date": holiday.isoformat(), "product_ids": ["p0"]}])
    assert {p for p, d in ((a.product_id, a.date) for a in scoped.anomalies if a.type == "spike")
            if d == holiday} == {"p1", "p2", "p3"}
    with pytest.raises(ValidationError, match="categories"):
        run(series=_series(units), calendar_events=[{"date": holiday.isoformat(), "categories": ["bread"]}])
