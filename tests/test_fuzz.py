"""Bad input and property-based tests of the parsers: prices, tool-call JSON, catalog rows, constraints, and
the engine itself on whatever a shopper (or a broken client) sends."""
from __future__ import annotations

import csv
import io
import json
import string

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from assistant.slots import read as extract
from retrieval.catalog import CatalogError
from assistant.toolcalls import parse_tool_calls
from retrieval.catalog import load_catalog, parse_price

FAST = settings(max_examples=80, deadline=None)

# ---- prices --------------------------------------------------------------------------------------


def western(n: int) -> str:
    return f"{n:,}"


def indian(n: int) -> str:
    """1,39,900 grouping: the last three digits, then pairs."""
    s = str(n)
    if len(s) <= 3:
        return s
    head, tail = s[:-3], s[-3:]
    pairs = []
    while len(head) > 2:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([head, *pairs, tail])


@FAST
@given(rupees=st.integers(0, 99_999_999), paise=st.integers(0, 99), with_paise=st.booleans(),
       grouping=st.sampled_from([str, western, indian]),
       currency=st.sampled_from(["", "₹", "₹ ", "Rs. ", "Rs.", "Rs ", "INR ", "$", "€ ", "¥", "USD "]),
       suffix=st.sampled_from(["", " ", " only", "/-", " INR"]))
def test_prices_in_many_formats_round_trip(rupees, paise, with_paise, grouping, currency, suffix):
    text = f"{currency}{grouping(rupees)}" + (f".{paise:02d}" if with_paise else "") + suffix
    expected = rupees + (paise / 100 if with_paise else 0)
    assert parse_price(text) == pytest.approx(expected), text


@FAST
@given(euros=st.integers(0, 999_999), cents=st.integers(0, 99))
def test_decimal_comma_prices(euros, cents):
    assert parse_price(f"{euros},{cents:02d} €") == pytest.approx(euros + cents / 100)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.integers(), st.floats(allow_nan=True), st.none()))
def test_parse_price_only_ever_raises_value_error(value):
    try:
        out = parse_price(value)
    except ValueError:
        return
    assert out is None or isinstance(out, float)


# ---- tool-call JSON ------------------------------------------------------------------------------

TOOL_NAMES = ["search_products", "get_product", "compare_products", "add_to_cart", "order_status", "recommend"]
scalars = st.one_of(st.text(string.ascii_letters + string.digits + " -_,.'₹元", max_size=20),
                    st.integers(-10**6, 10**6), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
                    st.booleans(), st.none())
arguments = st.dictionaries(st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True),
                            st.one_of(scalars, st.lists(scalars, max_size=3)), max_size=4)


def shapes(name: str, args: dict) -> list[str]:
    body = json.dumps({"name": name, "arguments": args}, ensure_ascii=False)
    return [f"<tool_call>\n{body}\n</tool_call>", f"```json\n{body}\n```", body,
            json.dumps({"function": {"name": name, "arguments": json.dumps(args, ensure_ascii=False)}}, ensure_ascii=False),
            json.dumps([{"name": name, "parameters": args}], ensure_ascii=False)]


@FAST
@given(name=st.sampled_from(TOOL_NAMES), args=arguments, shape=st.integers(0, 4),
       before=st.sampled_from(["", "Sure, let me check. ", "好的，我来查一下。\n"]), after=st.sampled_from(["", " Done."]))
def test_tool_calls_round_trip_in_every_shape(name, args, shape, before, after):
    text = before + shapes(name, args)[shape] + after
    parsed = parse_tool_calls(text, TOOL_NAMES)
    assert [c.name for c in parsed.calls] == [name], (text, parsed)
    assert parsed.calls[0].arguments == args
    assert not parsed.errors and "tool_call" not in parsed.text and name not in parsed.text


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300),
                 st.builds(lambda n, a, cut: shapes(n, a)[0][:cut], st.sampled_from(TOOL_NAMES), arguments,
                           st.integers(0, 200))))
def test_parse_tool_calls_never_raises(text):
    parsed = parse_tool_calls(text, TOOL_NAMES)
    assert isinstance(parsed.text, str) and isinstance(parsed.calls, list) and isinstance(parsed.errors, list)
    assert all(c.name in TOOL_NAMES and isinstance(c.arguments, dict) for c in parsed.calls)


# ---- catalog rows --------------------------------------------------------------------------------

free_text = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r\x85\u2028\u2029")
                    | st.sampled_from([",", '"', "\n", "₹", "耳", "机"]), max_size=40)
rows = st.lists(st.tuples(st.sampled_from(["valid", "valid", "valid", "no_id", "no_title", "bad_price", "negative"]),
                          free_text, st.integers(0, 10**6), st.sampled_from(["₹{:,}", "{}", "Rs. {}", "{}.00"])),
                min_size=1, max_size=25)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_generated_csv_catalogs_lose_no_valid_row_and_report_every_bad_one(tmp_path_factory, spec):
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(["product_id", "title", "description", "price"])
    expected_valid, expected_bad = {}, {}
    for i, (kind, desc, price, fmt) in enumerate(spec):
        line = buf.getvalue().count("\n") + 1
        pid, title = f"P{i:05d}", f"Product {i} {desc[:10]}".strip()
        price_text = fmt.format(price)
        if kind == "no_id":
            pid = ""
        elif kind == "no_title":
            title = "  "
        elif kind == "bad_price":
            price_text = "call for price"
        elif kind == "negative":
            price_text = f"-{price + 1}"
        writer.writerow([pid, title, desc, price_text])
        if kind == "valid":
            expected_valid[pid] = (title, float(price))
        else:
            expected_bad[line] = kind
    path = tmp_path_factory.mktemp("csv") / "catalog.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    if not expected_valid:  # a catalog with no usable row is a clear error, not an empty store
        with pytest.raises(CatalogError, match="no products"):
            load_catalog(path)
        return
    store, report = load_catalog(path)
    assert report.rows_read == len(spec)
    assert {pid: (p.title, p.price) for pid, p in store.products.items()} == expected_valid
    rejected = {i.line: i.reason for i in report.issues if i.action == "rejected"}
    assert set(rejected) == set(expected_bad), (rejected, expected_bad)
    words = {"no_id": "product_id", "no_title": "title", "bad_price": "price", "negative": "negative price"}
    for line, kind in expected_bad.items():
        assert words[kind] in rejected[line]


def test_invalid_utf8_and_negative_prices_in_a_catalog_are_reported_with_their_lines(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(b"product_id,title,price\nP1,Good kettle,899\nP2,Bad \xff\xfe bytes,100\nP3,Refund trick,-50\n")
    store, report = load_catalog(path)
    assert set(store.products) == {"P1", "P2"} and "\ufffd" in store.products["P2"].title
    assert [(i.line, i.action) for i in report.issues] == [(3, "repaired"), (4, "rejected")]
    assert "negative price" in report.issues[1].reason


# ---- constraints ---------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_constraint_extraction_never_crashes(text):
    c = extract(text, ["Auralis", "boAt", "小米"], ["Headphones", "Running Shoes", "耳机"])
    assert c.min_price is None or c.max_price is None or c.min_price <= c.max_price
    assert c.max_price is None or c.max_price >= 0
    assert all(isinstance(o, str) for o in c.order_ids)


@FAST
@given(n=st.integers(1, 5_000_000), grouped=st.booleans(),
       phrase=st.sampled_from(["under {}", "under ₹{}", "below Rs. {}", "less than {} rupees", "within {}",
                               "at most ₹{}", "up to {} rs", "{}元以下", "不超过{}元", "不高于{}元", "{}块以内", "预算{}元"]),
       thing=st.sampled_from(["wireless earbuds", "a kettle", "running shoes for men", "蓝牙耳机", "笔记本电脑", ""]))
def test_under_n_round_trips(n, grouped, phrase, thing):
    assume(not (n <= 5 and "{}" == phrase[-2:]))  # "under 4" alone may be a rating
    number = f"{n:,}" if grouped else str(n)
    text = f"{thing} {phrase.format(number)}".strip()
    c = extract(text)
    assert c.max_price == pytest.approx(n), text
    assert c.min_price is None, text


@FAST
@given(lo=st.integers(1, 100_000), span=st.integers(1, 100_000))
def test_between_round_trips(lo, span):
    c = extract(f"headphones between {lo} and {lo + span} rupees")
    assert (c.min_price, c.max_price) == (lo, lo + span)


# ---- the engine on bad input ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    from assistant.engine import Assistant
    from assistant.persistence import SessionStore
    from retrieval.schema import Product
    from retrieval.search import ProductIndex
    from retrieval.store import Store

    products = [Product("PK001", "Pigeon electric kettle 1.5 litre", "Auto shut-off", ["Home", "Kitchen"], "Pigeon",
                        899, "INR", 1200, 4.1, 300),
                Product("PE001", "Auralis Pods wireless bluetooth earbuds", "30 hour battery",
                        ["Electronics", "Headphones"], "Auralis", 1299, "INR", 1999, 4.3, 120)]
    index = ProductIndex.build(Store(products={p.product_id: p for p in products}))
    return Assistant(index, sessions=SessionStore(tmp_path_factory.mktemp("db") / "s.db"))


@pytest.mark.parametrize("text,expect", [
    ("", "What are you shopping for"),
    ("   \n\t ", "What are you shopping for"),
    ("\x00\x00", "What are you shopping for"),
    ("x" * 4001, "too long (4001 characters)"),
    ("你" * 5000, "太长"),
    ("add 1000000 units of PK001 to my cart", "can't add 1000000: a cart takes whole quantities from 1 to 20"),
    ("add 21 units of PK001 to my cart", "can't add 21"),
    ("PK001 加入购物车 99999个", "无法添加99999"),
    ("add PZ999 to my cart", "unknown product_id 'PZ999'"),
    ("tell me about PZ999", "unknown product_id 'PZ999'"),
    ("wireless earbuds \udcff\udcfe please", "Auralis"),
    ("\ufffd\ufffd kettle", "Pigeon"),
])
def test_bad_input_gets_a_clear_answer_and_loses_nothing(assistant, text, expect):
    s = assistant.new_session("U1")
    assistant.turn(s, "add PE001 to my cart")
    r = assistant.turn(s, text)
    assert expect in r.text, r.text
    assert s.cart == {"PE001": 1} and assistant.sessions.cart(s) == {"PE001": 1}  # nothing lost, nothing added
    restored = assistant.new_session("U1", session_id=s.session_id)
    assert len(restored.turns) == 2 and restored.turns[1].reply == r.text


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_text_gets_an_answer(assistant, text):
    s = assistant.new_session("U1")
    r = assistant.turn(s, text)
    assert r.text.strip() and "Traceback" not in r.text
    assert len(s.turns) == 1


# ---- quantities: the cart changes by exactly what was asked, or not at all with a reason --------------------

_EN = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
_ZH = ["零", "一", "两", "三", "四", "五", "六", "七", "八", "九", "十"]
_HI = [None, "ek", "do", "teen", "char", "paanch", None, "saat", "aath", "nau", "das"]


@st.composite
def quantity_requests(draw):
    """(message, the quantity a reasonable shopper means: an int, or None for a request to refuse)."""
    kind = draw(st.sampled_from(["digits", "negative", "fraction", "huge", "en", "zh", "hi", "minus_word"]))
    if kind == "digits":
        n = draw(st.integers(0, 25))
        texts = [f"add {n} of PK001 to my cart", f"PK001 加入购物车，要{n}个", f"put {n} units of PK001 in my basket"]
        return draw(st.sampled_from(texts)), (n if 1 <= n <= 20 else None)
    if kind == "negative":
        n = draw(st.integers(1, 50))
        texts = [f"add -{n} of PK001 to my cart", f"PK001 加入购物车，数量-{n}", f"PK001 minus {n} cart mein daal do"]
        return draw(st.sampled_from(texts)), None
    if kind == "minus_word":
        return draw(st.sampled_from(["put minus four PK001 in my cart", "add negative two PK001 to my cart",
                                     "PK001加负数件到购物车"])), None
    if kind == "fraction":
        x = draw(st.sampled_from(["0.5", "1.5", "2.25"]))
        return f"add {x} of PK001 to my cart", None
    if kind == "huge":
        n = draw(st.integers(21, 10**9))
        return draw(st.sampled_from([f"add {n} of PK001 to my cart", f"PK001 加入购物车 {n}个"])), None
    n = draw(st.integers(1, 10))
    words = {"en": _EN, "zh": _ZH, "hi": _HI}[kind]
    assume(words[n] is not None)
    texts = {"en": [f"add {words[n]} of PK001 to my cart", f"put {words[n]} PK001 in the basket"],
             "zh": [f"PK001加入购物车，来{words[n]}个", f"PK001 要{words[n]}个，加购"],
             "hi": [f"PK001 {words[n]} chahiye, cart mein daal do"]}[kind]
    return draw(st.sampled_from(texts)), n


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=quantity_requests())
def test_quantity_requests_change_the_cart_exactly_or_not_at_all(assistant, request):
    text, wanted = request
    s = assistant.new_session("U9")
    r = assistant.turn(s, text)
    if wanted is None:
        assert s.cart == {} and r.refused and not r.tool_calls, (text, r.text)
        assert "20" in r.text, r.text  # the reason names the limit
    else:
        assert s.cart == {"PK001": wanted}, (text, s.cart, r.text)
