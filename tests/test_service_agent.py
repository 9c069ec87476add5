"""The service agent's conversation flow, driven deterministically by the scripted backend."""
from __future__ import annotations

import json
import re

import pytest

from assistant.llm.scripted import ScriptedBackend
from assistant.service.agent import ServiceAgent
from assistant.service.parse import SCHEMA
from tests.service_fixtures import tiny_domain

LABELS = [  # (pattern in the sentence, label the scripted "model" gives it)
    (r"return|send .* back", "return"), (r"cancel|don't need", "cancel"), (r"black one|instead|rather", "exchange"),
    (r"supervisor|manager", "human"), (r"keep", "keep"),
]


def labeller(messages, tools):
    sentence = messages[-1].content.split("Sentence:")[-1].split("\n")[0]
    label = next((lab for pat, lab in LABELS if re.search(pat, sentence, re.I)), "none")
    return {"action": label}


@pytest.fixture()
def backend():
    return ScriptedBackend([labeller] * 200)


@pytest.fixture()
def agent(tmp_path, backend):
    return ServiceAgent(tiny_domain(tmp_path), backend)


def names(reply) -> list[str]:
    return [c["name"] for c in reply.tool_calls]


def test_a_return_is_proposed_then_run_on_yes(agent, backend):
    state = agent.new_state()
    r1 = agent.turn(state, "Hi, I'm Alice Smith, zip 10001. "
                           "I want to return the t-shirt I got, refund it to my gift card.")
    assert names(r1)[:2] == ["find_user_id_by_name_zip", "get_user_details"]
    assert "return_delivered_order_items" in names(r1)
    assert r1.proposal["name"] == "return_delivered_order_items"
    assert r1.proposal["arguments"] == {"order_id": "#W0000002", "item_ids": ["1002"],
                                        "payment_method_id": "gift_card_1"}
    assert r1.proposal["summary"] in r1.text and "yes" in r1.text.lower()
    assert agent.domain.order("#W0000002")["status"] == "delivered"  # proposed, not written
    assert all(c.json_schema == SCHEMA for c in backend.calls)  # the model's parse is schema-constrained
    r2 = agent.turn(state, "Yes.")
    assert r2.executed == [{"name": "return_delivered_order_items", "arguments": r1.proposal["arguments"]}]
    assert agent.domain.order("#W0000002")["status"] == "return requested"
    assert r2.done and "anything else" in r2.text.lower()


def test_nothing_about_the_account_before_authentication(agent):
    state = agent.new_state()
    r1 = agent.turn(state, "I want to cancel my order, I don't need it.")
    assert names(r1) == [] and "e-mail" in r1.text and r1.proposal is None
    r2 = agent.turn(state, "alice@example.com")
    assert names(r2)[0] == "find_user_id_by_email" and state.customer_id == "alice_1"
    assert r2.proposal["name"] == "cancel_pending_order" and r2.proposal["arguments"]["order_id"] == "#W0000001"


def test_a_wrong_identity_is_not_found_and_asked_again(agent):
    state = agent.new_state()
    r = agent.turn(state, "My email is mallory@example.com, cancel order #W0000001.")
    assert state.customer_id is None and "could not find" in r.text and r.proposal is None
    assert [c.get("error") for c in r.tool_calls] == ["user not found"]
    assert "first name, last name and 5-digit zip code instead" in r.text  # the other way in
    r = agent.turn(state, "I'm Alice Smith, zip 99999.")
    assert "e-mail address of your account instead" in r.text


def test_no_withdraws_the_proposal(agent):
    state = agent.new_state()
    agent.turn(state, "I'm Alice Smith, zip 10001. Please cancel order #W0000001, I don't need it.")
    assert state.pending is not None
    r = agent.turn(state, "No, leave it.")
    assert r.executed == [] and state.pending is None and agent.domain.records.actions() == []
    assert agent.domain.order("#W0000001")["status"] == "pending"


def test_an_exchange_is_matched_to_an_available_variant(agent):
    state = agent.new_state()
    r = agent.turn(state, "My email is alice@example.com. "
                          "I'd rather have the t-shirt I received as a black one in size M.")
    assert r.proposal["name"] == "exchange_delivered_order_items"
    assert r.proposal["arguments"]["item_ids"] == ["1002"] and r.proposal["arguments"]["new_item_ids"] == ["1003"]
    assert r.proposal["arguments"]["payment_method_id"] == "paypal_1"  # the difference goes to the order's method


def test_another_customers_order_is_refused_with_the_rule(agent):
    state = agent.new_state()
    r = agent.turn(state, "I'm Alice Smith, zip 10001. Cancel order #W0000004, I don't need it.")
    assert r.proposal is None and "own_records" not in r.text  # the customer sees the rule, not its id
    assert "only the authenticated customer's own orders" in r.text
    assert any("own_records" in c.get("error", "") for c in r.tool_calls)


def test_transfer_to_a_human_goes_to_the_console_queue(agent):
    state = agent.new_state()
    r = agent.turn(state, "I'm Alice Smith, zip 10001. I want to talk to your manager about a coupon.")
    assert r.transferred and "transfer_to_human_agents" in names(r)
    (handoff,) = agent.domain.records.handoffs()
    assert handoff["owner"] == "alice_1" and "coupon" in handoff["summary"]


def test_keep_after_all_drops_the_request(agent):
    state = agent.new_state()
    r = agent.turn(state, "I'm Alice Smith, zip 10001. I want to return the t-shirt. Actually I will keep it.")
    assert r.proposal is None and r.done


def test_without_a_backend_the_sentences_own_action_words_are_used(tmp_path):
    agent = ServiceAgent(tiny_domain(tmp_path), None)
    state = agent.new_state()
    r = agent.turn(state, "My email is alice@example.com. "
                          "Please cancel order #W0000001 because I ordered it by mistake.")
    assert r.proposal["arguments"] == {"order_id": "#W0000001", "reason": "ordered by mistake"}
    assert {p["source"] for p in r.parse} <= {"keywords", "identity"}


def test_a_session_user_is_already_authenticated(agent):
    state = agent.new_state("alice_1")
    r = agent.turn(state, "Please cancel order #W0000001, I don't need it anymore.")
    assert r.proposal["name"] == "cancel_pending_order"
    assert json.dumps(state.to_dict())  # the state round-trips through JSON for the session


def test_agent_mode_the_model_picks_tools_but_cannot_write(tmp_path):
    from assistant.llm.base import ToolCall

    cancel = ToolCall("cancel_pending_order", {"order_id": "#W0000001", "reason": "no longer needed"})
    backend = ScriptedBackend([
        ToolCall("find_user_id_by_email", {"email": "alice@example.com"}),
        ToolCall("cancel_pending_order", {"order_id": "#W0000004", "reason": "no longer needed"}),  # Bob's order
        cancel, "I can cancel order #W0000001 for you.",
        "Your order is cancelled.",
    ])
    agent = ServiceAgent(tiny_domain(tmp_path), backend, mode="agent")
    state = agent.new_state()
    r1 = agent.turn(state, "I'm alice@example.com, please cancel my pending order.")
    assert [c["name"] for c in r1.tool_calls] == ["find_user_id_by_email", "cancel_pending_order",
                                                  "cancel_pending_order"]
    assert "own_records" in r1.tool_calls[1]["error"]  # the refusal went back to the model
    tool_msgs = [m for m in backend.calls[2].messages if m.role == "tool"]
    assert "refused by the policy" in tool_msgs[-1].content
    assert r1.proposal["arguments"]["order_id"] == "#W0000001" and r1.proposal["summary"] in r1.text
    assert agent.domain.order("#W0000001")["status"] == "pending"
    r2 = agent.turn(state, "yes")
    assert r2.executed and agent.domain.order("#W0000001")["status"] == "cancelled"
    assert "[system] The customer confirmed" in backend.calls[-1].messages[-1].content
    assert r2.text.startswith("Done: order #W0000001 is cancelled") and r2.text.endswith("Your order is cancelled.")


@pytest.mark.slow
def test_the_default_cpu_model_reads_a_paraphrased_request(tmp_path):
    from assistant.llm import load_backend

    agent = ServiceAgent(tiny_domain(tmp_path), load_backend("llamacpp", "qwen0.5b"))
    state = agent.new_state()
    r = agent.turn(state, "Hi, I'm Alice Smith, zip 10001. I placed an order for a kettle this morning but I won't "
                          "need it anymore.")
    assert [p["source"] for p in r.parse] == ["identity", "llm"] and agent.parser.calls == 1
    assert r.proposal and r.proposal["name"] == "cancel_pending_order"
    assert r.proposal["arguments"]["order_id"] == "#W0000001"


def test_the_engine_hook_routes_and_keeps_state_as_json(agent):
    from assistant.service.hook import service_turn, wants_service

    assert wants_service("Please cancel order #W0000001", None)
    assert not wants_service("wireless earbuds under 2000 rupees", None)
    reply, state = service_turn(agent, None, "alice_1", "Please cancel order #W0000001, I don't need it.")
    assert reply.proposal and json.loads(json.dumps(state))["pending"]["order_id"] == "#W0000001"
    assert wants_service("yes", state)  # the proposal waits for this yes
    reply, state = service_turn(agent, state, "alice_1", "yes")
    assert reply.executed and agent.domain.order("#W0000001")["status"] == "cancelled"


def test_a_name_given_before_the_zip_is_remembered(agent):
    state = agent.new_state()
    r1 = agent.turn(state, "Hello, I'm Alice Smith and I need help with an order.")
    assert "zip code" in r1.text and not r1.tool_calls
    r2 = agent.turn(state, "It's 10001.")
    assert state.customer_id == "alice_1" and r2.tool_calls[0]["arguments"]["first_name"] == "Alice"


def test_cancel_all_pending_orders_is_one_proposal_per_order(tmp_path):
    from assistant.service.domain import RetailDomain
    from assistant.service.records import ServiceRecords
    from tests.service_fixtures import tiny_data

    data = tiny_data()
    data.orders["#W0000003"]["status"] = "pending"
    agent = ServiceAgent(RetailDomain(data, ServiceRecords(tmp_path / "r.sqlite")), None)
    state = agent.new_state("alice_1")
    r1 = agent.turn(state, "Please cancel all my pending orders, I ordered them by mistake.")
    assert r1.proposal["arguments"] == {"order_id": "#W0000001", "reason": "ordered by mistake"}
    r2 = agent.turn(state, "yes")
    assert r2.executed and r2.proposal["arguments"] == {"order_id": "#W0000003", "reason": "ordered by mistake"}
    r3 = agent.turn(state, "yes")
    assert r3.executed and r3.done


def test_new_options_without_a_word_of_undoing_are_a_change_not_a_return(tmp_path):
    backend = ScriptedBackend([lambda m, t: {"action": "return"}] * 20)  # a small model mislabels the sentence
    agent = ServiceAgent(tiny_domain(tmp_path), backend)
    state = agent.new_state("alice_1")
    r = agent.turn(state, "From order #W0000002 I want the t-shirt in black, size M.")
    assert r.proposal["name"] == "exchange_delivered_order_items"
    r = agent.turn(state, "no")
    r = agent.turn(state, "I want to return the t-shirt from order #W0000002, it is black.")
    assert r.proposal["name"] == "return_delivered_order_items"


def test_a_failing_backend_falls_back_to_action_words_and_says_so(tmp_path):
    from assistant.errors import BackendTimeout

    def slow(messages, tools):
        raise BackendTimeout("too slow")

    agent = ServiceAgent(tiny_domain(tmp_path), ScriptedBackend([slow] * 5))
    r = agent.turn(agent.new_state("alice_1"), "I bought it by accident.")
    assert [p["source"] for p in r.parse] == ["fallback"]


def test_two_items_of_one_product_are_told_apart_by_their_options(tmp_path):
    from assistant.service.domain import RetailDomain
    from assistant.service.records import ServiceRecords
    from tests.service_fixtures import SHIRT, _item, tiny_data

    data = tiny_data()
    data.orders["#W0000002"]["items"].append(_item(SHIRT, "1001"))  # a blue M beside the red L
    agent = ServiceAgent(RetailDomain(data, ServiceRecords(tmp_path / "r.sqlite")), None)
    state = agent.new_state("alice_1")
    r = agent.turn(state, "Please exchange the t-shirt from order #W0000002 for a black one.")
    assert r.proposal is None and "Which T-Shirt do you mean" in r.text
    r = agent.turn(state, "The blue one, please exchange it for the black one.")
    assert r.proposal["arguments"]["item_ids"] == ["1001"] and r.proposal["arguments"]["new_item_ids"] == ["1003"]


# ---- the shopper chat: the engine routes after-sales messages to the service agent ------------------------

def test_the_shopper_chat_runs_a_return_through_the_service_agent_and_keeps_its_state(agent, tmp_path):
    """A signed-in shopper's return goes to the service agent (proposal, then yes); a product question in the same
    chat still searches; the service state survives a restart through the session store."""
    from assistant.engine import Assistant
    from assistant.persistence import SessionStore
    from retrieval.catalog import Store
    from retrieval.search import ProductIndex
    from tests.test_engine import ORDERS, PRODUCTS, REVIEWS  # the engine tests' small catalog

    index = ProductIndex.build(Store(products={p.product_id: p for p in PRODUCTS}, reviews=list(REVIEWS),
                                     orders=dict(ORDERS)))
    sessions = SessionStore(tmp_path / "sessions.sqlite")
    chat = Assistant(index, None, sessions=sessions, service=agent)
    s = chat.new_session("alice_1")
    r1 = chat.turn(s, "I want to return the t-shirt I got, refund it to my gift card.")
    assert r1.intent == "support" and r1.understanding["action"] == "service"
    assert r1.understanding["proposal"]["name"] == "return_delivered_order_items" and "yes" in r1.text.lower()
    assert agent.domain.order("#W0000002")["status"] == "delivered"  # proposed, not written
    again = Assistant(index, None, sessions=sessions, service=agent).new_session("alice_1", s.session_id)
    assert again.service == s.service and again.service["pending"]  # the proposal waits in the store
    r2 = chat.turn(again, "yes")
    assert r2.understanding["executed"][0]["name"] == "return_delivered_order_items"
    assert agent.domain.order("#W0000002")["status"] == "return requested"
    plain = Assistant(index, None)  # a store without service records: the engine's own tools, no service agent
    assert plain.turn(plain.new_session("alice_1"), "please return my order").understanding["action"] != "service"
    r3 = chat.turn(chat.new_session("alice_1"), "usb c cable")
    assert [c["name"] for c in r3.tool_calls] == ["search_products"]


def test_a_failing_service_agent_gets_an_apology_not_a_stack_trace(agent):
    from assistant.engine import Assistant
    from retrieval.catalog import Store
    from retrieval.search import ProductIndex
    from tests.test_engine import PRODUCTS

    def broken(state, text):
        raise RuntimeError("records unavailable")

    agent.turn = broken
    chat = Assistant(ProductIndex.build(Store(products={p.product_id: p for p in PRODUCTS})), None, service=agent)
    r = chat.turn(chat.new_session("alice_1"), "please cancel order #W0000001")
    assert "nothing on your orders was changed" in r.text and "Traceback" not in r.text
    assert any("records unavailable" in e for e in r.errors)


def test_a_zip_code_of_the_wrong_length_is_named_and_never_looked_up(agent):
    state = agent.new_state()
    r1 = agent.turn(state, "Hi, I'm Alice Smith and I want to return the t-shirt I got.")
    assert "zip code" in r1.text and "e-mail" in r1.text and names(r1) == [] and state.customer_id is None
    r2 = agent.turn(state, "My zip code is 1000.")
    assert "1000 does not look like a zip code" in r2.text and names(r2) == []
    r3 = agent.turn(state, "Sorry, it is 10001.")
    assert state.customer_id == "alice_1" and names(r3)[0] == "find_user_id_by_name_zip"
