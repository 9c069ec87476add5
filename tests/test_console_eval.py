"""`shopassist eval console`: each metric scores a deliberately bad console badly."""
from __future__ import annotations

import pytest

from assistant.agent_assist import Analysis
from assistant.agent_replies import Suggestion
from eval.console_task import (
    foreign_status, gives_passed_eta, parse_seeds, policy_sentences, score_conversation, summarise,
)
from retrieval.demo_store import build_demo_store


@pytest.fixture(scope="module")
def store():
    return build_demo_store()


def analysis(conv, family: str, intent: str) -> Analysis:
    return Analysis(conv["conversation_id"], conv["lang"], intent, 0.9, family, 0.9, [], "neutral", 0.0, {}, False,
                    [], [], [])


def late_tracking(store):
    today = max(o.updated_at for o in store.orders.values())[:10]
    conv = next(c for c in store.conversations if c["topic"] == "order_tracking" and c["mood"] == "angry"
                and store.orders[c["order_id"]].estimated_delivery < today)
    return conv, store.orders[conv["order_id"]], today


def test_a_console_that_reads_everything_wrong_scores_zero(store):
    conv, order, today = late_tracking(store)
    bad = [Suggestion(f"Your order is estimated to arrive by {order.estimated_delivery}.", [], "answer")]
    row = score_conversation(conv, analysis(conv, "delivery", "change_shipping_address"), bad, store, today, [])
    assert row["family_correct"] == 0 and row["intent_correct"] == 0
    assert row["apology_first"] == 0 and row["passed_eta"] == 1
    summary = summarise([row])
    assert summary["intent_accuracy"] == 0 and summary["apology_rate_angry"] == 0
    assert summary["passed_eta_suggestions"] == 1


def test_a_console_that_reads_everything_right_scores_one(store):
    conv, order, today = late_tracking(store)
    good = [Suggestion(f"I'm sorry: order {order.order_id} was due by {order.estimated_delivery}, so it is late.",
                       [], "answer")]
    row = score_conversation(conv, analysis(conv, "tracking", "track_order"), good, store, today, [])
    assert (row["family_correct"], row["intent_correct"], row["apology_first"], row["passed_eta"]) == (1, 1, 1, 0)


def test_passed_eta_counts_only_orders_still_on_their_way(store):
    _, order, today = late_tracking(store)
    text = f"It should arrive by {order.estimated_delivery}."
    assert gives_passed_eta(text, order, today)
    delivered = next(o for o in store.orders.values() if o.status == "delivered" and o.estimated_delivery < today)
    assert not gives_passed_eta(f"It arrived on {delivered.estimated_delivery}.", delivered, today)


def test_an_english_status_in_a_chinese_reply_counts_unless_it_quotes_the_policy(store):
    quoted = policy_sentences(store.policy)
    assert foreign_status("您的订单状态：processing。", quoted)
    assert not foreign_status("您的订单还在备货中。", quoted)
    cancel_rule = next(s for s in quoted if "processing" in s and "取消" in s)
    assert not foreign_status(f"按照我们的政策：{cancel_rule}", quoted)


def test_store_seeds_parse_and_bad_ones_are_a_clear_error():
    assert parse_seeds("0-3") == [0, 1, 2, 3] and parse_seeds("0,4,7") == [0, 4, 7]
    with pytest.raises(ValueError, match="--stores"):
        parse_seeds("zero")
