"""PII redaction: the patterns, and an end-to-end check that no file written during a session holds raw PII."""
from __future__ import annotations

import json
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.pii import (
    ADDRESS, CARD, EMAIL, PHONE, RedactingFilter, find, install_log_redaction, luhn_ok, redact, redact_obj,
)

EMAILS = ["asha.rao@example.com", "wei_zhang+shop@mail.qq.com", "x@y.io"]
PHONES = ["+91 98765 43210", "+919876543210", "98765 43210", "9876543210", "098765-43210", "13812345678",
          "+86 138 1234 5678", "138-1234-5678", "010-12345678", "+1 (415) 555-2671", "415-555-2671",
          "+44 20 7946 0958", "0044 20 7946 0958"]
CARDS = ["4111 1111 1111 1111", "4111-1111-1111-1111", "5500005555555559", "378282246310005", "6011111111111117"]
ADDRESSES = ["221B Baker Street", "Flat 4B, 12 MG Road", "12 Park Lane", "Bengaluru - 560001", "Mumbai, 400 001",
             "Springfield, IL 62704", "pincode 560001", "北京市朝阳区建国路88号", "上海市浦东新区世纪大道100号"]
# the shop's own identifiers and figures must survive
KEEP = ["O10001", "P0190", "B07XYZ1234", "RP7424466867", "₹1,39,900", "₹1,099", "2025-01-02T10:09:26", "4.5 stars",
        "30 hour battery", "1.5 litre", "12 months warranty", "under 1500", "add 2 to my cart", "60W", "6000mAh",
        "R00042", "U002", "Series 12", "3 pieces of the Road Runner shoes", "order 4111 items"]


@pytest.mark.parametrize("value,marker", [(e, EMAIL) for e in EMAILS] + [(p, PHONE) for p in PHONES]
                         + [(c, CARD) for c in CARDS] + [(a, ADDRESS) for a in ADDRESSES])
def test_each_kind_is_redacted_in_context(value, marker):
    for text in (f"my details: {value}, thanks", f"{value}", f"联系方式{value}谢谢"):
        out = redact(text)
        assert value not in out and marker in out, (text, out)
        assert not find(out)


@pytest.mark.parametrize("text", KEEP)
def test_shop_identifiers_and_numbers_are_kept(text):
    assert redact(text) == text and not find(text)


def test_card_numbers_need_the_luhn_check():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert redact("ref 4111 1111 1111 1112") == "ref 4111 1111 1111 1112"


def test_redact_obj_redacts_strings_only():
    data = {"user": "mail asha.rao@example.com", "n": 9876543210, "items": ["call 9876543210", 3.5, None]}
    assert redact_obj(data) == {"user": "mail [EMAIL]", "n": 9876543210, "items": ["call [PHONE]", 3.5, None]}


digits = st.text("0123456789", min_size=1, max_size=3)


@settings(max_examples=60, deadline=None)
@given(user=st.from_regex(r"[a-z][a-z0-9._]{0,10}[a-z0-9]", fullmatch=True),
       domain=st.from_regex(r"[a-z][a-z0-9-]{0,8}[a-z0-9]\.(com|in|cn|co\.uk|org)", fullmatch=True),
       mobile=st.from_regex(r"[6-9][0-9]{9}", fullmatch=True), cn=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
       card=st.from_regex(r"4[0-9]{14}", fullmatch=True), before=st.text(max_size=20), after=st.text(max_size=20))
def test_generated_pii_never_survives(user, domain, mobile, cn, card, before, after):
    check = next(d for d in range(10) if luhn_ok(card + str(d)))
    card = card + str(check)
    values = [f"{user}@{domain}", mobile, cn, " ".join(card[i:i + 4] for i in range(0, 16, 4))]
    text = f"{before} {values[0]} / {values[1]} / +91 {values[1]} / {values[2]} / {values[3]} {after}"
    out = redact(text)
    for v in values:
        assert v not in out, (text, out)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_redact_never_fails_and_is_idempotent(text):
    once = redact(text)
    assert redact(once) == once


def test_log_filter_redacts_messages_and_exceptions(tmp_path):
    logger = logging.getLogger("shopassist.test.pii")
    handler = logging.FileHandler(tmp_path / "app.log", encoding="utf-8")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        install_log_redaction(logger)
        assert any(isinstance(f, RedactingFilter) for f in handler.filters)
        logger.warning("shopper wrote %s", "call me on 9876543210")
        try:
            raise ValueError("bad card 4111 1111 1111 1111")
        except ValueError:
            logger.exception("failed for asha.rao@example.com")
    finally:
        handler.close()
        logger.removeHandler(handler)
    text = (tmp_path / "app.log").read_text(encoding="utf-8")
    assert "[PHONE]" in text and "[CARD]" in text and "[EMAIL]" in text
    assert "9876543210" not in text and "4111 1111" not in text and "asha.rao" not in text


def test_no_file_written_during_a_session_holds_raw_pii(tmp_path):
    """A session with PII in its messages, saved turns and feedback, an eval export and a log: every byte written
    under the folder is scanned for the raw values."""
    from assistant.engine import Assistant
    from assistant.persistence import SessionStore
    from eval.harness import write_results
    from retrieval.schema import Order, OrderItem, Product
    from retrieval.search import ProductIndex
    from retrieval.store import Store

    raw = ["asha.rao@example.com", "98765 43210", "4111 1111 1111 1111", "221B Baker Street", "13812345678",
           "北京市朝阳区建国路88号", "+44 20 7946 0958"]
    store = Store(products={"PK001": Product("PK001", "Pigeon electric kettle 1.5 litre", "Auto shut-off",
                                             ["Home", "Kitchen"], "Pigeon", 899, "INR", 1200, 4.1, 300)},
                  orders={"O10001": Order("O10001", "U1", [OrderItem("PK001", 1, 899)], "shipped",
                                          carrier="BlueDart", tracking_number="BD1111111")})
    logger = logging.getLogger("assistant")
    handler = logging.FileHandler(tmp_path / "assistant.log", encoding="utf-8")
    logger.addHandler(handler)
    install_log_redaction(logger)
    try:
        a = Assistant(ProductIndex.build(store), sessions=SessionStore(tmp_path / "sessions.db"))
        s = a.new_session("U1")
        texts = ["my email is asha.rao@example.com and my phone 98765 43210, add PK001 to my cart",
                 "pay with card 4111 1111 1111 1111 and ship to 221B Baker Street",
                 "我的手机是13812345678，地址是北京市朝阳区建国路88号，我的订单O10001到哪了？",
                 "electric kettle, call me on +44 20 7946 0958"]
        results = [a.turn(s, t) for t in texts]
        logger.warning("turn from shopper: %s", texts[0])
        a.sessions.add_feedback(s, 1, -1, comment="wrong! reach me at asha.rao@example.com or 98765 43210")
        write_results(tmp_path / "eval" / "results.json",
                      {"per_case": [{"user": t, "reply": r.text, "tools": r.tool_calls} for t, r in zip(texts, results)]})
    finally:
        handler.close()
        logger.removeHandler(handler)
    assert s.cart == {"PK001": 1} and "BD1111111" in results[2].text  # the live session still works
    restored = a.new_session("U1", session_id=s.session_id)
    assert restored.cart == {"PK001": 1} and len(restored.turns) == 4 and "[EMAIL]" in restored.turns[0].user
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.suffix for p in written} >= {".db", ".json", ".log"}
    for path in written:
        data = path.read_bytes()
        for value in raw:
            assert value.encode("utf-8") not in data, (path.name, value)
    assert json.loads((tmp_path / "eval" / "results.json").read_text(encoding="utf-8"))["per_case"][0]["user"].count("[")
