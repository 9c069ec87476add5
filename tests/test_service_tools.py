"""The service tools carry tau-bench's retail names and arguments (a contract: tasks compare one to one)."""
from __future__ import annotations

import pytest

from assistant.service.state import ServiceState
from assistant.service.tools import SERVICE_TOOLS, ServiceContext
from assistant.tooling import ToolError
from tests.service_fixtures import tiny_domain

ADDRESS = ["address1", "address2", "city", "state", "country", "zip"]
CONTRACT = {
    "find_user_id_by_email": ["email"],
    "find_user_id_by_name_zip": ["first_name", "last_name", "zip"],
    "get_user_details": ["user_id"],
    "get_order_details": ["order_id"],
    "get_product_details": ["product_id"],
    "list_all_product_types": [],
    "calculate": ["expression"],
    "cancel_pending_order": ["order_id", "reason"],
    "modify_pending_order_address": ["order_id", *ADDRESS],
    "modify_pending_order_items": ["order_id", "item_ids", "new_item_ids", "payment_method_id"],
    "modify_pending_order_payment": ["order_id", "payment_method_id"],
    "modify_user_address": ["user_id", *ADDRESS],
    "return_delivered_order_items": ["order_id", "item_ids", "payment_method_id"],
    "exchange_delivered_order_items": ["order_id", "item_ids", "new_item_ids", "payment_method_id"],
    "transfer_to_human_agents": ["summary"],
}


def test_names_and_arguments_match_the_benchmark():
    assert set(SERVICE_TOOLS) == set(CONTRACT)
    for name, args in CONTRACT.items():
        params = SERVICE_TOOLS[name].schema()["function"]["parameters"]
        assert list(params["properties"]) == args and params["required"] == args, name
    assert SERVICE_TOOLS["modify_pending_order_items"].parameters["properties"]["item_ids"]["type"] == "array"


def test_catalog_tools_and_calculate(tmp_path):
    ctx = ServiceContext(tiny_domain(tmp_path), ServiceState())
    product = SERVICE_TOOLS["get_product_details"](ctx, {"product_id": "100"})
    assert product["name"] == "T-Shirt" and len(product["variants"]) == 4
    with pytest.raises(ToolError, match="not found"):
        SERVICE_TOOLS["get_product_details"](ctx, {"product_id": "1001"})  # an item id, not a product id
    assert SERVICE_TOOLS["calculate"](ctx, {"expression": "(537.01 - 467.86) * 2"}) == {"result": 138.3}
    for bad in ("__import__('os')", "2 ** 99999", "1 / 0"):
        with pytest.raises(ToolError):
            SERVICE_TOOLS["calculate"](ctx, {"expression": bad})
    with pytest.raises(ToolError, match="invalid arguments"):
        SERVICE_TOOLS["cancel_pending_order"](ctx, {"order_id": "#W0000001"})  # reason missing
