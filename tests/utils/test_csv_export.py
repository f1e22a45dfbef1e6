"""CSV cells that cannot run as formulas, and file names that are safe in a header."""

import csv
import io

import pytest

from app.utils.csv_export import content_disposition, csv_response, safe_cell


@pytest.mark.parametrize("text", ["=1+2", "+1", "-1.5", "@SUM(A1)", "\tx", "\rx"])
def test_text_starting_with_a_formula_character_gets_a_leading_quote(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", [-1.5, -3, 0, 2.25, "p1", "a=b", "holt_winters", "2025-11-01"])
def test_numbers_and_other_text_are_unchanged(value):
    assert safe_cell(value) == value


def test_a_negative_number_stays_a_number_in_the_file():
    response = csv_response(["product_id", "delta"], [["-p", -1.5], ["p2", None]], "x.csv")
    rows = list(csv.reader(io.StringIO(response.body.decode())))
    assert rows == [["product_id", "delta"], ["'-p", "-1.5"], ["p2", ""]]


@pytest.mark.parametrize(("name", "ascii_name", "exact"), [
    ("forecast-s1-p1.csv", "forecast-s1-p1.csv", "forecast-s1-p1.csv"),
    ("forecast-店.csv", "forecast-_.csv", "forecast-%E5%BA%97.csv"),
    ('forecast-a"b\\c.csv', "forecast-a_b_c.csv", "forecast-a%22b_c.csv"),
    ("forecast-a\r\nSet-Cookie: x.csv", "forecast-a__Set-Cookie__x.csv", "forecast-a__Set-Cookie%3A%20x.csv"),
    ("forecast-../../etc.csv", "forecast-.._.._etc.csv", "forecast-.._.._etc.csv"),
])
def test_file_names_are_ascii_in_filename_and_exact_in_filename_star(name, ascii_name, exact):
    header = content_disposition(name)
    assert header == f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{exact}"
    header.encode("ascii")  # a header value Starlette can always encode
