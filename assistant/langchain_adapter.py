"""The shopping tools and the product search as LangChain objects, for users of their own agents.

`langchain_tools(ctx)` wraps each tool with the session context bound (the agent's model can never
set the user); `ProductRetriever` is a LangChain retriever over a ProductIndex. LangChain is an
optional extra: `pip install -e '.[langchain]'`. Knows nothing about our engine or prompts.
"""
from __future__ import annotations

import json
from typing import Any

from assistant.tooling import ToolError
from assistant.tools import TOOLS, ToolContext

INSTALL_HINT = "LangChain integration needs the `langchain` extra: pip install -e '.[langchain]'"


def langchain_tools(ctx: ToolContext, names: list[str] | None = None) -> list:
    try:
        from langchain_core.tools import StructuredTool
    except ImportError as e:
        raise ImportError(INSTALL_HINT) from e
    out = []
    for name in names or list(TOOLS):
        tool = TOOLS[name]

        def run(_tool=tool, **kwargs: Any) -> str:
            try:
                return json.dumps(_tool(ctx, {k: v for k, v in kwargs.items() if v is not None}),
                                  ensure_ascii=False, default=str)
            except ToolError as e:  # the agent's model sees its mistake and can correct it
                return json.dumps({"error": str(e)})

        out.append(StructuredTool.from_function(func=run, name=tool.name, description=tool.description,
                                                args_schema=tool.parameters))
    return out


def product_retriever(index, k: int = 5, filters: dict | None = None):
    """A LangChain BaseRetriever returning product Documents (metadata: id, price, rating, score)."""
    try:
        from langchain_core.documents import Document
        from langchain_core.retrievers import BaseRetriever
    except ImportError as e:
        raise ImportError(INSTALL_HINT) from e

    class ProductRetriever(BaseRetriever):
        k: int = 5
        filters: dict = {}

        def _get_relevant_documents(self, query: str, *, run_manager=None) -> list:
            hits = index.search(query, self.filters or None, k=self.k)
            return [Document(page_content=f"{h.product.title}\n{h.product.description}",
                             metadata={"product_id": h.product_id, "price": h.product.price,
                                       "rating": h.product.rating, "score": h.score, "relevant": h.relevant})
                    for h in hits]

    return ProductRetriever(k=k, filters=filters or {})
