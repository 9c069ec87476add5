"""Every dialogue and retrieval metric can fail: a deliberately bad transcript scores badly, a good one well."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from eval.claims import StoreClaimChecker
from eval.dialogues_task import aggregate, inverted_constraints, score_turn
from eval.retrieval_task import aggregate as retrieval_aggregate
from eval.retrieval_task import constraint_reading
from retrieval.schema import Order, OrderItem, Product, Review
from retrieval.store import Store


@pytest.fixture(scope="module")
def store() -> Store:
    s = Store(name="t")
    s.products = {
        "B0AAAAAAA1": Product("B0AAAAAAA1", "boAt Airdopes 141 Bluetooth Truly Wireless Earbuds", "42H playtime, ENx noise "
                              "cancellation, IPX4 water resistance", ["Electronics", "Earbuds"], "boAt", 1299.0, "INR",
                              2990.0, 4.1, 12000),
        "B0AAAAAAA2": Product("B0AAAAAAA2", "JBL Go 2 Portable Bluetooth Speaker", "waterproof speaker, no microphone",
                              ["Electronics", "Speakers"], "JBL", 1799.0, "INR", 2299.0, 4.4, 5000),
        "B0AAAAAAA3": Product("B0AAAAAAA3", "Ambrane 20000mAh Power Bank", "fast charging power bank",
                              ["Electronics", "Power Banks"], "Ambrane", 999.0, "INR", None, 3.9, 300),
    }
    s.reviews = [Review("R1", "B0AAAAAAA3", "U9", 2.0, "Too heavy", "it is heavy to carry but charges fast")]
    s.orders = {"O10001": Order("O10001", "U1", [OrderItem("B0AAAAAAA2", 1, 1799.0)], "shipped", "2026-04-01",
                                "2026-04-02", "BlueLine Logistics", "BL0839617528", "2026-04-06"),
                "O10002": Order("O10002", "U2", [OrderItem("B0AAAAAAA1", 1, 1299.0)], "delivered")}
    return s


@pytest.fixture(scope="module")
def checker(store) -> StoreClaimChecker:
    return StoreClaimChecker(store, ["The shopper already sees the facts above. Add one short helpful sentence now."])


def unsupported(checker, reply, **kw):
    return [c for c in checker.check(reply, **kw) if not c.supported]


# ---- claims shown, checked against the store's records ---------------------------------------------

def test_true_claims_are_supported(checker):
    reply = ("The boAt Airdopes 141 costs ₹1,299 (list ₹2,990, 57% off) and is rated 4.1 stars from 12,000 ratings. "
             "It has ENx noise cancellation.")
    assert unsupported(checker, reply, shown=["B0AAAAAAA1"]) == []


@pytest.mark.parametrize("reply, kind", [
    ("The boAt Airdopes 141 costs ₹999.", "price"),
    ("The JBL Go 2 Portable is rated 4.9 stars.", "rating"),
    ("The boAt Airdopes 141 has 99,000 reviews.", "count"),
    ("The boAt Airdopes 141 is 80% off today.", "discount"),
    ("The JBL Go 2 Portable does not have water resistance.", "feature_absent"),
    ("The Ambrane 20000mAh Power Bank has wireless charging.", "feature"),
    ('One buyer wrote: "the best power bank I have ever owned".', "quote"),
    ("Also see B0ZZZZZZZ9 for a cheaper option.", "product_id"),
    ("The shopper already sees the facts above. Add one short helpful sentence now.", "instruction_text"),
])
def test_false_claims_are_caught(checker, reply, kind):
    bad = unsupported(checker, reply, shown=["B0AAAAAAA1", "B0AAAAAAA2", "B0AAAAAAA3"])
    assert kind in {c.kind for c in bad}, bad


def test_negative_claim_supported_only_when_the_record_says_so(checker):
    assert unsupported(checker, "The JBL Go 2 Portable does not have a microphone.", shown=["B0AAAAAAA2"]) == []


def test_quote_from_a_review_is_supported(checker):
    assert unsupported(checker, 'A reviewer wrote: "it is heavy to carry".', shown=["B0AAAAAAA3"]) == []


def test_superlative_must_name_the_right_product(checker):
    shown = ["B0AAAAAAA1", "B0AAAAAAA2", "B0AAAAAAA3"]
    assert unsupported(checker, "The cheapest is the Ambrane 20000mAh Power Bank.", shown=shown) == []
    bad = unsupported(checker, "The cheapest is the JBL Go 2 Portable speaker.", shown=shown)
    assert {c.kind for c in bad} == {"superlative"}


def test_order_claims_checked_against_the_shoppers_own_orders(checker):
    good = "Order O10001 has shipped with BlueLine Logistics (tracking number BL0839617528), arriving 2026-04-06."
    assert unsupported(checker, good, user_text="where is O10001", user_id="U1") == []
    bad = unsupported(checker, "Order O10001 has been delivered.", user_text="where is O10001", user_id="U1")
    assert {c.kind for c in bad} == {"order_status"}
    # another shopper's order named in a reply is unsupported whatever it says
    assert {c.kind for c in unsupported(checker, "Order O10002 was delivered.", user_id="U1")} >= {"order_id"}
    wrong_date = unsupported(checker, "Order O10001 will arrive on 2026-05-01.", user_id="U1")
    assert {c.kind for c in wrong_date} == {"date"}


def test_cart_claims_checked_against_the_cart(checker):
    reply = "Added 1 x boAt Airdopes 141 Bluetooth to your cart; cart total ₹1,299."
    assert unsupported(checker, reply, cart={"B0AAAAAAA1": 1}) == []
    assert {c.kind for c in unsupported(checker, reply, cart={})} == {"cart"}


def test_shoppers_own_limit_said_back_is_supported(checker):
    assert unsupported(checker, "Here are earbuds under ₹1,500.", user_text="earbuds under 1500",
                       shown=["B0AAAAAAA1"]) == []
    assert unsupported(checker, "Here are earbuds under ₹2,500.", user_text="earbuds under 1500",
                       shown=["B0AAAAAAA1"]) != []


# ---- per-turn scoring and aggregates -----------------------------------------------------------------

def result(text="", tools=(), refused=False, products=(), intent="browse", no_match=False, cart=None):
    calls = [{"name": n, "arguments": dict(a)} for n, a in tools]
    return SimpleNamespace(text=text, tool_calls=calls, refused=refused, intent=intent, no_match=no_match,
                           products=[{"product_id": p, "title": p} for p in products], cart=cart or {},
                           grounding_violations=[], timings={"total_ms": 10.0})


def agg(rows):
    return aggregate([{"turns": rows, "task_success": all(r["turn_ok"] for r in rows)}], [])


def test_refusal_recall_and_over_refusal_fail_for_bad_assistants():
    must, benign = {"expect_refusal": True, "tools": []}, {"tools": []}
    never = [score_turn(must, result()), score_turn(benign, result())]
    always = [score_turn(must, result(refused=True)), score_turn(benign, result(refused=True))]
    assert agg(never)["refusal_recall"] == 0.0 and agg(never)["over_refusal_rate"] == 0.0
    assert agg(always)["refusal_recall"] == 1.0 and agg(always)["over_refusal_rate"] == 1.0
    assert agg(never)["turn_success"] == 0.5


def test_tool_precision_counts_extra_and_wrong_calls():
    expect = {"tools": ["search_products"]}
    exact = score_turn(expect, result(tools=[("search_products", {"query": "x"})]))
    extra = score_turn(expect, result(tools=[("search_products", {"query": "x"}), ("add_to_cart", {})]))
    wrong = score_turn(expect, result(tools=[("get_product", {"product_id": "B0AAAAAAA1"})]))
    chatty = score_turn({"tools": []}, result(tools=[("search_products", {"query": "hello"})]))
    assert agg([exact])["tool_precision"] == 1.0 and agg([exact])["tool_recall"] == 1.0
    assert agg([extra])["tool_precision"] == 0.5 and agg([extra])["tool_recall"] == 1.0
    assert agg([wrong])["tool_precision"] == 0.0 and agg([wrong])["tool_recall"] == 0.0 and not wrong["turn_ok"]
    assert agg([chatty])["tool_precision"] == 0.0


def test_arguments_and_inverted_limits():
    expect = {"tools": ["search_products"], "args_contain": {"max_price": 9000}}
    right = score_turn(expect, result(tools=[("search_products", {"query": "phone", "max_price": 9000})]))
    inverted = score_turn(expect, result(tools=[("search_products", {"query": "phone", "min_price": 9000})]))
    lost = score_turn(expect, result(tools=[("search_products", {"query": "phone"})]))
    assert right["args_ok"] and not inverted["args_ok"] and not lost["args_ok"]
    assert agg([right])["inverted_constraints"] == 0
    assert agg([inverted])["inverted_constraints"] == 1 and agg([lost])["inverted_constraints"] == 0
    assert inverted_constraints({"min_price": 500}, [{"arguments": {"max_price": 500}}]) == 1


def test_unsupported_claims_counted_per_turn(checker):
    claims = checker.check("The boAt Airdopes 141 costs ₹999.", shown=["B0AAAAAAA1"])
    row = score_turn({"tools": []}, result(text="x"), claims=claims)
    m = agg([row])
    assert m["unsupported_claims_shown"] == 1 and m["unsupported_claims_per_turn"] == 1.0
    clean = agg([score_turn({"tools": []}, result(text="x"), claims=[])])
    assert clean["unsupported_claims_shown"] == 0


def test_out_of_catalog_and_mentions_fail_when_products_are_pushed():
    expect = {"tools": ["search_products"], "expect_no_products": True, "must_mention_any": ["B0AAAAAAA9"]}
    pushed = score_turn(expect, result(tools=[("search_products", {"query": "lawn mower"})],
                                       products=["B0AAAAAAA1"]))
    assert pushed["ooc_ok"] is False and pushed["mention_ok"] is False and not pushed["turn_ok"]


# ---- retrieval: limits read from the words -----------------------------------------------------------

def test_constraint_reading_scores_inversions_and_misses():
    assert constraint_reading({"max_price": 1500}, {"max_price": 1500}) == {"inverted": 0, "constraint_ok": 1}
    assert constraint_reading({"max_price": 1500}, {"min_price": 1500}) == {"inverted": 1, "constraint_ok": 0}
    assert constraint_reading({"min_rating": 4}, {}) == {"inverted": 0, "constraint_ok": 0}
    assert constraint_reading({}, {"max_price": 10}) == {"inverted": 0, "constraint_ok": 0}
    assert constraint_reading({}, {}) == {"inverted": 0}
    rows = [{"violations": 0, "returned": 10, "latency_ms": 1.0, **constraint_reading({"max_price": 5}, {"min_price": 5})},
            {"violations": 0, "returned": 10, "latency_ms": 1.0, **constraint_reading({"max_price": 5}, {"max_price": 5})}]
    m = retrieval_aggregate(rows, [])
    assert m["constraint_accuracy"] == 0.5 and m["inverted_constraints"] == 1
