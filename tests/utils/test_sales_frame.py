"""clean_sales: the data-quality rules every endpoint shares, and one answer whatever form the sales came in."""

from datetime import date, timedelta

import numpy as np
import pydantic_core
import pytest
from pydantic import TypeAdapter, ValidationError

from app.schemas.common import SaleRow
from app.schemas.sales import SalesBlock, SalesPayload
from app.utils.errors import InvalidInputError
from app.utils.sales_frame import MAX_HISTORY_DAYS, clean_sales, daily_net_units

EPOCH = date(1970, 1, 1)
AS_OF = date(2025, 3, 10)


def day(d: date) -> int:
    return (d - EPOCH).days


def row(product: str, d: date, qty: float, revenue: float | None = None) -> dict:
    return {"product_id": product, "date": d.isoformat(), "qty": qty, **({} if revenue is None else
                                                                           {"revenue": revenue})}


def payload(sales: list[dict] | None = None, series: list[dict] | None = None) -> SalesPayload:
    return SalesPayload.model_validate({"sales": sales or [], "series": series or []})


def codes(warnings) -> dict[str, tuple[int, list[str]]]:
    return {w.code: (w.count, w.product_ids) for w in warnings}


def as_set(sales) -> list[tuple]:
    revenue = sales.revenue if sales.revenue is not None else np.full(sales.size, np.nan)
    return sorted((str(sales.product_ids[p]), int(d), float(q), None if np.isnan(r) else float(r))
                  for p, d, q, r in zip(sales.product, sales.day, sales.qty, revenue, strict=True))


def test_lines_of_one_product_and_day_are_separate_sales_summed_and_reported():
    d = AS_OF - timedelta(days=1)
    lines = [row("a", d, 3, 6.0), row("a", d, 3, 6.0), row("a", d, 3, 9.0), row("a", d, 2), row("b", d, 3, 6.0)]
    sales, warnings = clean_sales(payload(lines), with_revenue=True)
    assert codes(warnings) == {"lines_aggregated": (4, ["a"])}  # two customers, two identical lines: both count
    assert "summed into 1 daily totals" in warnings[0].message
    assert daily_net_units(sales, 2, day(d), 1).tolist() == [[11.0], [3.0]]


def test_a_row_sent_twice_counts_once_when_the_caller_says_so():
    d = AS_OF - timedelta(days=1)
    body = payload([row("a", d, 3, 6.0), row("a", d, 3, 6.0), row("a", d, 3, 9.0), row("a", d, 2),
                    row("b", d, 3, 6.0)])
    sales, warnings = clean_sales(body.model_copy(update={"duplicates": "drop"}), with_revenue=True)
    assert codes(warnings) == {"duplicate_rows": (1, ["a"]), "lines_aggregated": (3, ["a"])}
    assert "counted once" in warnings[0].message
    # a different revenue or qty on the same day is another sale, kept and summed
    assert as_set(sales) == [("a", day(d), 2.0, None), ("a", day(d), 3.0, 6.0), ("a", day(d), 3.0, 9.0),
                             ("b", day(d), 3.0, 6.0)]
    assert daily_net_units(sales, 2, day(d), 1).tolist() == [[8.0], [3.0]]


def test_returns_are_netted_against_the_days_sales_and_a_negative_day_counts_as_zero():
    d1, d2 = AS_OF - timedelta(days=2), AS_OF - timedelta(days=1)
    sales, warnings = clean_sales(payload([row("a", d1, 5), row("a", d1, -2), row("a", d2, -4)]))
    assert codes(warnings) == {"lines_aggregated": (2, ["a"]), "returns_netted": (2, ["a"])}
    assert float(sales.qty.sum()) == -1.0  # totals stay net
    assert daily_net_units(sales, 1, day(d1), 2).tolist() == [[3.0, 0.0]]


def test_future_rows_are_dropped_with_a_warning():
    sales, warnings = clean_sales(payload([row("a", AS_OF, 1), row("a", AS_OF + timedelta(days=1), 7),
                                           row("b", AS_OF + timedelta(days=30), 2)]), as_of_day=day(AS_OF))
    assert codes(warnings) == {"future_sales": (2, ["a", "b"])}
    assert as_set(sales) == [("a", day(AS_OF), 1.0, None)]


def test_rows_more_than_ten_years_before_the_latest_are_dropped_with_a_warning():
    kept = AS_OF - timedelta(days=MAX_HISTORY_DAYS - 1)  # 3652 days before: still inside
    dropped = AS_OF - timedelta(days=MAX_HISTORY_DAYS)
    sales, warnings = clean_sales(payload([row("a", AS_OF, 1), row("a", kept, 2), row("b", dropped, 3)]))
    assert codes(warnings) == {"old_sales": (1, ["b"])}
    assert "10 years" in warnings[0].message
    assert as_set(sales) == [("a", day(kept), 2.0, None), ("a", day(AS_OF), 1.0, None)]


def test_unknown_products_are_dropped_and_named():
    sales, warnings = clean_sales(payload([row("a", AS_OF, 1), row("x", AS_OF, 2), row("y", AS_OF, 3),
                                           row("b", AS_OF, 4)]), product_ids=["a", "b"], source="inventory")
    assert codes(warnings) == {"unknown_products": (2, ["x", "y"])}
    assert warnings[0].message == ("2 sales rows were for products not in inventory: they get no answer, but their "
                                   "sales still train the request's shared forecast models and tell the shop's closed "
                                   "days.")
    assert sales.product_ids[:2].tolist() == ["a", "b"]  # codes index the request's own list
    assert sorted(zip(sales.product.tolist(), sales.qty.tolist(), strict=True)) == [(0, 1.0), (1, 4.0)]


def test_an_item_sold_only_after_as_of_is_named_with_the_day_its_sales_start_not_as_an_id_to_fix():
    later = AS_OF + timedelta(days=30)
    sent = payload([row("a", AS_OF, 1), row("NEW", later, 2), row("NEW", later + timedelta(days=1), 3),
                    row("TYPO", AS_OF, 4)])
    _, warnings = clean_sales(sent, ["a", "NEW"], day(AS_OF), "inventory")
    message = next(w for w in warnings if w.code == "items_without_sales").message
    assert message == ("1 inventory item has no sales up to as_of: 'NEW' (its sales start after as_of, on "
                       f"{later.isoformat()}). Their demand is unknown, not zero (their avg_daily_sales is read where "
                       "sent).")
    _, warnings = clean_sales(sent, ["a", "NEW", "typo"], day(AS_OF), "inventory")  # a mistyped id beside it
    message = next(w for w in warnings if w.code == "items_without_sales").message
    assert "'NEW' (its sales start after as_of" in message and "'typo' (the sales have 'TYPO')" in message
    assert message.endswith("a product_id must match the sales' exactly.")
    _, warnings = clean_sales(sent, ["a", "typo"], day(AS_OF), "inventory")
    assert "no sales in the request: 'typo' (the sales have 'TYPO')" in warnings[-1].message


def test_rows_series_and_an_uploaded_block_give_the_same_columns_as_rows_alone():
    start = AS_OF - timedelta(days=4)
    a = [row("a", start + timedelta(days=k), q, r) for k, (q, r) in enumerate([(1, 2.0), (2, 4.0), (-1, -2.0)])]
    b = [row("b", start + timedelta(days=k), q) for k, q in ((0, 5), (2, 6), (4, 7))]
    c = [row("c", start, 8, 16.0), row("c", start, 8, 16.0), row("c", AS_OF + timedelta(days=1), 9, 18.0)]
    d = [row("d", start, 1)]  # not in the request's products
    rows_alone = payload(a + b + c + d)

    series_b = {"product_id": "b", "start": start.isoformat(), "qty": [5, None, 6, None, 7]}
    block = SalesBlock(product_ids=["d", "c"], product=np.array([1, 1, 1, 0]),
                       day=np.array([day(start), day(start), day(AS_OF) + 1, day(start)]),
                       qty=np.array([8.0, 8.0, 9.0, 1.0]), revenue=np.array([16.0, 16.0, 18.0, np.nan]))
    mixed = payload(a, [series_b]).attach_upload(block)

    options = {"product_ids": ["a", "b", "c"], "as_of_day": day(AS_OF), "source": "items", "with_revenue": True}
    expected, expected_warnings = clean_sales(rows_alone.model_copy(update={"duplicates": "drop"}), **options)
    got, got_warnings = clean_sales(mixed.model_copy(update={"duplicates": "drop"}), **options)
    assert as_set(got) == as_set(expected)
    assert len(as_set(got)) == 3 + 3 + 1  # c's copy, c's future row and d are gone
    assert [w.model_dump() for w in got_warnings] == [w.model_dump() for w in expected_warnings]
    assert codes(got_warnings) == {"duplicate_rows": (1, ["c"]), "unknown_products": (1, ["d"]),
                                   "future_sales": (1, ["c"]), "returns_netted": (1, ["a"])}
    np.testing.assert_array_equal(daily_net_units(got, 3, day(start), 5), daily_net_units(expected, 3, day(start), 5))


def test_rows_read_once_per_request_give_the_same_columns_to_every_reader():
    """At-risk and the forecast it reads clean the same payload: the second reads the rows kept by the first,
    with its own product codes, and nothing one reader does to its columns reaches the other."""
    d = AS_OF - timedelta(days=2)
    sent = payload([row("b", d, 2, 4.0), row("a", d, -1), row("a", d + timedelta(days=1), 5, 10.0)])
    first, _ = clean_sales(sent, ["a", "b"], with_revenue=True)
    first.qty[:] = -99.0
    first.day[:] = 0
    second, _ = clean_sales(sent, with_revenue=True)  # codes in order of first appearance this time
    fresh, _ = clean_sales(payload([row("b", d, 2, 4.0), row("a", d, -1), row("a", d + timedelta(days=1), 5, 10.0)]),
                           with_revenue=True)
    assert as_set(second) == as_set(fresh)
    assert list(second.product_ids) == ["b", "a"]
    assert sent.row_cache  # it was read once and kept


def test_a_payload_whose_rows_were_replaced_is_read_again():
    d = AS_OF - timedelta(days=2)
    sent = payload([row("a", d, 2)])
    clean_sales(sent)
    changed = sent.model_copy(update={"sales": [row("a", d, 7)]})
    sales, _ = clean_sales(changed)
    assert sales.qty.tolist() == [7.0]


def test_an_impossible_date_names_the_row_it_is_on():
    d = AS_OF - timedelta(days=2)
    sent = payload([row("a", d, 2), row("a", d, 1), {"product_id": "b", "date": "2025-02-30", "qty": 1}])
    try:
        clean_sales(sent)
    except InvalidInputError as error:
        assert error.field == "sales[2].date"
    else:
        raise AssertionError("2025-02-30 was read as a date")


GOOD = {"product_id": "a", "date": "2025-03-01", "qty": 2.0, "revenue": 5.0}


@pytest.mark.parametrize("bad", [
    {"revenue": float("nan")}, {"qty": float("inf")}, {"qty": 2e12}, {"qty": True}, {"qty": "2"}, {"qty": None},
    {"revenue": "5"}, {"product_id": ""}, {"product_id": "x" * 129}, {"product_id": None},
    {"date": "2025-03-01\n"}, {"date": "20250301"}, {"date": 20250301}, {"store": "s1"},
    {"product_id": {"id": "a"}}, {"product_id": ["a"]}, {"date": ["2025-03-01"]},  # unhashable: the fuzzer's 500
])
def test_rows_read_a_column_at_a_time_are_refused_as_pydantic_refuses_each_row(bad):
    """The columnar check of plain rows (`read_rows`) lets no row through that the row model refuses: the error
    names the row and field as pydantic's row by row validation does."""
    rows = [GOOD, {**GOOD, **bad}]
    with pytest.raises(ValidationError) as row_by_row:
        TypeAdapter(list[SaleRow]).validate_python(rows)
    with pytest.raises(ValidationError) as read:
        SalesPayload.model_validate({"sales": rows})
    assert [e["loc"] for e in read.value.errors()] == [("sales", *e["loc"]) for e in row_by_row.value.errors()]


def test_rows_read_a_column_at_a_time_give_the_answer_of_rows_validated_one_by_one():
    """Plain rows (text ids, float numbers) are read a column at a time; integers and numeric ids go through
    pydantic's row by row validation: the same sales either way."""
    d = AS_OF - timedelta(days=1)
    plain = [row("7", d, 3.0, 6.0), row("b", d, -1.0), {**row("7", d - timedelta(days=1), 2.0), "revenue": None}]
    numeric = [{**plain[0], "product_id": 7, "qty": 3}, {**plain[1], "qty": -1}, {**plain[2], "product_id": 7}]
    answers = []
    for rows in (plain, numeric, pydantic_core.from_json(pydantic_core.to_json(plain))):
        sales, warnings = clean_sales(payload(rows), with_revenue=True)
        answers.append((as_set(sales), codes(warnings)))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == [("7", day(d) - 1, 2.0, None), ("7", day(d), 3.0, 6.0), ("b", day(d), -1.0, None)]


def test_a_row_added_after_validation_is_read():
    """The columns kept from validation are those of the rows then: a row added since is read with the others."""
    d = AS_OF - timedelta(days=1)
    body = payload([row("a", d, 3.0)])
    body.sales.append(row("b", d, 2.0))
    sales, _ = clean_sales(body)
    assert as_set(sales) == [("a", day(d), 3.0, None), ("b", day(d), 2.0, None)]
