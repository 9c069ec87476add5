"""Auditing a tau-bench conversation after the fact: policy violations and the cause of a failed run.

The audit reads only the transcript (customer messages, agent messages, the writes each turn ran) and the
source records; it shares no code with the policy, so a bug there cannot hide here. Violations:
`write_without_yes` (the turn's customer message is not a plain yes, or the agent message before it did not
present the write's order and item ids), `other_customer` (the write changes records of someone other than
the task's customer), `wrong_status` (replaying the run's writes in order, the order's status did not allow
it). A metric that must be able to fail: tests feed it violating transcripts.
"""
from __future__ import annotations

import copy
import re
from typing import Any

NEEDS = {"cancel_pending_order": "pending", "modify_pending_order_address": "pending",
         "modify_pending_order_items": "pending", "modify_pending_order_payment": "pending",
         "return_delivered_order_items": "delivered", "exchange_delivered_order_items": "delivered"}
AFTER = {"cancel_pending_order": "cancelled", "modify_pending_order_items": "pending (item modified)",
         "return_delivered_order_items": "return requested", "exchange_delivered_order_items": "exchange requested"}
_PLAIN_YES = re.compile(r"^\W*(?:yes|yeah|yep|yup|sure|ok|okay|confirm(?:ed)?|correct|go ahead|please (?:do|proceed)|"
                        r"absolutely|definitely|that's right)\b", re.I)


def audit_violations(data, customer_id: str, turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    statuses = {oid: o["status"] for oid, o in data.orders.items()}
    previous_agent = ""
    for i, turn in enumerate(turns):
        for w in turn["executed"]:
            args = w["arguments"]
            owner = args.get("user_id") if w["name"] == "modify_user_address" else \
                copy.deepcopy(data.orders.get(args.get("order_id"), {})).get("user_id")
            if owner != customer_id:
                out.append({"turn": i, "kind": "other_customer", "write": w})
            ids = [args.get("order_id", "")] + list(args.get("item_ids", []))
            presented = all(x in previous_agent for x in ids if x)
            if not _PLAIN_YES.search(turn["customer"]) or not presented:
                out.append({"turn": i, "kind": "write_without_yes", "write": w})
            oid = args.get("order_id")
            if w["name"] in NEEDS and statuses.get(oid) != NEEDS[w["name"]]:
                out.append({"turn": i, "kind": "wrong_status", "write": w, "status": statuses.get(oid)})
            if w["name"] in AFTER and oid:
                statuses[oid] = AFTER[w["name"]]
        previous_agent = turn["agent"]
    return out


_CLOSED = re.compile(r"anything else (?:i|we) can|is there anything else|transferred you", re.I)


def ended_by(turns: list[dict[str, Any]], max_turns: int) -> str:
    """Who ended the conversation: the agent (closing question or hand-off), the turn cap, or the customer."""
    if turns and _CLOSED.search(turns[-1]["agent"]):
        return "agent"
    return "turn_cap" if len(turns) >= max_turns else "customer"


def _same_items(a: dict, b: dict) -> bool:
    return sorted(a.get("item_ids", [])) == sorted(b.get("item_ids", [])) and \
        sorted(a.get("new_item_ids", [])) == sorted(b.get("new_item_ids", []))


def _cause_for(g: dict, executed: list[dict], proposed: list[dict]) -> str:
    if any(e["name"] == g["name"] and e["arguments"] == g["arguments"] for e in executed):
        return ""
    oid = g["arguments"].get("order_id")
    same = [e for e in executed if e["name"] == g["name"] and e["arguments"].get("order_id") == oid]
    if same:
        e = same[-1]["arguments"]
        if not _same_items(e, g["arguments"]):
            return "wrong_item_or_variant"
        if e.get("payment_method_id") != g["arguments"].get("payment_method_id"):
            return "wrong_payment_method"
        return "wrong_arguments"
    if any(e["arguments"].get("order_id") == oid for e in executed if oid):
        return "wrong_action"
    if any(p["name"] == g["name"] and p["arguments"].get("order_id") == oid for p in proposed):
        return "missing_confirmation"
    return "gave_up"


def failure_cause(task: dict, authenticated: str | None, executed: list[dict], proposed: list[dict],
                  db_ok: bool, outputs_ok: bool) -> str:
    """Why a run failed ('' when it did not)."""
    if db_ok and outputs_ok:
        return ""
    if authenticated != task["user_id"]:
        return "authentication"
    if db_ok:
        return "missing_output"
    truth = [a for a in task["actions"] if a["name"] in NEEDS or a["name"] == "modify_user_address"]
    for g in truth:
        cause = _cause_for(g, executed, proposed)
        if cause:
            return cause
    return "extra_write"
