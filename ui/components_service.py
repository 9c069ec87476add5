"""HTML for the service desk: the proposed-action card and the customer's account panel.

Pure functions from the service desk's records to escaped HTML. Knows nothing about rules or models.
"""
from __future__ import annotations

from typing import Any

from ui.components import esc

STATUS_LABEL = {
    "draft": ("grey", "awaiting your approval"),
    "sent": ("grey", "sent: waiting for the customer's yes"),
    "executed": ("green", "done: the customer confirmed"),
    "rejected": ("red", "rejected: not sent"),
    "refused": ("red", "refused by the policy"),
    "withdrawn": ("red", "withdrawn: the customer did not confirm"),
}
TITLES = {"cancel_pending_order": "Cancel order", "modify_pending_order_address": "Change shipping address",
          "modify_pending_order_items": "Change items", "modify_pending_order_payment": "Change payment method",
          "modify_user_address": "Change default address", "return_delivered_order_items": "Return items",
          "exchange_delivered_order_items": "Exchange items"}


def proposal_card(card: dict[str, Any] | None) -> str:
    """The action card: what will be written, exactly, and where it stands (draft, sent, done...)."""
    if not card:
        return '<div class="sa-panel sa-proposal"><span class="sa-muted">No action proposed.</span></div>'
    tone, label = STATUS_LABEL.get(card["status"], ("grey", card["status"]))
    args = "".join(f"<tr><th>{esc(k)}</th><td><code>{esc(v if isinstance(v, str) else ', '.join(map(str, v)))}"
                   f"</code></td></tr>" for k, v in card["arguments"].items())
    note = f'<div class="sa-muted" style="margin-top:6px">{esc(card["note"])}</div>' if card.get("note") else ""
    return (f'<div class="sa-panel sa-proposal" data-status="{esc(card["status"])}" data-action="{esc(card["name"])}">'
            f'<h4>{esc(TITLES.get(card["name"], card["name"]))} <span class="sa-badge {tone}">{esc(label)}</span></h4>'
            f'<div class="sa-proposal-summary" style="margin:4px 0 8px 0">{esc(card["summary"])}</div>'
            f'<table class="sa-table">{args}</table>{note}'
            f'<div class="sa-muted" style="margin-top:6px">Runs only after the customer answers yes to it.</div></div>')


def account_panel(user: dict[str, Any] | None, orders: list[dict[str, Any]]) -> str:
    if not user:
        return '<div class="sa-panel sa-account"><span class="sa-muted">Customer not authenticated yet.</span></div>'
    name = f"{user['name']['first_name']} {user['name']['last_name']}"
    methods = ", ".join(f"{esc(m)}" + (f" ({d['balance']:.2f})" if "balance" in d else "")
                        for m, d in user["payment_methods"].items())
    rows = "".join(f"<tr><td><b>{esc(o['order_id'])}</b></td><td>{esc(o['status'])}</td>"
                   f"<td>{esc(', '.join(i['name'] for i in o['items']))}</td></tr>" for o in orders)
    return (f'<div class="sa-panel sa-account"><h4>{esc(name)}</h4><div class="sa-muted">{esc(user["email"])} · '
            f'{methods}</div><table class="sa-table"><tr><th>order</th><th>status</th><th>items</th></tr>{rows}'
            f'</table></div>')
