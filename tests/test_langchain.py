"""The tools and retriever as LangChain objects, with the session bound (not settable by the agent)."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("langchain_core")

from assistant.langchain_adapter import langchain_tools, product_retriever  # noqa: E402
from assistant.session import Session  # noqa: E402
from assistant.tools import ToolContext  # noqa: E402
from tests.test_engine import index  # noqa: E402,F401  (module-scoped real index fixture)


def test_tools_run_with_the_bound_session_and_report_mistakes(index):  # noqa: F811
    ctx = ToolContext(index, Session(user_id="U1"))
    tools = {t.name: t for t in langchain_tools(ctx)}
    assert set(tools) >= {"search_products", "add_to_cart", "order_status"}
    assert "user_id" not in json.dumps(tools["order_status"].args)
    found = json.loads(tools["search_products"].invoke({"query": "usb c cable", "max_price": 500}))
    assert found["products"][0]["product_id"] == "C1"
    added = json.loads(tools["add_to_cart"].invoke({"product_id": "C1", "quantity": 2}))
    assert added["quantity"] == 2 and ctx.session.cart == {"C1": 2}
    foreign = json.loads(tools["order_status"].invoke({"order_id": "O10002"}))  # U2's order
    assert "error" in foreign and "O10002" not in json.dumps({k: v for k, v in foreign.items() if k != "error"})


def test_retriever_returns_documents_with_filters(index):  # noqa: F811
    docs = product_retriever(index, k=3, filters={"max_price": 1000}).invoke("wireless earbuds")
    assert docs and all(d.metadata["price"] <= 1000 for d in docs)
    assert docs[0].metadata["product_id"] == "E2"
