"""The state of one service conversation: who the customer is, the write awaiting a yes, what is left to do.

Plain dataclasses that round-trip through JSON (`to_dict` / `from_dict`), so a conversation can live in
a session and survive a restart. The policy owns `customer_id`, `pending` and `items_changed`; the agent
owns the requests it has read and the identity details the customer gave.

Knows nothing about records, rules or models.
"""
from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Proposal:
    """A write described to the customer and waiting for their explicit yes."""

    name: str
    arguments: dict[str, Any]
    summary: str
    order_id: str = ""
    request_id: str = ""       # the agent's request this write fulfils
    shown: bool = False        # the summary reached the customer (a yes only counts after that)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])


@dataclass
class Request:
    """One thing the customer asked for, as read from their sentences; resolved against the records later."""

    action: str                       # cancel | return | exchange | address | payment | profile_address |
    # info | human  (cancel/return and the two kinds of item change are settled by the order's status)
    order_id: str = ""
    order_suffix: str = ""            # "the order number ends in 66"
    products: list[str] = field(default_factory=list)  # product type names the customer mentioned
    texts: list[str] = field(default_factory=list)     # the sentences it was read from, in order
    all_items: bool = False
    asked: int = 0                    # how often the agent asked the customer about it
    status: str = "open"              # open | proposed | done | refused | dropped
    note: str = ""                    # the outcome, or why it was refused or dropped
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:6])


@dataclass
class ServiceState:
    customer_id: str | None = None
    auth_via: str = ""                       # email | name_zip | session
    pending: Proposal | None = None
    items_changed: list[str] = field(default_factory=list)  # orders whose items were modified or exchanged
    executed: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    first_name: str = ""
    last_name: str = ""
    zip: str = ""
    failed_auth: list[str] = field(default_factory=list)
    context_order: str = ""                  # the order the customer talked about last
    context_suffix: str = ""                 # ... or the ending of its id they gave
    context_products: list[str] = field(default_factory=list)
    asked: str = ""                          # what the last reply asked for
    idle_turns: int = 0                      # replies in a row that found nothing to do
    transcript: list[dict[str, str]] = field(default_factory=list)
    llm_messages: list[dict[str, Any]] = field(default_factory=list)  # agent mode: the model's own history
    transferred: bool = False
    done: bool = False
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def open_requests(self) -> list[Request]:
        return [r for r in self.requests if r.status in ("open", "proposed")]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ServiceState:
        d = dict(d)
        d["pending"] = Proposal(**d["pending"]) if d.get("pending") else None
        d["requests"] = [Request(**r) for r in d.get("requests", [])]
        return cls(**d)
