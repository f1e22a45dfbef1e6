"""At-risk rules, scores, actions and warnings."""

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from app.config import Settings
from app.schemas.at_risk import AtRiskRequest
from app.services.decisions.at_risk import find_at_risk
from app.utils.errors import SmartShelfError
from tests.conftest import sales_rows
from tests.support.synthetic import priced_shop

AS_OF = date(2025, 11, 15)


def item(product_id: str, quantity: float, expiry: str | None = None, price: float = 2.0, **extra) -> dict:
    return {"product_id": product_id, "sku": product_id.upper(), "name": f"Product {product_id}",
            "quantity": quantity, "expiry_date": expiry, "price": price, **extra}


def daily_sales(product_id: str, per_day: float, days: int, end: date = AS_OF) -> list[dict]:
    return [{"product_id": product_id, "date": (end - timedelta(days=k)).isoformat(), "qty": per_day}
            for k in range(days)]


def run(inventory: list[dict], sales: list[dict] | None = None, settings: Settings | None = None, **body):
    request = AtRiskRequest.model_validate(
        {"shop_id": "s1", "inventory": inventory, "sales": sales or [], "as_of": AS_OF.isoformat(), **body}
    )
    return find_at_risk(request, settings or Settings(_env_file=None))  # type: ignore[call-arg]


def by_id(response) -> dict:
    return {entry.product_id: entry for entry in response.at_risk}


def test_healthy_products_are_not_listed_but_counted():
    response = run([item("ok", 50, "2026-01-30"), item("low", 3)],
                   daily_sales("ok", 2, 30) + daily_sales("low", 2, 30))
    assert [entry.product_id for entry in response.at_risk] == ["low"]
    assert response.meta.total_products == 2 and response.meta.flagged_count == 1


def test_low_stock_is_restock_with_days_of_supply():
    entry = by_id(run([item("a", 4)], daily_sales("a", 2, 30)))["a"]
    assert entry.reasons == ["low_stock", "stockout_risk"]
    assert entry.avg_daily_sales == pytest.approx(2.0)
    assert entry.days_of_supply == pytest.approx(2.0)
    assert entry.recommended_action.action_type == "restock"
    assert entry.recommended_action.discount_range is None
    assert "4 units left" in entry.recommended_action.reasoning
    assert entry.stockout_date == AS_OF + timedelta(days=2)
    # s_low = 1 - 4/11; s_stockout = the share of the 7 days' demand the 4 units leave unmet, 10/14
    assert entry.score == pytest.approx(1 - (1 - 0.8 * (1 - 4 / 11)) * (1 - 0.7 * 10 / 14), abs=1e-4)
    assert "about 10 units of the 14 wanted in the next 7 days go unmet (71%)" in entry.recommended_action.reasoning


def test_counts_of_one_read_one_unit_and_one_day():
    """Owner review F8: "Low stock: 1 units left", "Expired 1 days ago with 1 units on hand"."""
    response = by_id(run([item("low", 1, "2025-11-17"), item("old", 1, "2025-11-14")],
                         daily_sales("low", 2, 30) + daily_sales("old", 2, 30)))
    assert "Low stock: 1 unit left (threshold 10)" in response["low"].recommended_action.reasoning
    assert response["old"].recommended_action.reasoning.startswith("Expired 1 day ago with 1 unit on hand")


def test_days_without_sales_count_as_zero_in_slow_moving_average():
    # 9 units sold on one day of a 30-day window: 0.3/day < 0.5 threshold
    entry = by_id(run([item("a", 40)], [{"product_id": "a", "date": "2025-11-14", "qty": 9}]))["a"]
    assert entry.reasons == ["slow_moving"]
    assert entry.avg_daily_sales == pytest.approx(0.3)
    assert entry.recommended_action.action_type == "bundle"
    assert entry.score == pytest.approx(0.5 * (1 - 0.3 / 0.5), abs=1e-4)


def test_window_includes_as_of_and_excludes_older_days():
    sales = [{"product_id": "a", "date": "2025-11-15", "qty": 3},
             {"product_id": "a", "date": "2025-10-17", "qty": 6},   # first day of the 30-day window
             {"product_id": "a", "date": "2025-10-16", "qty": 100}]  # one day too old
    entry = by_id(run([item("a", 5)], sales))["a"]
    assert entry.avg_daily_sales == pytest.approx(9 / 30)


def test_stock_that_will_not_sell_before_expiry_gets_a_markdown():
    # 100 units, 2/day, 10 days left: 80 left at expiry; 100/(2*10) = 5x lift -> 200% at elasticity 2: too deep
    entry = by_id(run([item("a", 100, "2025-11-25")], daily_sales("a", 2, 30)))["a"]
    assert entry.reasons == ["unsellable_before_expiry"]
    assert entry.expected_unsold_units == pytest.approx(80.0)
    action = entry.recommended_action
    assert action.action_type == "clearance"
    assert action.discount_range == (40.0, 40.0)  # the most allowed: one number
    assert "even 40% off, the most allowed, is unlikely to clear them all" in action.reasoning
    assert "80 units would be left" in action.reasoning


def test_moderate_excess_gets_a_discount_sized_to_clear_it():
    # 24 units, 2/day, 10 days: lift 1.2 needed -> 20/2 = 10% at elasticity 2
    entry = by_id(run([item("a", 24, "2025-11-25")], daily_sales("a", 2, 30)))["a"]
    assert entry.recommended_action.action_type == "discount"
    assert entry.recommended_action.discount_range == (10.0, 10.0)
    assert "10% markdown should clear them" in entry.recommended_action.reasoning


def test_elasticity_setting_changes_the_discount():
    settings = Settings(_env_file=None, promotion_elasticity_multiplier=4.0)  # type: ignore[call-arg]
    entry = by_id(run([item("a", 24, "2025-11-25")], daily_sales("a", 2, 30), settings=settings))["a"]
    assert entry.recommended_action.discount_range == (5.0, 5.0)  # a 20% lift at 4x the discount: 5%, not 10%


def test_near_expiry_on_track_is_monitored_not_discounted():
    thresholds = {"expiry_days": 14}
    entry = by_id(run([item("a", 50, "2025-11-27")], daily_sales("a", 5, 30), thresholds=thresholds))["a"]
    assert entry.reasons == ["near_expiry"]  # 10 days of supply, expires in 12
    assert entry.expected_unsold_units == 0
    assert entry.recommended_action.action_type == "monitor"
    unsold = by_id(run([item("a", 20, "2025-11-20")], daily_sales("a", 5, 30)))["a"]
    assert unsold.expected_unsold_units == 0
    assert unsold.reasons == ["stockout_risk", "near_expiry"]
    assert unsold.recommended_action.action_type == "restock"  # sells out in 4 days, before it expires


def test_stockout_risk_looks_as_far_ahead_as_the_lead_time():
    near = by_id(run([item("a", 40, lead_time_days=14)], daily_sales("a", 4, 30)))["a"]
    assert "stockout_risk" in near.reasons and near.stockout_date == AS_OF + timedelta(days=10)
    assert run([item("a", 40)], daily_sales("a", 4, 30)).at_risk == []  # 10 days > the 7-day default


def test_slow_movers_are_ranked_by_value_tied_up():
    inventory = [item("cheap", 100, cost=0.5), item("dear", 20, cost=40.0), item("fast", 100, cost=9.0)]
    response = run(inventory, daily_sales("fast", 5, 30) + daily_sales("dear", 0.1, 30) + daily_sales("cheap", 0.2, 30))
    assert [s.product_id for s in response.slow_movers] == ["dear", "cheap"]
    dear = response.slow_movers[0]
    assert dear.value_tied_up == 800.0 and dear.turnover_rate == pytest.approx(0.1 * 365 / 20, abs=0.01)


def test_expired_stock_scores_one_and_is_removed():
    entry = by_id(run([item("a", 7, "2025-11-12")], daily_sales("a", 1, 30)))["a"]
    # it still sells: no usable units; the expired units are left over, not low stock (review finding 11)
    assert entry.reasons == ["out_of_stock", "expired"]
    assert entry.score == 1.0
    assert entry.days_to_expiry == -3
    assert entry.recommended_action.action_type == "remove"


def test_results_are_sorted_by_score_then_product():
    inventory = [item("c", 9), item("b", 0), item("a", 0), item("d", 5, "2025-11-16")]
    response = run(inventory, daily_sales("c", 1, 30) + daily_sales("a", 1, 30) + daily_sales("b", 1, 30))
    scores = [entry.score for entry in response.at_risk]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == scores[1] == 1.0 > scores[2] > scores[3]  # a and b: empty shelves that sell come first
    assert [entry.product_id for entry in response.at_risk] == ["a", "b", "d", "c"]  # the tie in product order
    tied = [entry.product_id for entry in response.at_risk if entry.score == by_id(response)["a"].score]
    assert tied == sorted(tied)


def test_contract_example_milk_is_low_stock_and_near_expiry():
    response = run([item("p001", 5, "2025-11-20T00:00:00Z", price=3.99)],
                   [{"product_id": "p001", "date": "2025-11-10", "qty": 2.0, "revenue": 7.98}],
                   thresholds={"low_stock": 10, "expiry_days": 7, "slow_moving_window": 30,
                               "slow_moving_threshold": 0.5})
    entry = response.at_risk[0]
    # the usable units (5 days at 2/30 a day) are gone at expiry in 5 days, but the week's demand beyond them is
    # 2/30 x 2 units: no stockout (the 4.7 units left at expiry are the risk, and stock left over is not low)
    assert set(entry.reasons) == {"near_expiry", "unsellable_before_expiry", "slow_moving"}
    assert entry.days_to_expiry == 5 and entry.days_of_supply == 5.0
    expected = 1 - (1 - 0.9 * (1 - 5 / 8)) * (1 - 0.8 * (5 - 5 * 2 / 30) / 5) * (1 - 0.5 * (1 - (2 / 30) / 0.5))
    assert entry.score == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("written, days", [("2025-11-20", 5), ("2025-11-20T00:00:00Z", 5),
                                           ("2025-11-20T23:30:00-05:00", 5), ("2025-11-21T00:10:00+09:00", 6)])
def test_expiry_dates_count_the_calendar_date_written(written, days):
    entry = by_id(run([item("a", 50, written)]))["a"]
    assert entry.days_to_expiry == days


def test_as_of_defaults_to_todays_utc_date():
    from app.utils.dates import today_utc

    request = AtRiskRequest.model_validate({"shop_id": "s", "inventory": [
        item("a", 1, (today_utc() + timedelta(days=3)).isoformat())]})
    response = find_at_risk(request, Settings(_env_file=None))  # type: ignore[call-arg]
    assert response.meta.as_of == today_utc()
    assert response.at_risk[0].days_to_expiry == 3


def test_data_quality_rules_are_reported():
    sales = [{"product_id": "a", "date": "2025-11-14", "qty": 6},
             {"product_id": "a", "date": "2025-11-14", "qty": 6},     # exact duplicate
             {"product_id": "a", "date": "2025-11-13", "qty": -2},    # a return
             {"product_id": "zz", "date": "2025-11-13", "qty": 4},    # not in inventory
             {"product_id": "a", "date": "2025-11-20", "qty": 50}]    # after as_of
    response = run([item("a", 5)], sales)
    warnings = {w.code: w for w in response.warnings}
    assert warnings["lines_aggregated"].count == 2  # two lines of one day: two sales, summed
    assert warnings["unknown_products"].product_ids == ["zz"]
    assert warnings["future_sales"].count == 1
    assert warnings["returns_netted"].count == 1
    # 6 + 6 on the 14th, the return makes the 13th negative -> 0 demand
    assert by_id(response)["a"].avg_daily_sales == pytest.approx(12 / 30)


def test_duplicate_inventory_product_is_a_400_naming_the_row():
    with pytest.raises(SmartShelfError) as error:
        run([item("a", 5), item("b", 5), item("a", 7)])
    assert error.value.field == "inventory[2].product_id"
    assert "inventory[0]" in error.value.message


@pytest.mark.slow
def test_average_daily_sales_match_pandas_on_real_store_item_data(store_item):
    store = store_item[(store_item.store == 1) & (store_item.date > "2017-09-02") & (store_item.date <= "2017-12-01")]
    as_of = pd.Timestamp("2017-12-01")
    window = store[store.date > as_of - pd.Timedelta(days=30)]
    expected = window.groupby("item").sales.sum() / 30
    # stock = 10 days of supply, expiring in 5 days: half would be left
    inventory = [item(f"p{i}", round(10 * rate), "2017-12-06") for i, rate in expected.items()]
    request = AtRiskRequest.model_validate({"shop_id": "s", "inventory": inventory, "sales": sales_rows(store),
                                            "as_of": "2017-12-01", "thresholds": {"low_stock": 0}})
    response = find_at_risk(request, Settings(_env_file=None))  # type: ignore[call-arg]
    got = {entry.product_id: entry.avg_daily_sales for entry in response.at_risk}
    assert len(got) == 50
    np.testing.assert_allclose([got[f"p{i}"] for i in expected.index], expected.to_numpy(), atol=1e-4)
    # what sells by expiry is gone in 5 days and the rest expires: a clearance, no stockout_risk (owner review F14)
    assert all(entry.reasons == ["near_expiry", "unsellable_before_expiry"]
               for entry in response.at_risk)
    assert response.warnings == []


def priced_history(elasticity: float, products: int = 30, days: int = 364, with_revenue: bool = True):
    """Sales (with revenue, or without it and the prices sent as series) of a synthetic shop whose units
    follow price ** elasticity, up to AS_OF."""
    units, price = priced_shop(days, 0, products=products, elasticity=elasticity, seed=11)
    first = AS_OF - timedelta(days=days - 1)
    sales = [{"product_id": f"p{k}", "date": (first + timedelta(days=d)).isoformat(), "qty": float(units[k, d]),
              **({"revenue": round(float(units[k, d] * price[k, d]), 2)} if with_revenue else {})}
             for k in range(products) for d in range(days) if units[k, d] > 0]
    prices = [{"product_id": f"p{k}", "start": first.isoformat(), "price": price[k].tolist()} for k in range(products)]
    return sales, prices, units


def test_markdowns_are_sized_with_the_items_learned_elasticity():
    sales, _, units = priced_history(-2.0)
    rate = units[0, -30:].mean()
    stock = {"p0": round(rate * 10 * 1.5)}  # 10 days to expiry, 50% more than sells at the current rate
    inventory = [item("p0", stock["p0"], "2025-11-25")]
    learned = by_id(run(inventory, sales))["p0"].recommended_action
    assert learned.elasticity_source == "learned" and -2.5 < learned.price_elasticity < -1.5, learned
    assert "learned from its sales and prices" in learned.reasoning
    # lift 1.5 at elasticity -2 needs (1 - 1.5 ** -0.5) = 18% off; the constant rule (x2) 25%
    plain = by_id(run(inventory, [{k: v for k, v in row.items() if k != "revenue"} for row in sales]))["p0"]
    assert plain.recommended_action.elasticity_source == "constant"
    assert plain.recommended_action.price_elasticity is None
    assert learned.discount_range[0] < plain.recommended_action.discount_range[0]


def test_prices_sent_apart_from_sales_teach_the_elasticity_and_others_are_reported():
    sales, prices, units = priced_history(-2.0, with_revenue=False)
    rate = units[0, -30:].mean()
    strangers = [{"product_id": "nobody", "date": AS_OF.isoformat(), "price": 1.0}]
    response = run([item("p0", round(rate * 15), "2025-11-25")], sales, prices=prices + strangers)
    action = by_id(response)["p0"].recommended_action
    assert action.elasticity_source == "learned" and -2.5 < action.price_elasticity < -1.5, action
    unused = [w for w in response.warnings if w.code == "driver_unused"]
    # the other 29 products' prices and the stranger's
    assert len(unused) == 1 and unused[0].count == 29 * 364 + 1, unused


def test_an_empty_shelf_that_sells_is_the_highest_risk():
    """Issue #24: 0 units selling 26.8 a day scored 0.80 with only `low_stock`, below items with 1-3 units."""
    inventory = [item("empty", 0), item("one", 1), item("three", 3), item("idle", 0)]
    sales = daily_sales("empty", 26.8, 30) + daily_sales("one", 2, 30) + daily_sales("three", 2, 30)
    response = run(inventory, sales)
    assert [entry.product_id for entry in response.at_risk][:1] == ["empty"]
    empty = by_id(response)["empty"]
    assert empty.reasons[0] == "out_of_stock" and empty.score == 1.0
    assert empty.recommended_action.action_type == "restock" and empty.recommended_action.promotion_timing == "today"
    assert "idle" not in by_id(response)  # nothing sells: nothing is lost, and no stock is short of demand


@pytest.mark.parametrize("quantity", [22, 27, 31, 36, 45, 60])
def test_discount_range_and_reasoning_name_one_number(quantity):
    """Issue #24: `discount_range [40, 40]` sat next to 'a 35% markdown should clear them'."""
    action = by_id(run([item("a", quantity, "2025-11-25")], daily_sales("a", 2, 30)))["a"].recommended_action
    low, high = action.discount_range
    assert low == high and f" {low:g}% " in action.reasoning


def test_a_seasonal_item_is_judged_against_its_season():
    """Issue #24: Easter items in November were told to 'bundle it with a fast seller'."""
    inventory = [item("easter", 40, season_end="2025-04-21", cost=0.5), item("advent", 40, season_end="2025-12-24")]
    entries = by_id(run(inventory, daily_sales("easter", 0.1, 30) + daily_sales("advent", 0.5, 30)))
    easter = entries["easter"]
    assert "season_over" in easter.reasons and easter.expected_unsold_units == 40
    assert easter.recommended_action.action_type == "clearance"
    assert "bundle" not in easter.recommended_action.reasoning and "season ended" in easter.recommended_action.reasoning
    advent = entries["advent"]  # 39 days of season left at 0.5 a day: about 20 of the 40 are left at its end
    assert "unsellable_before_expiry" in advent.reasons
    assert advent.expected_unsold_units == pytest.approx(20.5, abs=1)
    assert "the season's end" in advent.recommended_action.reasoning


def test_an_item_without_sales_has_an_unknown_demand_never_a_write_off_and_the_warning_names_the_sales_id():
    """A bakery review: inventory typed `Croissant` and `PAIN AU CHOCOLAT ` (a trailing space) against a till's
    `CROISSANT` and `PAIN AU CHOCOLAT` were told 'No demand: ... selling 0.00/day ... donate them or record the
    write-off' for 115 fresh pastries that sell 70 a day."""
    soon = (AS_OF + timedelta(days=2)).isoformat()
    inventory = [item("Croissant", 45, soon), item("PAIN AU CHOCOLAT ", 70, soon), item("OLD STOCK", 30)]
    response = run(inventory, daily_sales("CROISSANT", 37, 60) + daily_sales("PAIN AU CHOCOLAT", 32, 60))
    entries = by_id(response)
    for product_id in ("Croissant", "PAIN AU CHOCOLAT "):
        entry = entries[product_id]
        assert entry.reasons == ["near_expiry"], entry.reasons  # its expiry alone (see below: no slow mover)
        assert entry.expected_unsold_units is None
        assert entry.score == pytest.approx(0.9 * (1 - 2 / (7 + 1)))  # its expiry alone: no measured slowness
        action = entry.recommended_action
        assert action.action_type == "monitor" and action.discount_range is None
        assert "demand is unknown" in action.reasoning and "write-off on a guess" in action.reasoning
    warning = next(w for w in response.warnings if w.code == "items_without_sales")
    assert warning.count == 3 and warning.product_ids == ["Croissant", "PAIN AU CHOCOLAT ", "OLD STOCK"]
    assert "'Croissant' (the sales have 'CROISSANT')" in warning.message
    assert "'PAIN AU CHOCOLAT ' (the sales have 'PAIN AU CHOCOLAT')" in warning.message
    assert "'OLD STOCK'. Their demand is unknown, not zero" in warning.message



def test_items_of_unknown_demand_are_no_slow_movers_and_the_warning_says_so():
    """A review of the bakery export: 'Croissant' (the till's CROISSANT sells 37 a day) and an item nothing was sent
    for were listed in slow_movers with turnover 0.0, as if they did not sell, while at-risk's own actions, reorder
    and promotions call their demand unknown. An item without sales and without avg_daily_sales is judged by its
    expiry alone: no slow_moving, no slow_movers entry, no turnover; the warning says so. A stated rate still
    measures a slow mover."""
    inventory = [item("Croissant", 60), item("GALETTE", 5, (AS_OF + timedelta(days=2)).isoformat()),
                 item("STATED", 40, avg_daily_sales=0.1), item("SLOW", 40)]
    response = run(inventory, daily_sales("CROISSANT", 37, 60) + daily_sales("SLOW", 0.1, 60))
    entries = by_id(response)
    assert "Croissant" not in entries  # nothing but its unknown demand to judge
    assert entries["GALETTE"].reasons == ["near_expiry"] and entries["GALETTE"].turnover_rate is None
    assert {s.product_id for s in response.slow_movers} == {"STATED", "SLOW"}
    assert "slow_moving" in entries["STATED"].reasons and "slow_moving" in entries["SLOW"].reasons
    warning = next(w for w in response.warnings if w.code == "items_without_sales")
    assert warning.product_ids == ["Croissant", "GALETTE", "STATED"]
    assert "by their expiry dates alone: no slow mover" in warning.message, warning.message


def test_a_markdown_whose_cap_would_not_pay_is_the_one_that_earns_the_most():
    """50 % off by the constant rule doubles sales and earns what full price does: the step that earns the most
    (25 %) instead; a cap that pays stays the markdown; a cap of 0 (cost at the price) is no markdown, no 500."""
    settings = Settings(_env_file=None, default_max_discount_pct=50)  # type: ignore[call-arg]
    entry = by_id(run([item("a", 100, "2025-11-25")], daily_sales("a", 2, 30), settings))["a"]
    action = entry.recommended_action
    assert action.discount_range == (25.0, 25.0), action
    assert "25% off earns the most (at 50% they would earn no more than at full price)" in action.reasoning
    paid = by_id(run([item("a", 100, "2025-11-25")], daily_sales("a", 2, 30)))["a"].recommended_action
    assert paid.discount_range == (40.0, 40.0)
    at_cost = by_id(run([item("a", 100, "2025-11-25", cost=2.0)], daily_sales("a", 2, 30)))["a"]
    assert at_cost.recommended_action.discount_range is None


def test_bread_baked_for_tomorrow_is_on_track_and_a_short_bake_is_a_stockout_graded_by_the_demand_unmet():
    """A bakery review (F6): each bread stocked at its forecast for tomorrow, 1-day shelf life, scored 0.92 "Runs out
    soon" every day (7 days of demand against one day's bake), and 60 of 330 baguettes scored almost the same. The
    units on hand sell until their expiry only: the stockout is judged against that window's demand, its strength
    the share of the demand left unmet; stock that meets it (a unit short of 100 is within any forecast's error)
    is on track."""
    tomorrow = (AS_OF + timedelta(days=1)).isoformat()
    breads = [item("baked", 100, tomorrow, lead_time_days=1), item("unit_short", 99, tomorrow, lead_time_days=1),
              item("short", 20, tomorrow, lead_time_days=1)]
    entries = by_id(run(breads, daily_sales("baked", 100, 30) + daily_sales("unit_short", 100, 30)
                        + daily_sales("short", 100, 30)))
    expiry = 0.9 * (1 - 1 / (7 + 1))  # near expiry tomorrow, in every bread's score
    for on_track in ("baked", "unit_short"):
        entry = entries[on_track]
        assert entry.reasons == ["near_expiry"], entry.reasons
        assert entry.score == pytest.approx(expiry, abs=1e-4)
        assert entry.recommended_action.action_type == "monitor"
        assert "should sell out first" in entry.recommended_action.reasoning
    short = entries["short"]
    assert short.reasons == ["stockout_risk", "near_expiry"]
    assert short.score == pytest.approx(1 - (1 - expiry) * (1 - 0.7 * 80 / 100), abs=1e-4)  # 80% of 100 unmet
    assert short.recommended_action.action_type == "restock"
    assert "about 80 units of the 100 wanted in the next 1 day go unmet (80%)" in short.recommended_action.reasoning


def test_a_markdown_that_earns_less_than_full_price_is_not_recommended():
    """A bakery review (F7): 60 macarons, 58 selling before expiry: at-risk said "a 5% markdown should clear them"
    while promotions refused it: 5% off brings 85.5 against 87 at full price. One rule (`pricing.markdown_pays` on
    promotions' `outcomes`, over at-risk's days: tomorrow to the sell-by day): 21 units, 20 selling in the 10 days,
    5% off sells the 21st and loses revenue. (Promotions times its discount to an event's last days instead, where
    a shorter one may pay.)"""
    expiry = (AS_OF + timedelta(days=10)).isoformat()
    entry = by_id(run([item("macaron", 21, expiry)], daily_sales("macaron", 2, 30)))["macaron"]
    action = entry.recommended_action
    assert entry.reasons == ["unsellable_before_expiry"] and entry.expected_unsold_units == pytest.approx(1.0)
    assert action.action_type == "monitor" and action.discount_range is None, action
    # what at-risk measured, not what promotions says (review 6 N1: "as promotions says" beside promotions' paying
    # one-day promotion on the same item)
    assert "a markdown from tomorrow to expiry would not pay: 5% off brings revenue 39.9 against 40 at full price " \
           "over those 10 days (it discounts units that sell anyway)" in action.reasoning
    assert "record the write-off of what is left at expiry; a shorter promotion timed on an event may still pay " \
           "(see promotions)" in action.reasoning
    assert "as promotions says" not in action.reasoning
    # a markdown that pays is still recommended: 24 units, 20 selling, 10% off sells all 24 for 43.2 against 40
    paying = by_id(run([item("macaron", 24, expiry)], daily_sales("macaron", 2, 30)))["macaron"]
    assert paying.recommended_action.discount_range == (10.0, 10.0)


def test_an_item_of_unknown_demand_is_no_slow_mover():
    """A bakery review (F11): 'Pain au chocolat ' (the till sells PAIN AU CHOCOLAT, 35 a day) kept `slow_moving` and
    a `slow_movers` entry with turnover 0.0 while its reasoning said its demand is unknown. No sales row and no
    avg_daily_sales: no slow mover, no turnover; a stated slow rate still is one."""
    soon = (AS_OF + timedelta(days=2)).isoformat()
    inventory = [item("Pain au chocolat ", 40, soon, cost=0.32), item("Boule 400g", 20, cost=0.6),
                 item("STATED", 40, cost=1.0, avg_daily_sales=0.1)]
    response = run(inventory, daily_sales("PAIN AU CHOCOLAT", 35, 60) + daily_sales("BOULE 400G", 12, 60))
    entries = by_id(response)
    assert entries["Pain au chocolat "].reasons == ["near_expiry"]
    assert entries["Pain au chocolat "].turnover_rate is None
    assert "Boule 400g" not in entries  # nothing to judge but its unknown demand: the warning names it
    assert [s.product_id for s in response.slow_movers] == ["STATED"]
    assert entries["STATED"].reasons == ["slow_moving"]
    warning = next(w for w in response.warnings if w.code == "items_without_sales")
    assert {"Pain au chocolat ", "Boule 400g"} <= set(warning.product_ids)
