"""The service policy: every rule tried and broken on purpose; no write without the customer's explicit yes."""
from __future__ import annotations

import pytest

from assistant.service import policy
from assistant.service.domain import RetailDomain
from assistant.service.policy import Refusal, is_explicit_yes
from assistant.service.records import ServiceRecords
from assistant.service.state import Proposal, ServiceState
from assistant.service.tools import SERVICE_TOOLS, ServiceContext
from assistant.tooling import ToolError
from tests.service_fixtures import tiny_domain


@pytest.fixture()
def domain(tmp_path):
    return tiny_domain(tmp_path)


def signed_in(domain, user="alice_1") -> ServiceContext:
    ctx = ServiceContext(domain, ServiceState())
    email = domain.user(user)["email"]
    SERVICE_TOOLS["find_user_id_by_email"](ctx, {"email": email})
    return ctx


def call(ctx, name, **args):
    return SERVICE_TOOLS[name](ctx, args)


def refused(rule: str, ctx, name, **args) -> Refusal:
    with pytest.raises(Refusal) as e:
        call(ctx, name, **args)
    assert e.value.rule == rule, str(e.value)
    assert rule in str(e.value)  # a refused write says which rule stopped it
    return e.value


def confirm(ctx, text: str) -> policy.Outcome:
    if ctx.state.pending is not None:
        ctx.state.pending.shown = True
    return policy.on_customer_message(ctx.state, ctx.domain, text)


def test_a_write_runs_only_after_an_explicit_yes(domain):
    ctx = signed_in(domain)
    out = call(ctx, "cancel_pending_order", order_id="#W0000001", reason="no longer needed")
    assert out["status"] == "awaiting explicit confirmation" and "#W0000001" in out["proposal"]
    assert domain.order("#W0000001")["status"] == "pending"  # proposing wrote nothing
    assert confirm(ctx, "yes").kind == "executed"
    assert domain.order("#W0000001")["status"] == "cancelled"


@pytest.mark.parametrize("reply", ["I want it cancelled", "ok?", "yes, but not now", "hmm", "no", ""])
def test_write_without_yes_is_withdrawn(domain, reply):
    ctx = signed_in(domain)
    call(ctx, "cancel_pending_order", order_id="#W0000001", reason="no longer needed")
    outcome = confirm(ctx, reply)
    assert outcome.kind == "withdrawn" and ctx.state.pending is None
    assert domain.order("#W0000001")["status"] == "pending" and domain.records.actions() == []
    assert confirm(ctx, "yes").kind == "none"  # a later yes confirms nothing: the proposal is gone


def test_a_yes_before_the_proposal_was_shown_does_not_count(domain):
    ctx = signed_in(domain)
    call(ctx, "cancel_pending_order", order_id="#W0000001", reason="no longer needed")
    assert policy.on_customer_message(ctx.state, domain, "yes").kind == "withdrawn"  # shown is False
    assert domain.order("#W0000001")["status"] == "pending"


def test_yes_to_a_different_action_runs_only_the_one_shown(domain):
    ctx = signed_in(domain)
    call(ctx, "cancel_pending_order", order_id="#W0000001", reason="no longer needed")
    call(ctx, "modify_pending_order_payment", order_id="#W0000001", payment_method_id="paypal_1")  # replaces it
    assert confirm(ctx, "yes, go ahead").kind == "executed"
    assert [a["name"] for a in domain.records.actions()] == ["modify_pending_order_payment"]
    assert domain.order("#W0000001")["status"] == "pending"  # the cancel was never confirmed


def test_yes_naming_another_order_is_not_a_confirmation(domain):
    ctx = signed_in(domain)
    call(ctx, "cancel_pending_order", order_id="#W0000001", reason="ordered by mistake")
    assert confirm(ctx, "yes, cancel #W0000003").kind == "withdrawn"
    assert domain.records.actions() == []


def test_another_customers_order_profile_or_identity(domain):
    ctx = signed_in(domain, "alice_1")
    refused("own_records", ctx, "cancel_pending_order", order_id="#W0000004", reason="no longer needed")
    refused("own_records", ctx, "get_order_details", order_id="#W0000004")
    refused("own_records", ctx, "get_user_details", user_id="bob_2")
    refused("own_records", ctx, "modify_user_address", user_id="bob_2", address1="x", address2="", city="c",
            state="s", country="USA", zip="1")
    refused("one_customer", ctx, "find_user_id_by_email", email="bob@example.com")
    refused("one_customer", ctx, "find_user_id_by_name_zip", first_name="Bob", last_name="Jones", zip="20002")
    assert ctx.state.customer_id == "alice_1"


def test_authenticate_before_any_account_data(domain):
    ctx = ServiceContext(domain, ServiceState())
    refused("authenticate", ctx, "get_user_details", user_id="alice_1")
    refused("authenticate", ctx, "get_order_details", order_id="#W0000001")
    refused("authenticate", ctx, "cancel_pending_order", order_id="#W0000001", reason="no longer needed")
    assert call(ctx, "list_all_product_types") == {"Electric Kettle": "200", "T-Shirt": "100"}  # catalog: no sign-in
    with pytest.raises(ToolError):
        call(ctx, "find_user_id_by_email", email="nobody@example.com")
    assert ctx.state.customer_id is None


@pytest.mark.parametrize("name,args", [
    ("cancel_pending_order", {"order_id": "#W0000002", "reason": "no longer needed"}),   # delivered
    ("cancel_pending_order", {"order_id": "#W0000003", "reason": "no longer needed"}),   # processed
    ("modify_pending_order_payment", {"order_id": "#W0000002", "payment_method_id": "credit_card_1"}),
    ("return_delivered_order_items", {"order_id": "#W0000001", "item_ids": ["1001"],
                                      "payment_method_id": "credit_card_1"}),
    ("exchange_delivered_order_items", {"order_id": "#W0000003", "item_ids": ["2002"], "new_item_ids": ["2003"],
                                        "payment_method_id": "credit_card_1"}),
])
def test_wrong_status_is_refused(domain, name, args):
    refused("status", signed_in(domain), name, **args)


def test_empty_gift_card_cannot_pay(domain):
    ctx = signed_in(domain)
    refused("gift_card_balance", ctx, "modify_pending_order_payment", order_id="#W0000001",
            payment_method_id="gift_card_1")
    refused("gift_card_balance", ctx, "modify_pending_order_items", order_id="#W0000001", item_ids=["1001"],
            new_item_ids=["1003"], payment_method_id="gift_card_1")  # +5.00 on a 0.00 card
    # a refund of the difference to the same empty card is fine
    call(ctx, "modify_pending_order_items", order_id="#W0000001", item_ids=["2001"], new_item_ids=["2001"],
         payment_method_id="gift_card_1")


def test_exchange_to_another_product_type_or_unavailable_variant(domain):
    ctx = signed_in(domain)
    refused("same_product", ctx, "exchange_delivered_order_items", order_id="#W0000002", item_ids=["1002"],
            new_item_ids=["2002"], payment_method_id="paypal_1")
    refused("available", ctx, "exchange_delivered_order_items", order_id="#W0000002", item_ids=["1002"],
            new_item_ids=["1004"], payment_method_id="paypal_1")
    refused("items", ctx, "exchange_delivered_order_items", order_id="#W0000002", item_ids=["1001"],
            new_item_ids=["1003"], payment_method_id="paypal_1")  # not an item of this order


def test_refund_to_original_method_or_a_gift_card(domain):
    ctx = signed_in(domain)
    refused("refund_method", ctx, "return_delivered_order_items", order_id="#W0000002", item_ids=["1002"],
            payment_method_id="credit_card_1")
    refused("payment_method", ctx, "return_delivered_order_items", order_id="#W0000002", item_ids=["1002"],
            payment_method_id="gift_card_2")  # Bob's card
    call(ctx, "return_delivered_order_items", order_id="#W0000002", item_ids=["1002"], payment_method_id="gift_card_1")
    assert confirm(ctx, "Yes.").kind == "executed"
    order = domain.order("#W0000002")
    assert order["status"] == "return requested" and order["return_payment_method_id"] == "gift_card_1"


def test_items_change_only_once(domain):
    ctx = signed_in(domain)
    call(ctx, "modify_pending_order_items", order_id="#W0000001", item_ids=["1001"], new_item_ids=["1003"],
         payment_method_id="credit_card_1")
    assert confirm(ctx, "yes").kind == "executed"
    refused("items_once", ctx, "modify_pending_order_items", order_id="#W0000001", item_ids=["2001"],
            new_item_ids=["2002"], payment_method_id="credit_card_1")
    refused("status", ctx, "cancel_pending_order", order_id="#W0000001", reason="no longer needed")


def test_cancel_reason_and_payment_change_rules(domain):
    ctx = signed_in(domain)
    refused("cancel_reason", ctx, "cancel_pending_order", order_id="#W0000001", reason="too expensive")
    refused("payment_change", ctx, "modify_pending_order_payment", order_id="#W0000001",
            payment_method_id="credit_card_1")  # already paid with it


def test_a_check_at_confirmation_time_catches_changed_records(domain, tmp_path):
    ctx = signed_in(domain)
    call(ctx, "cancel_pending_order", order_id="#W0000001", reason="no longer needed")
    other = RetailDomain(domain.data, ServiceRecords(tmp_path / "records.sqlite"))  # same database
    other.commit("cancel_pending_order", {"order_id": "#W0000001", "reason": "no longer needed"}, "s", "yes")
    assert confirm(ctx, "yes").kind == "refused"  # meanwhile cancelled elsewhere: status no longer pending


def test_writes_are_durable_per_owner_and_never_touch_the_source(domain, tmp_path):
    ctx = signed_in(domain)
    source = domain.data.orders["#W0000001"]["status"]
    call(ctx, "cancel_pending_order", order_id="#W0000001", reason="no longer needed")
    confirm(ctx, "yes please")
    reopened = RetailDomain(domain.data, ServiceRecords(tmp_path / "records.sqlite"))
    assert reopened.order("#W0000001")["status"] == "cancelled"
    assert domain.data.orders["#W0000001"]["status"] == source == "pending"
    assert [a["owner"] for a in reopened.records.actions()] == ["alice_1"]
    assert reopened.records.changed("bob_2") == []


@pytest.mark.parametrize("text,yes", [("yes", True), ("Yes, please go ahead.", True), ("sure", True),
                                      ("yes!", True), ("Yes, that's right for #W0000001", True),
                                      ("no", False), ("yes but change the color", False), ("yes?", False),
                                      ("not yet", False), ("Yes, and also return the mug", False),
                                      ("yes for #W0000002", False), ("I guess", False)])
def test_explicit_yes(text, yes):
    assert is_explicit_yes(text, Proposal("cancel_pending_order", {}, "", "#W0000001")) is yes
