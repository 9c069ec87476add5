"""A tiny retail service dataset (tau-bench's record shapes) for tests that must not need ../shared/data."""
from __future__ import annotations

import copy

from assistant.service.data import RetailData


def _address(street: str, zip_code: str) -> dict:
    return {"address1": street, "address2": "", "city": "Springfield", "state": "IL", "country": "USA", "zip": zip_code}


def _item(product: dict, item_id: str) -> dict:
    v = product["variants"][item_id]
    return {"name": product["name"], "product_id": product["product_id"], "item_id": item_id, "price": v["price"],
            "options": copy.deepcopy(v["options"])}


def _variant(item_id: str, options: dict, price: float, available: bool = True) -> dict:
    return {"item_id": item_id, "options": options, "available": available, "price": price}


SHIRT = {"name": "T-Shirt", "product_id": "100", "variants": {
    "1001": _variant("1001", {"color": "blue", "size": "M"}, 20.0),
    "1002": _variant("1002", {"color": "red", "size": "L"}, 22.0),
    "1003": _variant("1003", {"color": "black", "size": "M"}, 25.0),
    "1004": _variant("1004", {"color": "black", "size": "L"}, 26.0, available=False),
}}
KETTLE = {"name": "Electric Kettle", "product_id": "200", "variants": {
    "2001": _variant("2001", {"capacity": "1L", "color": "white"}, 30.0),
    "2002": _variant("2002", {"capacity": "2L", "color": "white"}, 40.0),
    "2003": _variant("2003", {"capacity": "2L", "color": "black"}, 42.0),
}}


def _order(oid: str, user: str, status: str, items: list[dict], method: str) -> dict:
    total = round(sum(i["price"] for i in items), 2)
    return {"order_id": oid, "user_id": user, "address": _address("1 Main Street", "10001"), "items": items,
            "fulfillments": [], "status": status,
            "payment_history": [{"transaction_type": "payment", "amount": total, "payment_method_id": method}]}


def tiny_data() -> RetailData:
    users = {
        "alice_1": {"name": {"first_name": "Alice", "last_name": "Smith"}, "address": _address("1 Main Street", "10001"),
                    "email": "alice@example.com", "payment_methods": {
                        "credit_card_1": {"source": "credit_card", "brand": "visa", "last_four": "1111",
                                          "id": "credit_card_1"},
                        "gift_card_1": {"source": "gift_card", "balance": 0.0, "id": "gift_card_1"},
                        "paypal_1": {"source": "paypal", "id": "paypal_1"}},
                    "orders": ["#W0000001", "#W0000002", "#W0000003"]},
        "bob_2": {"name": {"first_name": "Bob", "last_name": "Jones"}, "address": _address("2 Oak Road", "20002"),
                  "email": "bob@example.com", "payment_methods": {
                      "gift_card_2": {"source": "gift_card", "balance": 500.0, "id": "gift_card_2"}},
                  "orders": ["#W0000004"]},
    }
    orders = {
        "#W0000001": _order("#W0000001", "alice_1", "pending", [_item(SHIRT, "1001"), _item(KETTLE, "2001")],
                            "credit_card_1"),
        "#W0000002": _order("#W0000002", "alice_1", "delivered", [_item(SHIRT, "1002")], "paypal_1"),
        "#W0000003": _order("#W0000003", "alice_1", "processed", [_item(KETTLE, "2002")], "credit_card_1"),
        "#W0000004": _order("#W0000004", "bob_2", "pending", [_item(KETTLE, "2001")], "gift_card_2"),
    }
    return RetailData(users=users, orders=orders, products={"100": copy.deepcopy(SHIRT), "200": copy.deepcopy(KETTLE)},
                      policy="(test policy)")


def tiny_domain(tmp_path):
    from assistant.service.domain import RetailDomain
    from assistant.service.records import ServiceRecords

    return RetailDomain(tiny_data(), ServiceRecords(tmp_path / "records.sqlite"))
