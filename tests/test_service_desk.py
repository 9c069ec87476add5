"""The service desk: drafts are not shown to the customer until a person approves them; edit and reject."""
from __future__ import annotations

import pytest

from assistant.service.desk import ServiceDesk
from assistant.service.records import ServiceRecords
from retrieval.catalog import load_catalog
from tests.service_fixtures import tiny_data


@pytest.fixture()
def index_dir(tmp_path):
    tiny_data().save(tmp_path / "index" / "service")
    return tmp_path / "index"


@pytest.fixture()
def desk(index_dir):
    return ServiceDesk.open(index_dir, backend=None)


def start_return(desk) -> str:
    cid = desk.new_conversation()
    desk.customer_says(cid, "My email is alice@example.com. Please return the t-shirt I received, I want a refund.")
    return cid


def test_a_draft_is_not_shown_until_approved(desk):
    cid = start_return(desk)
    conv = desk.get(cid)
    assert conv.card["status"] == "draft" and conv.card["name"] == "return_delivered_order_items"
    assert conv.card["summary"] in conv.suggestion
    desk.customer_says(cid, "yes")  # the customer cannot confirm what was never sent
    assert desk.agent.domain.order("#W0000002")["status"] == "delivered"


def test_approve_then_the_customers_yes_runs_it(desk, index_dir):
    cid = start_return(desk)
    desk.approve(cid, "Sure, I can do that.")
    conv = desk.get(cid)
    assert conv.card["status"] == "sent" and conv.card["summary"] in conv.messages[-1]["text"]
    desk.customer_says(cid, "Yes.")
    assert desk.get(cid).card["status"] == "executed"
    records = ServiceRecords(index_dir / "service" / "records.sqlite")  # durable
    assert [a["name"] for a in records.actions("alice_1")] == ["return_delivered_order_items"]


def test_edit_is_checked_by_the_policy_and_reject_withdraws(desk):
    cid = start_return(desk)
    args = dict(desk.get(cid).card["arguments"])
    desk.edit(cid, {**args, "payment_method_id": "gift_card_1"})
    conv = desk.get(cid)
    assert conv.card["status"] == "draft" and conv.card["arguments"]["payment_method_id"] == "gift_card_1"
    assert "gift_card_1" in conv.suggestion
    desk.edit(cid, {**args, "payment_method_id": "credit_card_1"})  # neither the original method nor a gift card
    assert desk.get(cid).card["status"] == "refused" and "refund_method" in desk.get(cid).card["note"]
    desk.reject(cid)
    assert desk.get(cid).card["status"] == "rejected" and desk.get(cid).state.pending is None
    desk.customer_says(cid, "yes")
    assert desk.agent.domain.records.actions() == []


def test_transfers_become_console_queue_entries(desk):
    from ui.service_desk import sync_handoffs

    cid = desk.new_conversation()
    desk.customer_says(cid, "My email is alice@example.com. I want to speak to a supervisor about a coupon.")
    assert desk.get(cid).state.transferred

    class Store:
        conversations: list = []

    store = Store()
    sync_handoffs(desk, store)
    sync_handoffs(desk, store)  # once each
    (entry,) = store.conversations
    assert entry["user_id"] == "alice_1" and entry["topic"] == "transferred"
    assert entry["messages"][0]["text"].startswith("[transferred to a human]") and "coupon" in entry["summary"]


def test_the_catalog_format_makes_products_searchable_records(index_dir):
    store, report = load_catalog(index_dir / "service", "taubench_retail")
    assert report.products == 2 and report.count("rejected") == 0
    shirt = store.products["100"]
    assert shirt.title == "T-Shirt" and shirt.price == 20.0 and "black, blue, red" in shirt.attributes["color"]
    assert store.orders["#W0000002"].user_id == "alice_1" and store.users["bob_2"].name == "Bob Jones"


def test_bad_service_data_names_file_and_record(tmp_path):
    from assistant.service.data import RetailData, RetailDataError

    data = tiny_data()
    del data.orders["#W0000003"]["status"]
    folder = data.save(tmp_path / "bad")
    with pytest.raises(RetailDataError, match=r"orders.json:\d+: #W0000003: missing 'status'"):
        RetailData.load(folder)
