"""The service desk's reply sentences, built from records and policy outcomes (never written by a model).

Knows wording; nothing about rules or records beyond what it is given.
"""
from __future__ import annotations

from typing import Any

from assistant.service.policy import Outcome, Refusal
from assistant.service.summaries import money

ASK_IDENTITY = "I can help with that. First, what is your name and zip code (or your e-mail address)?"
CONFIRM = "Shall I go ahead? Please answer yes to confirm."
WHAT_TO_DO = ("What would you like me to do: cancel or change a pending order, return or exchange delivered items, "
              "or change an address or payment method?")
CLOSING = "Is there anything else I can help you with?"
TRANSFERRED = "I have transferred you to a human agent, who will continue from here with a summary of our chat."
WITHDRAWN = "Understood, I have not made that change."


def ask_identity(malformed_zip: str = "") -> str:
    """The identity question; a zip code of the wrong length is named first. (Thanking a name already given and
    asking for the zip alone was measured worse: the LLM customer then asked the agent for *its* zip code,
    docs/results/taubench.md.)"""
    return (f"{malformed_zip} does not look like a zip code: a zip code has 5 digits. " if malformed_zip else "") \
        + ASK_IDENTITY


def not_found(tried: list[str], by_email: bool) -> str:
    """After a failed look-up, ask for the other way in (an e-mail after a name and zip, and the reverse)."""
    other = ("your first name, last name and 5-digit zip code" if by_email
             else "the e-mail address of your account")
    return f"I could not find an account with {', '.join(tried)}. Could you give me {other} instead?"



def greeting(user: dict[str, Any]) -> str:
    return f"Thank you, {user['name']['first_name']}, I have found your account."


def proposal(summary: str) -> str:
    return f"Here is what I will do: {summary} {CONFIRM}"


def executed(outcome: Outcome) -> str:
    result, name = outcome.result, outcome.proposal.name
    if name == "modify_user_address":
        return "Done: your default address is updated."
    oid, status = result.get("order_id", ""), result.get("status", "")
    if name == "cancel_pending_order":
        return f"Done: order {oid} is cancelled; the refund is on its way."
    if name == "return_delivered_order_items":
        return f"Done: the return for order {oid} is requested; you will get an e-mail with the return instructions."
    if name == "exchange_delivered_order_items":
        diff = result.get("exchange_price_difference", 0)
        extra = f" (you pay {money(diff)} more)" if diff > 0 else f" (you get {money(-diff)} back)" if diff < 0 else ""
        return f"Done: the exchange for order {oid} is requested{extra}; you will get an e-mail with the next steps."
    if name == "modify_pending_order_items":
        return f"Done: the items of order {oid} are changed (status: {status})."
    if name == "modify_pending_order_payment":
        return f"Done: order {oid} is now paid with {result['payment_history'][-2]['payment_method_id']}."
    return f"Done: the shipping address of order {oid} is updated."


def refused(error: Exception) -> str:
    if isinstance(error, Refusal):
        return f"I cannot do that: {error.detail} (our policy: {_rule_text(error.rule)})."
    return f"I cannot do that: {error}."


def _rule_text(rule: str) -> str:
    from assistant.service.policy import RULES

    return RULES[rule]


def not_done(outcome: Outcome) -> str:
    return f"That change could not be made: {outcome.message}."


def out_of_scope() -> str:
    return ("That is something I cannot do from here (I can cancel or change pending orders, return or exchange "
            "delivered items, change addresses and payment methods, and answer questions about your orders).")
