"""Promotion pairing, discounts, margins, clear-out estimates and unmatched reasons."""

import re
from datetime import date, timedelta

import pytest

from app.config import Settings
from app.schemas.at_risk import AtRiskRequest
from app.schemas.promotions import PROMOTIONS_EXAMPLE, PromotionsRequest
from app.services.decisions.at_risk import find_at_risk
from app.services.decisions.promotions import plan_promotions
from app.utils.errors import SmartShelfError
from tests.support.synthetic import priced_shop

AS_OF = date(2025, 11, 15)
SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]


def day(offset: int) -> str:
    return (AS_OF + timedelta(days=offset)).isoformat()


def item(product_id: str, quantity: float, expires_in: int, **extra) -> dict:
    return {"product_id": product_id, "name": f"Item {product_id}", "expiry_date": day(expires_in),
            "quantity": quantity, "price": 10.0, **extra}


def event(event_id: str, in_days: int, audience: str = "all", title: str = "Sale") -> dict:
    return {"id": event_id, "date": day(in_days), "title": title, "audience": audience}


def run(items, events, settings=SETTINGS, **body):
    request = PromotionsRequest.model_validate(
        {"shop_id": "s", "items": items, "calendar_events": events, "as_of": AS_OF.isoformat(), **body})
    return plan_promotions(request, settings)


def test_event_after_expiry_is_never_paired_and_item_is_explained():
    response = run([item("a", 10, 5, avg_daily_sales=1)], [event("late", 6)])
    assert response.promotions == []
    assert response.unmatched[0].product_id == "a"
    assert response.unmatched[0].reason == ("no calendar event up to its last selling day, 5 days away "
                                            "(the next event is 6 days away)")


def test_an_event_on_the_expiry_day_is_the_stocks_last_selling_day():
    """Review 3 F6: expiry_date is the last day the stock may be sold, and the promotion runs to it; an event on
    it was refused, "no calendar event before its expiry in 2 days (next event is 2 days away)"."""
    response = run([item("a", 10, 5, avg_daily_sales=1)], [event("late", 6), event("on_expiry", 5)])
    assert [(p.event_id, p.start_date, p.end_date) for p in response.promotions] == [
        ("on_expiry", AS_OF + timedelta(days=3), AS_OF + timedelta(days=5))]
    assert response.promotions[0].without_promotion.units_left == 5


def test_best_event_first_by_audience_fit_then_date():
    items = [item("a", 30, 10, avg_daily_sales=1, categories=["Beverages", "energy drinks"])]
    events = [event("fam", 2, "families"), event("stu", 4, "students"), event("gen", 1, "everyone")]
    response = run(items, events, preferences={"max_events_per_item": 3})
    assert [p.event_id for p in response.promotions] == ["stu", "gen", "fam"]
    assert [p.rank for p in response.promotions] == [1, 2, 3]
    assert response.promotions[0].audience_fit == 1.0 and response.promotions[1].audience_fit == 0.5


def test_discount_is_the_smallest_5pct_step_that_clears_the_leftover_in_time():
    # 24 units at 2/day over the 10 days to expiry: 4 left at full price. The promotion runs day 3 (event 10 -
    # lead 7) .. day 10 (the event, on the expiry day): 8 days at 2/day = 16 units anyway; 4 more need a lift of
    # 4/16 = 25% -> 12.5% off at the constant rule's 2 -> 15%
    response = run([item("a", 24, 10, avg_daily_sales=2, cost=4.0)], [event("e", 10)], preferences={"lead_days": 7})
    promo = response.promotions[0]
    assert (promo.start_date, promo.end_date) == (AS_OF + timedelta(days=3), AS_OF + timedelta(days=10))
    assert promo.suggested_discount_pct == 15.0
    assert promo.projected_sales_lift == 30.0
    assert promo.expected_clear_days == 10  # 4 by day 2, then 2.6/day: 24 sold on day 10, 22.2 on day 9
    assert promo.confidence == "high"
    # without: 20 sold at 10, 4 written off; with: 4 at full price before it, then 20 at 8.5
    assert (promo.without_promotion.units_sold, promo.without_promotion.units_left) == (20, 4)
    assert promo.without_promotion.revenue == 200 and promo.without_promotion.margin == 200 - 24 * 4
    assert promo.with_promotion.units_left == 0 and promo.with_promotion.revenue == pytest.approx(210)
    assert promo.with_promotion.margin == pytest.approx(210 - 96)


def test_discount_never_exceeds_the_preference_and_keeps_the_margin():
    items = [item("a", 500, 10, avg_daily_sales=1, cost=7.0), item("b", 500, 10, avg_daily_sales=1)]
    response = run(items, [event("e", 3)], preferences={"discount_max_pct": 30, "min_margin_pct": 10})
    found = {p.product_id: p for p in response.promotions}
    # margin floor: 10 * (1 - d) >= 7 / 0.9 -> d <= 22.2% -> 20%
    assert found["a"].suggested_discount_pct == 20.0
    assert 10 * (1 - found["a"].suggested_discount_pct / 100) >= 7.0 / 0.9
    assert found["b"].suggested_discount_pct == 30.0
    assert found["a"].confidence == "low"  # cannot clear 500 units in time


def test_no_discount_room_is_an_unmatched_reason():
    response = run([item("a", 30, 10, avg_daily_sales=1, cost=9.5)], [event("e", 3)])
    assert response.promotions == []
    assert "no discount room" in response.unmatched[0].reason


def test_expired_and_empty_items_are_listed_with_reasons():
    response = run([item("old", 5, -1), item("today", 5, 0), item("none", 0, 5)], [event("e", 1)])
    reasons = {u.product_id: u.reason for u in response.unmatched}
    assert reasons["old"].startswith("expired 1 day ago")  # owner review F8: was "1 days"
    single = run([item("one", 1, 1, avg_daily_sales=2)], [event("e", 1)]).unmatched[0].reason
    assert single == "sells out at full price: at 2.00/day it sells the 1 unit on hand within the 1 day left; " \
        "no discount needed"
    assert reasons["today"].startswith("expires today")
    assert reasons["none"].startswith("nothing on hand")
    assert response.meta.items_unmatched == 3


def test_an_event_on_as_of_is_over_before_a_promotion_can_start():
    """Owner review F4: as_of is the last day the sales cover and a promotion starts the day after at the earliest;
    Saturday's market on as_of was paired with a promotion running Sunday-Monday, beating Sunday's brunch."""
    items = [item("a", 10, 5, avg_daily_sales=1)]
    response = run(items, [event("market", 0, "families"), event("brunch", 1)])
    assert [(p.event_id, p.start_date) for p in response.promotions] == [("brunch", AS_OF + timedelta(days=1))]
    alone = run(items, [event("market", 0, "families")])
    assert alone.promotions == [] and alone.unmatched[0].reason.startswith("no calendar event after as_of")


def test_a_sold_out_item_without_a_sell_by_day_is_unmatched_not_refused():
    """Owner review F5: one inventory row sent as is (0 on hand, no expiry_date or season_end) refused the whole
    request with a 422; it has nothing to promote."""
    sold_out = {"product_id": "gone", "name": "Gone", "quantity": 0, "price": 2.0}
    response = run([sold_out, item("a", 10, 5, avg_daily_sales=1)], [event("e", 2)])
    assert [p.product_id for p in response.promotions] == ["a"]
    assert [(u.product_id, u.reason) for u in response.unmatched] == [
        ("gone", "nothing on hand (quantity 0): nothing to promote")]


def test_base_rate_from_sales_since_first_sale_at_least_seven_days():
    sales = [{"product_id": "a", "date": day(-k), "qty": 3} for k in range(10)]  # 3/day over 10 days
    promo = run([item("a", 60, 10)], [event("e", 2)], sales=sales).promotions[0]
    assert "3.00/day" in promo.reasoning
    short = [{"product_id": "b", "date": day(0), "qty": 14}]  # one sale: 14 over the 7-day minimum
    promo_b = run([item("b", 60, 10)], [event("e", 2)], sales=short).promotions[0]
    assert "2.00/day" in promo_b.reasoning


def test_expected_clear_days_is_the_day_the_stock_sells_out_or_none():
    """Review 3 F8: 40 units with 3 days left, 10.27 of them left with the promotion, were said to clear in 5 days
    (the quantity over the promoted rate, ignoring the sell-by day and the days before the promotion)."""
    short = run([item("a", 30, 5, avg_daily_sales=1)], [event("e", 3)], preferences={"discount_max_pct": 20})
    promo = short.promotions[0]  # days 1-5 at 20% off, +40%: 5 x 1.4 = 7 sold, 23 left at expiry
    assert promo.with_promotion.units_left == 23 and promo.expected_clear_days is None  # was ceil(30 / 1.4) = 22
    assert promo.confidence == "low"
    # 12 at 1/day, a promotion on days 6-10 at 20% off (+40%): 5 sold before it, 7 during it, the last on day 10
    late = run([item("b", 12, 10, avg_daily_sales=1)], [event("e", 10)], preferences={"lead_days": 4}).promotions[0]
    assert (late.start_date, late.suggested_discount_pct, late.with_promotion.units_left) == (
        AS_OF + timedelta(days=6), 20.0, 0)
    assert late.expected_clear_days == 10  # was ceil(12 / 1.4) = 9, as if it all sold at the promoted rate


def test_the_rate_quoted_gives_the_units_left_beside_it(client):
    """Review 3 F7: "3.02/day by its forecast ... leaves 23.48 units unsold" for 40 units with 3 days left
    (40 - 3 x 3.02 = 30.9): the rate was the forecast's 28-day mean, the units left its first 3 days'."""
    sales = [{"product_id": "a", "date": day(-k), "qty": 20 if (AS_OF - timedelta(days=k)).weekday() == 6 else 2}
             for k in range(120)]  # Sundays sell 20, the other days 2; as_of is a Saturday
    body = {"shop_id": "rate-quoted", "as_of": AS_OF.isoformat(), "sales": sales,
            "items": [item("a", 40, 3)], "calendar_events": [event("e", 1)]}
    response = client.post("/api/v1/smart-shelf/promotions", json=body)
    assert response.status_code == 200, response.text
    promotion = response.json()["promotions"][0]
    quoted = re.search(r"by its forecast \([^,]+, ([0-9.]+)/day[^)]*\) it leaves ([0-9.]+) units",
                       promotion["reasoning"])
    assert quoted, promotion["reasoning"]
    rate, left = float(quoted.group(1)), float(quoted.group(2))
    assert left == promotion["without_promotion"]["units_left"]
    assert 40 - 3 * rate == pytest.approx(left, abs=0.02)
    assert rate > 6  # Sunday's 20 and two weekdays' 2, not the week's mean 4.6
    assert "/day over the 3 days left)" in promotion["reasoning"]


def test_no_sales_history_and_no_rate_is_an_unknown_demand_with_no_promotion():
    """A review: inventory typed 'Croissant' against the till's CROISSANT (70 a day) got 20 % off 'because no sales
    history', where at-risk says its demand is unknown: no promotion on a guess, and the warning names the id."""
    response = run([item("a", 10, 10)], [event("e", 2)])
    assert response.promotions == []
    assert "its demand is unknown, so no promotion on a guess" in response.unmatched[0].reason
    assert [w.code for w in response.warnings if w.code == "items_without_sales"] == ["items_without_sales"]
    # a season that ended does not turn an unknown demand into 'clear it or store it' (at-risk says monitor)
    ended = run([item("b", 10, 10, season_end=day(-10))], [event("e", 2)]).unmatched[0].reason
    assert "its demand is unknown" in ended and "store it" not in ended, ended


def test_elasticity_setting_scales_the_lift():
    settings = Settings(_env_file=None, promotion_elasticity_multiplier=3.0)  # type: ignore[call-arg]
    promo = run([item("a", 24, 10, avg_daily_sales=2)], [event("e", 10)], settings=settings,
                preferences={"lead_days": 7}).promotions[0]
    assert promo.suggested_discount_pct == 10.0  # 25 / 3 = 8.3 -> 10
    assert promo.projected_sales_lift == 30.0


def test_duplicate_event_ids_are_rejected():
    with pytest.raises(SmartShelfError) as error:
        run([item("a", 1, 5)], [event("e", 1), event("e", 2)])
    assert error.value.field == "calendar_events[1].id"


def test_swagger_example_pairs_berries_with_the_family_weekend():
    request = PromotionsRequest.model_validate(PROMOTIONS_EXAMPLE)
    response = plan_promotions(request, SETTINGS)
    berries = next(p for p in response.promotions if p.product_id == "p001")
    assert berries.event_id == "evt_001" and berries.audience_fit == 1.0
    assert berries.suggested_discount_pct <= 40.0
    assert response.meta.promotions_generated == len(response.promotions) == 2


def priced_sales(elasticity: float, products: int = 30, days: int = 364) -> list[dict]:
    """Sales rows with revenue of a synthetic shop whose units follow price ** elasticity, up to AS_OF."""
    units, price = priced_shop(days, 0, products=products, elasticity=elasticity, seed=11)
    first = AS_OF - timedelta(days=days - 1)
    return [{"product_id": f"p{k}", "date": (first + timedelta(days=d)).isoformat(), "qty": float(units[k, d]),
             "revenue": round(float(units[k, d] * price[k, d]), 2)}
            for k in range(products) for d in range(days) if units[k, d] > 0]


def test_the_lift_comes_from_the_items_learned_elasticity():
    sales = priced_sales(-2.0)
    items = [item(f"p{k}", 900, 20) for k in range(3)]
    learned = run(items, [event("e", 3)], sales=sales)
    for promotion in learned.promotions:
        assert promotion.elasticity_source == "learned" and -2.4 < promotion.price_elasticity < -1.6
        discount = promotion.suggested_discount_pct
        expected = ((1 - discount / 100) ** promotion.price_elasticity - 1) * 100
        assert promotion.projected_sales_lift == pytest.approx(expected, abs=0.1)
        assert "learned from its sales and prices" in promotion.reasoning
    # the same sales without revenue: the constant rule, and the answer says so
    plain = run(items, [event("e", 3)], sales=[{k: v for k, v in row.items() if k != "revenue"} for row in sales])
    assert {p.elasticity_source for p in plain.promotions} == {"constant"}
    assert all(p.price_elasticity is None for p in plain.promotions)
    assert all(p.projected_sales_lift == pytest.approx(p.suggested_discount_pct * 2.0) for p in plain.promotions)


def test_a_steeper_learned_elasticity_needs_a_smaller_discount():
    items = [item("p0", 900, 20)]
    gentle = run(items, [event("e", 3)], sales=priced_sales(-2.0)).promotions[0]
    steep = run(items, [event("e", 3)], sales=priced_sales(-3.0)).promotions[0]
    assert steep.price_elasticity < gentle.price_elasticity
    assert steep.suggested_discount_pct <= gentle.suggested_discount_pct


def test_prices_sent_apart_from_sales_teach_the_elasticity():
    units, price = priced_shop(364, 0, products=30, elasticity=-2.0, seed=11)
    first = AS_OF - timedelta(days=363)
    sales = [{"product_id": f"p{k}", "date": (first + timedelta(days=d)).isoformat(), "qty": float(units[k, d])}
             for k in range(30) for d in range(364) if units[k, d] > 0]
    prices = [{"product_id": f"p{k}", "start": first.isoformat(), "price": price[k].tolist()} for k in range(30)]
    items = [item(f"p{k}", 400, 20) for k in range(30)]
    answer = run(items, [event("e", 3)], sales=sales, prices=prices)
    assert {p.elasticity_source for p in answer.promotions} == {"learned"}
    assert not [w for w in answer.warnings if w.code == "driver_unused"]


def test_stock_that_sells_out_at_full_price_gets_no_promotion():
    """Issue #24: 15 of 24 seasonal items discounted for the season's last two weeks sold out at full price,
    among them the last paper-chain kit ('5% off')."""
    items = [item("kit", 1, 30, avg_daily_sales=0.5, season_end=day(14)),
             item("crackers", 6, 30, avg_daily_sales=1, season_end=day(14))]
    response = run(items, [event("xmas", 3, title="Christmas")])
    assert response.promotions == []
    assert all(u.reason.startswith("sells out at full price") for u in response.unmatched)
    left = run([item("crackers", 30, 30, avg_daily_sales=1, season_end=day(14))], [event("xmas", 3)])
    promo = left.promotions[0]  # 14 sell by the season's end: 16 are left over
    assert promo.without_promotion.units_left == 16 and promo.end_date == AS_OF + timedelta(days=14)  # season end
    over = run([item("easter", 30, 30, avg_daily_sales=1, season_end=day(-200))], [event("xmas", 3)])
    assert over.unmatched[0].reason.startswith("its season ended 200 days ago")


def test_a_promotion_that_would_not_pay_is_not_suggested():
    """A unit-elastic item's discount only moves units that would sell anyway at full price: no revenue gain."""
    response = run([item("p0", 900, 20)], [event("e", 3)], sales=priced_sales(-1.0))
    assert response.promotions == [] and response.unmatched[0].reason.startswith("a promotion would not pay")


def test_at_risk_and_promotions_name_the_same_discount():
    """Issue #24: one number: a promotion from tomorrow to expiry (an event on the expiry day, 9 days' lead)
    suggests the at-risk markdown."""
    sales = [{"product_id": "a", "date": day(-k), "qty": 2} for k in range(30)]
    for quantity in (24, 31, 38):
        promo = run([item("a", quantity, 10)], [event("e", 10)], sales=sales, preferences={"lead_days": 9})
        assert (promo.promotions[0].start_date, promo.promotions[0].end_date) == (AS_OF + timedelta(days=1),
                                                                                  AS_OF + timedelta(days=10))
        risk = find_at_risk(AtRiskRequest.model_validate({
            "shop_id": "s", "as_of": AS_OF.isoformat(), "sales": sales,
            "inventory": [item("a", quantity, 10) | {"expiry_date": day(10)}]}), SETTINGS)
        low, high = risk.at_risk[0].recommended_action.discount_range
        assert low == high == promo.promotions[0].suggested_discount_pct


def test_a_seasonal_row_with_season_end_and_no_expiry_is_planned_by_its_season(client):
    """Review finding 9: the same seasonal row (season_end, no expiry_date) that at-risk and reorder accept was a
    422 `items[0].expiry_date: Field required` at /promotions. Its sell-by day is the earlier of the two; a row
    with neither has no sell-by day and is unmatched (review 5 F9)."""
    seasonal = {"product_id": "log", "name": "Log", "quantity": 40, "price": 10.0, "season_end": day(6),
                "avg_daily_sales": 2}
    body = {"shop_id": "s", "as_of": AS_OF.isoformat(), "items": [seasonal], "calendar_events": [event("e", 2)],
            "sales": [{"product_id": "other", "date": day(-1), "qty": 1}]}
    response = client.post("/api/v1/smart-shelf/promotions", json=body)
    assert response.status_code == 200, response.text
    promotion = response.json()["promotions"][0]
    assert promotion["end_date"] == day(6) and promotion["without_promotion"]["units_left"] == 28  # 40 - 6 x 2
    earlier = {**seasonal, "expiry_date": day(4)}
    promotion = client.post("/api/v1/smart-shelf/promotions", json={**body, "items": [earlier]}).json()["promotions"]
    assert promotion[0]["without_promotion"]["units_left"] == 32  # 40 - 4 x 2
    neither = {k: v for k, v in seasonal.items() if k != "season_end"}
    response = client.post("/api/v1/smart-shelf/promotions", json={**body, "items": [neither]})
    assert response.status_code == 200, response.text
    assert response.json()["unmatched"][0]["reason"].startswith("no sell-by day")


def test_a_cut_whose_cap_would_not_pay_is_the_one_that_earns_the_most():
    """Review 3: with discount_max_pct 50 and the constant rule (50 % off lifts sales 100 %), a stock no cut clears
    got 50 % off, which earns what full price does, and was refused as 'a promotion would not pay'."""
    response = run([item("a", 500, 10, avg_daily_sales=1)], [event("e", 3)],
                   preferences={"discount_max_pct": 50, "min_margin_pct": 0})
    assert response.unmatched == [], response.unmatched
    promotion = response.promotions[0]
    assert promotion.suggested_discount_pct == 25.0
    assert promotion.with_promotion.revenue > promotion.without_promotion.revenue


def test_an_event_on_a_closed_day_does_not_qualify_and_the_promotion_starts_on_an_open_day():
    """Review 5 F8: every promotion paired with Wednesday's market on a Wednesday the owner declared closed,
    starting that day ("must sell within 2 days" counted it), and Thursday's Epiphany was not chosen."""
    closed = {"closed_weekdays": ["monday"]}  # AS_OF is a Saturday: day 2 is Monday the 17th
    items = [item("a", 20, 4, avg_daily_sales=1, categories=["family"])]
    events = [event("monday", 2, "families"), event("tuesday", 3)]
    response = run(items, events, preferences={"lead_days": 1}, **closed)
    promo = response.promotions[0]
    # one open day before Tuesday is Sunday, not the closed Monday
    assert (promo.event_id, promo.start_date, promo.end_date) == ("tuesday", AS_OF + timedelta(days=1),
                                                                  AS_OF + timedelta(days=4))
    # 1/day on the 3 open days of the 4 to expiry: 3 sell, 17 are left
    assert promo.without_promotion.units_left == 17
    assert "at full price at 1.00/day it leaves 17 units unsold" in promo.reasoning
    assert "20 units must sell within 3 open days (the shop is closed on 1 of the 4 days)" in promo.reasoning
    alone = run(items, [event("monday", 2, "families")], **closed)
    assert alone.promotions == []
    assert alone.unmatched[0].reason == ("the calendar events up to its last selling day, 4 days away, fall on days "
                                         "the shop is closed (2025-11-17): a promotion needs the shop open")


def test_a_one_day_event_is_no_promotion_of_every_day_to_a_distant_sell_by_day():
    """Review 5 F8: croutons expiring in 60 days paired with a one-day event ran at 40% off from the event to the
    expiry, two months: a promotion runs a fortnight from its event's day at most (PROMOTION_DAYS)."""
    promo = run([item("croutons", 30, 60, avg_daily_sales=0.2)], [event("epiphany", 5)]).promotions[0]
    assert (promo.start_date, promo.end_date) == (AS_OF + timedelta(days=3), AS_OF + timedelta(days=18))


def test_an_item_without_a_sell_by_day_is_unmatched_not_a_422(client):
    """Review 5 F9: the inventory at-risk and reorder accept made promotions a 422 for its canned drinks (no
    expiry_date or season_end); the perishables got no promotion."""
    cans = {"product_id": "cans", "name": "Cans", "quantity": 80, "price": 1.5, "avg_daily_sales": 2}
    body = {"shop_id": "s", "as_of": AS_OF.isoformat(), "items": [cans, item("a", 10, 5, avg_daily_sales=1)],
            "calendar_events": [event("e", 2)], "sales": [{"product_id": "other", "date": day(-1), "qty": 1}]}
    response = client.post("/api/v1/smart-shelf/promotions", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [p["product_id"] for p in answer["promotions"]] == ["a"]
    assert answer["unmatched"] == [{"product_id": "cans", "product_name": "Cans", "reason": (
        "no sell-by day (no expiry_date or season_end): nothing to clear before a date; send expiry_date to plan a "
        "promotion for it")}]


def test_the_best_event_alone_is_the_first_of_the_ranked_events_ties_to_the_earlier_then_the_first_sent():
    """One event per item (the default) is found without ranking every event; it is the first of the ranking
    the longer lists show: ties in score go to the earlier event, then to the event sent first."""
    categories = [["dairy"], ["snacks"], [], ["beverages", "energy"]]
    items = [item(f"p{k}", 40, 6 + k % 5, avg_daily_sales=1, categories=categories[k % 4]) for k in range(12)]
    events = [event("b", 2, "students"), event("a", 2, "students"), event("c", 3, "students"),
              event("d", 3, "families"), event("e", 2, "everyone"), event("f", 2, "all")]
    best = run(items, events)
    ranked = run(items, events, preferences={"max_events_per_item": 6})
    firsts = {p.product_id: p.event_id for p in ranked.promotions if p.rank == 1}
    assert {p.product_id: p.event_id for p in best.promotions} == firsts
    assert [p.event_id for p in ranked.promotions if p.product_id == "p1"][:3] == ["b", "a", "c"]  # snacks
    assert (firsts["p0"], firsts["p1"], firsts["p2"]) == ("d", "b", "b")  # dairy: families; no categories: a tie
