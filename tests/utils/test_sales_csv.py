"""Reading an uploaded sales CSV: a POS export as it comes out of the till, and errors naming the first bad line."""

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

from app.schemas.sales import CsvOptions
from app.utils.dates import day_number
from app.utils.sales_csv import CsvError, read_sales_csv
from tests.support.pos_export import OPTIONS, pos_export


def read(csv: bytes, **options: Any) -> Any:
    return read_sales_csv(csv, "sales.csv", 10**8, (10**6, "MAX_PAYLOAD_ROWS"), CsvOptions.model_validate(options))


def error(csv: bytes, **options: Any) -> str:
    with pytest.raises(CsvError) as raised:
        read(csv, **options)
    return str(raised.value)


def daily(product_ids: list[str], product: np.ndarray, day: np.ndarray, qty: np.ndarray,
          revenue: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame({"product_id": np.asarray(product_ids, dtype=object)[product], "day": day, "qty": qty,
                          "revenue": revenue})
    return frame.groupby(["product_id", "day"]).sum().round(9)


@pytest.mark.parametrize("datetime_column", [False, True])
def test_a_pos_export_goes_in_as_exported(datetime_column):
    """Index column, time and ticket columns, Quantity floats, "0,90 €" prices, and (second case) a datetime
    without a zone: every line is a sale, revenue is qty x unit_price."""
    export = pos_export(datetime_column=datetime_column)
    block = read(export.csv, **OPTIONS)
    assert block.values == len(export.rows)
    rows = pd.DataFrame(export.rows)
    codes, ids = pd.factorize(rows["product_id"])
    expected = daily(list(ids), codes, rows["date"].map(lambda d: day_number(date.fromisoformat(d))).to_numpy(),
                     rows["qty"].to_numpy(), rows["revenue"].to_numpy())
    got = daily(block.product_ids, block.product, block.day, block.qty, block.revenue)
    pd.testing.assert_frame_equal(got, expected)
    assert (block.qty < 0).any() and (block.revenue == 0).any()  # returns and free items came through
    ignored, computed = block.warnings
    assert ignored.code == "csv_columns_ignored"
    columns = "'(unnamed column 1)', 'ticket_number'" if datetime_column else \
        "'(unnamed column 1)', 'time', 'ticket_number'"
    assert f"columns not read: {columns};" in ignored.message
    assert computed.code == "revenue_from_unit_price" and computed.count == len(export.rows)


@pytest.mark.parametrize(("written", "value"), [
    ('"0,90 €"', 0.9), ('"1.234,56"', 1234.56), ("1.0", 1.0), ('"-0,90 €"', -0.9), ('"€ 1,20"', 1.2),
    ('"1\u00a0234,50 €"', 1234.5), ('"1\u202f234,5"', 1234.5), ("\u00a012,5\u00a0", None), ("7", 7.0),
])
def test_decimal_comma_and_currency_signs(written, value):
    csv = f"product_id,date,qty,unit_price\np1,2025-11-01,1,{written}\n".encode()
    if value is None:  # an unquoted decimal comma splits the field
        assert "line 2: 5 fields, but the header has 4" in error(csv, decimal=",", currency_signs=["€"])
        return
    assert read(csv, decimal=",", currency_signs=["€"]).revenue.tolist() == [value]


@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_spreadsheets_semicolons_or_tabs_separate_the_fields(separator):
    """French or German Excel saves "CSV" with semicolons (the comma is its decimal mark), unquoted."""
    lines = ["product_id;date;qty;unit_price;note", "p1;2025-11-01;1,5;0,90 €;a, b", "p2;2025-11-01;2;1,20 €;"]
    csv = "\n".join(line.replace(";", separator) for line in lines).encode() + b"\n"
    block = read(csv, decimal=",", currency_signs=["€"])
    assert block.product_ids == ["p1", "p2"] and block.qty.tolist() == [1.5, 2.0]
    assert block.revenue.tolist() == pytest.approx([1.35, 2.4])
    assert "'note'" in block.warnings[0].message
    assert "no column qty" in error(b"product_id;date;quantity\np1;2025-11-01;1\n")  # named, not a run-on column
    quoted = b'"a, b, c, d";product_id;date;qty\nx;p1;2025-11-01;1\n'  # as many commas, inside a quoted name
    assert read(quoted).qty.tolist() == [1.0]


def test_a_comma_makes_a_dot_a_thousands_separator_only_before_three_digits():
    csv = b'product_id,date,qty\np1,2025-11-01,"1,234.5"\n'
    assert "'1,234.5' is not a number" in error(csv, decimal=",")


def test_numbers_without_options_are_plain_and_a_failure_says_which_option_reads_them():
    assert read(b"product_id,date,qty,revenue\np1,2025-11-01, 1.5 ,3\n").qty.tolist() == [1.5]
    message = error('product_id,date,qty,revenue\np1,2025-11-01,1,3\np1,2025-11-02,1,"0,90 €"\n'.encode())
    assert message == ("sales.csv line 3, column revenue: '0,90 €' is not a number (a decimal comma and a currency "
                       'sign? the request part can say "csv": {"decimal": ",", "currency_signs": ["€"]})')


@pytest.mark.parametrize(("written", "day"), [
    ("2025-11-20", date(2025, 11, 20)), ("2010-12-01 08:26:00", date(2010, 12, 1)),
    ("2021-01-02T08:38", date(2021, 1, 2)), ("2021-01-02 23:59:59.5", date(2021, 1, 2)),
    ("2025-11-20T23:30:00-05:00", date(2025, 11, 20)), ("2025-11-20T00:10:00Z", date(2025, 11, 20)),
])
def test_a_datetime_counts_as_the_date_written_in_it_with_or_without_a_zone(written, day):
    block = read(f"product_id,date,qty\np1,{written},1\n".encode())
    assert block.day.tolist() == [day_number(day)]


def test_the_first_bad_line_is_named_not_the_first_bad_distinct_value():
    # '12/31/2025' sorts after '01/15/2025': the error used to name line 4
    csv = b"product_id,date,qty\np1,2025-11-01,1\np1,12/31/2025,1\np1,01/15/2025,1\np1,12/31/2025,1\n"
    assert error(csv).startswith("sales.csv line 3, column date: '12/31/2025' is not an ISO date")


@pytest.mark.parametrize(("lines", "named"), [
    ("p1,2025-11-01,x\np1,03/11/2025,1\n", "line 2, column qty: 'x' is not a number"),
    ("p1,03/11/2025,1\np1,2025-11-01,x\n", "line 2, column date: '03/11/2025'"),
    ("p1,2025-11-01,1\n,2025-02-30,\n", "line 3, column product_id: is empty"),
    ("p1,2025-11-01,1\np1,2025-02-30,1\n", "line 3, column date: '2025-02-30' is not an ISO date"),
    ("p1,2025-11-01,1e13\np1,,1\n", "line 2, column qty: 1e+13 is not a finite number within -1e12..1e12"),
])
def test_the_earliest_bad_line_is_named_whatever_its_column(lines, named):
    assert named in error(b"product_id,date,qty\n" + lines.encode())


def test_a_mapped_column_is_named_by_its_header_in_errors():
    message = error(b",date,article,Quantity\n0,2025-11-01,p1,abc\n", columns={"product_id": "article",
                                                                                 "qty": "Quantity"})
    assert message == "sales.csv line 2, column Quantity (qty): 'abc' is not a number"


def test_a_line_with_more_fields_than_the_header_is_refused_even_when_columns_are_ignored():
    csv = b",product_id,date,qty,unit_price\n0,p1,2025-11-01,1,0.90\n1,p1,2025-11-01,1,0,90\n"
    assert "line 3: 6 fields, but the header has 5" in error(csv)


def test_revenue_as_sent_wins_over_unit_price_which_is_then_ignored():
    block = read(b"product_id,date,qty,revenue,unit_price\np1,2025-11-01,2,5,9\n")
    assert block.revenue.tolist() == [5.0]
    assert [w.code for w in block.warnings] == ["csv_columns_ignored"] and "'unit_price'" in block.warnings[0].message


def test_a_line_without_a_price_has_no_revenue():
    block = read(b"product_id,date,qty,unit_price\np1,2025-11-01,2,1.5\np1,2025-11-02,3,\n")
    assert block.revenue[0] == 3.0 and np.isnan(block.revenue[1])
    assert block.warnings[0].count == 1


@pytest.mark.parametrize(("csv", "options", "words"), [
    (b"article,date,qty\np1,2025-11-01,1\n", {"columns": {"product_id": "sku"}},
     "csv.columns.product_id names the column 'sku', but the header has none; it has 'article', 'date', 'qty'"),
    (b"product_id,date,qty,qty\np1,2025-11-01,1,2\n", {}, "the header names the column 'qty' 2 times"),
    (b"sku,day,units\np1,2025-11-01,1\n", {}, "no column product_id, date, qty in the header ('sku', 'day', 'units')"),
])
def test_header_problems_are_named(csv, options, words):
    assert words in error(csv, **options)


def test_ids_stay_text_repeated_ignored_headers_do_not_matter_and_blank_lines_are_skipped():
    block = read(b"product_id,date,qty,note,note\n00042,2025-11-01,3,a,b\n\nNA,2025-11-01,1,,\n")
    assert block.product_ids == ["00042", "NA"] and block.values == 2
    assert "'note', 'note'" in block.warnings[0].message


def test_a_file_that_is_not_utf8_says_so():
    assert "not UTF-8 text" in error("product_id,date,qty,revenue\np1,2025-11-01,1,\"0,90 €\"\n".encode("cp1252"),
                                     decimal=",", currency_signs=["€"])


def test_a_character_across_the_check_chunks_is_text_and_a_bad_byte_after_them_names_its_line():
    """The UTF-8 check decodes 1 MiB at a time: a character split by a chunk's end is read whole, and the
    first bad byte is named by its line however far into the file."""
    header, line, mib = b"product_id,date,qty\n", b"p1,2025-11-01,1\n", 1 << 20
    lines = (mib - 1 - len(header) - 50) // len(line)
    pad = mib - 1 - len(header) - lines * len(line)  # the product id's last character starts at mib - 1
    straddling = header + line * lines + b"x" * pad + "\u00e9".encode() + b",2025-11-01,1\n"
    assert straddling[mib - 1:mib + 1] == "\u00e9".encode()
    assert read(straddling).values > 1
    lines = straddling.count(b"\n")
    assert f"sales.csv line {lines + 1}: not UTF-8 text (byte 0xff)" in error(straddling + b"p1,2025-11-02,\xff\n")
