"""Catalog ingestion: every problem row reported with file:line, valid rows never lost."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from retrieval.catalog import CatalogError, load_catalog, parse_mapping, parse_price
from tests.conftest import shared_data

HEADER = "product_id,title,price,list_price,rating,category\n"


def _write(tmp_path, name, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_malformed_csv_reports_each_bad_row_and_keeps_valid_ones(tmp_path):
    body = (HEADER +
            "P1,Good cable,199,299,4.2,Electronics|Cables\n"
            ",No id here,100,,4,X\n"                       # line 3: missing id
            "P3,Bad price,abc,,4,X\n"                      # line 4: non-numeric price
            "P4,Negative,-5,,4,X\n"                        # line 5: negative price
            "P1,Good cable dup,149,299,4.2,Electronics\n"  # line 6: conflicting duplicate
            "P6,Rated oddly,50,40,|,X\n")                  # line 7: bad rating, list < price
    path = _write(tmp_path, "cat.csv", body.encode() + "P7,Caf\xe9 latte,10,,3,X\n".encode("latin-1"))
    store, report = load_catalog(path, "csv")
    assert set(store.products) == {"P1", "P6", "P7"}
    assert store.products["P1"].price == 199  # first row wins, conflict reported
    by_line = {i.line: i for i in report.issues}
    assert by_line[3].action == "rejected" and "missing product_id" in by_line[3].reason
    assert by_line[4].action == "rejected" and "non-numeric price" in by_line[4].reason
    assert by_line[5].action == "rejected" and "negative" in by_line[5].reason
    assert by_line[6].action == "merged" and "conflicting price" in by_line[6].reason
    assert any(i.line == 7 and "rating" in i.reason for i in report.issues)
    assert any(i.line == 8 and "UTF-8" in i.reason for i in report.issues)
    assert all(str(path) in str(i) for i in report.issues)
    assert store.products["P6"].rating is None and store.products["P6"].list_price == 50
    assert "\ufffd" in store.products["P7"].title


def test_strict_mode_turns_any_problem_into_an_error(tmp_path):
    path = _write(tmp_path, "cat.csv", (HEADER + "P1,ok,1,,4,X\nP2,bad,abc,,4,X\n").encode())
    with pytest.raises(CatalogError, match=r"cat.csv:3"):
        load_catalog(path, "csv", strict=True)


def test_jsonl_with_mapping_and_broken_line(tmp_path):
    lines = [json.dumps({"doc_id": "d1", "name": "防水跑步鞋", "cost": "¥299"}), "{not json",
             json.dumps({"doc_id": "d2", "name": "rice cooker", "cost": 45})]
    path = _write(tmp_path, "c.jsonl", "\n".join(lines).encode())
    store, report = load_catalog(path, mapping=parse_mapping(["product_id=doc_id", "title=name", "price=cost"]))
    assert store.products["d1"].price == 299 and store.products["d1"].lang == "zh"
    assert store.products["d2"].price == 45
    assert [(i.line, i.action) for i in report.issues] == [(2, "rejected")]


def test_unknown_map_field_is_a_clear_error():
    with pytest.raises(CatalogError, match="unknown product field"):
        parse_mapping(["colour=c"])


@pytest.mark.parametrize("text,value", [("₹1,099", 1099), ("₹1,39,900", 139900), ("$12.50", 12.5),
                                        ("12,50 €", 12.5), ("Rs. 799", 799), ("1 299", 1299), (" 7 ", 7)])
def test_parse_price_formats(text, value):
    assert parse_price(text) == pytest.approx(value)


@given(st.floats(min_value=0, max_value=10_000_000, allow_nan=False).map(lambda x: round(x, 2)),
       st.sampled_from(["₹{:,.2f}", "${:,.2f}", "{:.2f}", "Rs. {:,.2f}", "{:,.2f} INR", "USD {:.2f}"]))
def test_parse_price_round_trips_formatted_prices(value, template):
    assert parse_price(template.format(value)) == pytest.approx(value)


@given(st.text())
def test_parse_price_never_crashes_unexpectedly(text):
    try:
        result = parse_price(text)
    except ValueError:
        return
    assert result is None or isinstance(result, float)


def test_amazon_in_catalog_loads_with_duplicates_merged():
    path = shared_data("catalog_amazon_in/amazon.csv")
    store, report = load_catalog(path, "amazon_in")
    assert len(store.products) == 1351
    assert report.rows_read == 1465
    assert report.count("merged") == 1465 - 1351
    assert report.count("rejected") == 0
    p = next(iter(store.products.values()))
    assert p.price > 0 and p.category and p.image_url.startswith("http")
    assert len(store.reviews) > 1300
    assert all(p.list_price is None or p.list_price >= p.price for p in store.products.values())


# ---- structural damage: field counts, quotes that run over rows, empty required fields, empty files ----

def test_an_unclosed_quote_is_reported_and_the_rows_it_swallowed_are_read_again(tmp_path):
    body = (HEADER + "P1,Good cable,199,299,4.2,X\n"
            'P2,"Broken title,100,,4,X\n'                  # line 3: the quote is never closed
            "P3,Lamp,300,,4,X\nP4,Mug,150,,4,X\n")
    store, report = load_catalog(_write(tmp_path, "cat.csv", body.encode()), "csv")
    assert set(store.products) == {"P1", "P3", "P4"} and store.products["P3"].price == 300
    assert [(i.line, i.action) for i in report.issues] == [(3, "rejected")]
    assert "quote opened on line 3" in report.issues[0].reason and report.rows_read == 4


def test_wrong_field_counts_and_empty_required_fields_are_rejected_with_their_line(tmp_path):
    body = (HEADER + "P1,Cable,199,299,4.2,X\n"
            "P2,Lamp,300,,4\n"                # line 3: 5 fields
            "P3,Mug, large,150,,4,X\n"        # line 4: 7 fields
            "P4,Bottle,,,4,X\n"               # line 5: empty price
            "P5,,120,,4,X\n")                 # line 6: empty title
    store, report = load_catalog(_write(tmp_path, "cat.csv", body.encode()), "csv")
    assert set(store.products) == {"P1"}
    reasons = {i.line: i.reason for i in report.issues if i.action == "rejected"}
    assert "5 fields where the header has 6" in reasons[3] and "7 fields" in reasons[4]
    assert "price is empty" in reasons[5] and "missing title" in reasons[6]


def test_a_quoted_field_over_several_lines_is_not_damage(tmp_path):
    body = 'product_id,title,description,price\nP1,Lamp,"Warm light.\nTwo settings, one switch.",300\nP2,Mug,Big,150\n'
    store, report = load_catalog(_write(tmp_path, "cat.csv", body.encode()), "csv")
    assert report.issues == [] and "Two settings" in store.products["P1"].description and "P2" in store.products


@pytest.mark.parametrize("body, message", [(b"", "empty"), (b"\n\n", "empty"), (HEADER.encode(), "no rows"),
                                           ((HEADER + ",,abc,,,\n").encode(), "all 1 rows were rejected")])
def test_a_catalog_without_products_is_a_clear_error(tmp_path, body, message):
    with pytest.raises(CatalogError, match=message):
        load_catalog(_write(tmp_path, "cat.csv", body), "csv")


_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", min_size=1, max_size=8)
_ROW = st.tuples(st.lists(_WORD, min_size=1, max_size=4).map(" ".join), st.integers(1, 99_999), st.integers(1, 5))
_DAMAGE = ["extra_field", "missing_field", "open_quote", "empty_title", "empty_price", "empty_id"]


def _damaged(pid: str, title: str, price: int, rating: int, damage: str) -> str:
    fields = {"extra_field": [pid, title, str(price), "", str(rating), "X", "surplus"],
              "missing_field": [pid, title, str(price), "", str(rating)],
              "open_quote": [pid, '"' + title, str(price), "", str(rating), "X"],
              "empty_title": [pid, "", str(price), "", str(rating), "X"],
              "empty_price": [pid, title, "", "", str(rating), "X"],
              "empty_id": ["", title, str(price), "", str(rating), "X"]}[damage]
    return ",".join(fields)


@given(st.lists(_ROW, min_size=2, max_size=8), st.data())
def test_property_damaged_rows_are_reported_and_every_other_row_loads(rows, data):
    import tempfile
    from pathlib import Path

    k = data.draw(st.integers(0, len(rows) - 1), label="damaged row")
    damage = data.draw(st.sampled_from(_DAMAGE), label="damage")
    lines = [_damaged(f"P{i}", t, p, r, damage) if i == k else f"P{i},{t},{p},,{r},X"
             for i, (t, p, r) in enumerate(rows)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cat.csv"
        path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
        store, report = load_catalog(path, "csv")
        with pytest.raises(CatalogError, match=rf"cat.csv:{k + 2}: rejected"):
            load_catalog(path, "csv", strict=True)
    assert [(i.line, i.action) for i in report.issues] == [(k + 2, "rejected")], (damage, report.issues)
    for i, (title, price, _) in enumerate(rows):
        if i != k:
            assert store.products[f"P{i}"].title == title and store.products[f"P{i}"].price == price
    assert f"P{k}" not in store.products and report.rows_read == len(rows)


def _index(tmp_path, body: bytes, *flags: str):
    import subprocess
    import sys

    from tests.conftest import ROOT

    path = _write(tmp_path, "cat.csv", body)
    return subprocess.run([sys.executable, "-m", "ui.cli", "index", "--catalog", str(path), "--out",
                           str(tmp_path / "out"), "--quiet", *flags], cwd=ROOT, capture_output=True, text=True,
                          timeout=900)


@pytest.mark.parametrize("body", [(HEADER + "P1,Cable,199,299,4.2,X\n" + 'P2,"Broken,100,,4,X\nP3,Mug,150,,4,X\n'),
                                  (HEADER + "P1,Cable,199,299,4.2,X\nP2,Lamp,300,,4\n"),
                                  (HEADER + "P1,Cable,199,299,4.2,X\nP2,Lamp,300,200,4,X\n")])  # repaired list price
def test_strict_index_exits_non_zero_on_any_rejected_or_repaired_row(tmp_path, body):
    done = _index(tmp_path, body.encode(), "--strict")
    assert done.returncode == 2 and "cat.csv:3" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("body, message", [(b"", "empty"), (HEADER.encode(), "no rows")])
def test_index_of_an_empty_catalog_exits_with_a_clear_error(tmp_path, body, message):
    done = _index(tmp_path, body)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr


@pytest.mark.slow
def test_index_exits_zero_on_a_clean_catalog_under_strict_and_on_a_damaged_one_without(tmp_path):
    clean = _index(tmp_path, (HEADER + "P1,Cable,199,299,4.2,X\nP2,Mug,150,,4,X\n").encode(), "--strict")
    assert clean.returncode == 0, clean.stderr
    damaged = _index(tmp_path, (HEADER + "P1,Cable,199,299,4.2,X\nP2,Lamp,300,,4\n").encode())
    assert damaged.returncode == 0 and "1 rejected" in damaged.stdout and "cat.csv:3" in damaged.stdout
