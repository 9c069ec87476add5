"""The service tools, with tau-bench's retail names and arguments, as typed functions over a `ServiceContext`.

Read tools answer from the current records, for the authenticated customer only (product details and the
product list are catalog facts and need no sign-in). The two `find_user_id_*` tools are how a customer is
authenticated; once one is, no other can be in the same conversation. Write tools never write: they make
the write the pending proposal after the policy's checks, and return its exact description for the
customer to confirm; the policy runs it on the customer's next message if that is an explicit yes.
A refusal is a `ToolError` naming the rule, which goes back to whoever called the tool.

Knows the tools' contracts; the rules live in `policy`, the records in `domain`.
"""
from __future__ import annotations

import ast
import operator
from dataclasses import dataclass
from typing import Any

from assistant.service import policy
from assistant.service.domain import RetailDomain
from assistant.service.state import ServiceState
from assistant.tooling import Tool, ToolError, tool


@dataclass
class ServiceContext:
    domain: RetailDomain
    state: ServiceState
    request_id: str = ""  # the agent's request a proposal made now fulfils


def _proposed(ctx: ServiceContext, name: str, args: dict[str, Any]) -> dict:
    p = policy.propose(ctx.state, ctx.domain, name, args, ctx.request_id)
    return {"status": "awaiting explicit confirmation", "proposal": p.summary,
            "next": "describe this to the customer and ask for an explicit yes; it runs only after their yes"}


@tool()
def find_user_id_by_email(ctx: ServiceContext, email: str) -> dict:
    """Find the customer's user id by e-mail; this authenticates the customer for the conversation.

    Args:
        email: the customer's e-mail address, such as 'something@example.com'
    """
    uid = ctx.domain.user_by_email(email)
    if uid is None:
        raise ToolError("user not found")
    policy.authenticate(ctx.state, uid, "email")
    return {"user_id": uid}


@tool()
def find_user_id_by_name_zip(ctx: ServiceContext, first_name: str, last_name: str, zip: str) -> dict:
    """Find the customer's user id by first name, last name and zip code; authenticates the customer.

    Args:
        first_name: the customer's first name, such as 'John'
        last_name: the customer's last name, such as 'Doe'
        zip: the customer's zip code, such as '12345'
    """
    uid = ctx.domain.user_by_name_zip(first_name, last_name, zip)
    if uid is None:
        raise ToolError("user not found")
    policy.authenticate(ctx.state, uid, "name_zip")
    return {"user_id": uid}


@tool(private=True)
def get_user_details(ctx: ServiceContext, user_id: str) -> dict:
    """The authenticated customer's profile: name, address, e-mail, payment methods, order ids.

    Args:
        user_id: the customer's user id, such as 'sara_doe_496'
    """
    policy.own_user(ctx.state, user_id)
    return {"user_id": user_id, **ctx.domain.user(user_id)}


@tool(private=True)
def get_order_details(ctx: ServiceContext, order_id: str) -> dict:
    """Status, items, address, fulfilments and payments of one of the customer's orders.

    Args:
        order_id: the order id, such as '#W0000000' (with the '#')
    """
    return policy.own_order(ctx.state, ctx.domain, order_id)


@tool()
def get_product_details(ctx: ServiceContext, product_id: str) -> dict:
    """A product type with all its variants: options, availability and price of each item id.

    Args:
        product_id: the product id, such as '6086499569' (not an item id)
    """
    product = ctx.domain.product(product_id)
    if product is None:
        raise ToolError(f"product {product_id!r} not found (item ids and product ids differ)")
    return product


@tool()
def list_all_product_types(ctx: ServiceContext) -> dict:
    """The names and product ids of all product types the shop sells."""
    return ctx.domain.product_types()


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.USub: operator.neg, ast.UAdd: operator.pos}


def _arith(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_arith(node.left), _arith(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_arith(node.operand))
    raise ToolError("only numbers, + - * / and parentheses are allowed")


@tool()
def calculate(ctx: ServiceContext, expression: str) -> dict:
    """Compute an arithmetic expression (numbers, + - * /, parentheses), rounded to 2 decimals.

    Args:
        expression: the expression, such as '2 + 2' or '(59.99 - 12.5) * 2'
    """
    try:
        value = _arith(ast.parse(expression.strip(), mode="eval").body)
    except (SyntaxError, ZeroDivisionError, RecursionError) as e:
        raise ToolError(f"cannot compute {expression!r}: {e}") from e
    return {"result": round(value, 2)}


@tool(private=True)
def cancel_pending_order(ctx: ServiceContext, order_id: str, reason: str) -> dict:
    """Propose cancelling a pending order; runs only after the customer's explicit yes.

    Args:
        order_id: the order id, such as '#W0000000'
        reason: 'no longer needed' or 'ordered by mistake'
    """
    return _proposed(ctx, "cancel_pending_order", {"order_id": order_id, "reason": reason})


@tool(private=True)
def modify_pending_order_address(ctx: ServiceContext, order_id: str, address1: str, address2: str, city: str,
                                 state: str, country: str, zip: str) -> dict:
    """Propose changing the shipping address of a pending order; runs only after an explicit yes.

    Args:
        order_id: the order id, such as '#W0000000'
        address1: first address line, such as '123 Main St'
        address2: second address line, such as 'Apt 1', or ''
        city: the city, such as 'San Francisco'
        state: the state, such as 'CA'
        country: the country, such as 'USA'
        zip: the zip code, such as '12345'
    """
    return _proposed(ctx, "modify_pending_order_address", dict(order_id=order_id, address1=address1,
                     address2=address2, city=city, state=state, country=country, zip=zip))


@tool(private=True)
def modify_pending_order_items(ctx: ServiceContext, order_id: str, item_ids: list[str], new_item_ids: list[str],
                               payment_method_id: str) -> dict:
    """Propose changing items of a pending order to other variants of the same products (once per order).

    Args:
        order_id: the order id, such as '#W0000000'
        item_ids: the item ids to change, such as ['1008292230']
        new_item_ids: the new item id for each, in the same order, of the same product
        payment_method_id: pays or receives the price difference, such as 'gift_card_0000000'
    """
    return _proposed(ctx, "modify_pending_order_items", dict(order_id=order_id, item_ids=item_ids,
                     new_item_ids=new_item_ids, payment_method_id=payment_method_id))


@tool(private=True)
def modify_pending_order_payment(ctx: ServiceContext, order_id: str, payment_method_id: str) -> dict:
    """Propose paying a pending order with another of the customer's payment methods.

    Args:
        order_id: the order id, such as '#W0000000'
        payment_method_id: the new payment method, such as 'credit_card_0000000'
    """
    return _proposed(ctx, "modify_pending_order_payment", dict(order_id=order_id,
                                                               payment_method_id=payment_method_id))


@tool(private=True)
def modify_user_address(ctx: ServiceContext, user_id: str, address1: str, address2: str, city: str, state: str,
                        country: str, zip: str) -> dict:
    """Propose changing the customer's default address.

    Args:
        user_id: the customer's user id
        address1: first address line, such as '123 Main St'
        address2: second address line, such as 'Apt 1', or ''
        city: the city, such as 'San Francisco'
        state: the state, such as 'CA'
        country: the country, such as 'USA'
        zip: the zip code, such as '12345'
    """
    return _proposed(ctx, "modify_user_address", dict(user_id=user_id, address1=address1, address2=address2,
                                                      city=city, state=state, country=country, zip=zip))


@tool(private=True)
def return_delivered_order_items(ctx: ServiceContext, order_id: str, item_ids: list[str],
                                 payment_method_id: str) -> dict:
    """Propose returning items of a delivered order, refunded to the original payment method or a gift card.

    Args:
        order_id: the order id, such as '#W0000000'
        item_ids: the item ids to return, such as ['1008292230']
        payment_method_id: receives the refund, such as 'gift_card_0000000'
    """
    return _proposed(ctx, "return_delivered_order_items", dict(order_id=order_id, item_ids=item_ids,
                                                               payment_method_id=payment_method_id))


@tool(private=True)
def exchange_delivered_order_items(ctx: ServiceContext, order_id: str, item_ids: list[str],
                                   new_item_ids: list[str], payment_method_id: str) -> dict:
    """Propose exchanging items of a delivered order for other variants of the same products (once per order).

    Args:
        order_id: the order id, such as '#W0000000'
        item_ids: the item ids to exchange, such as ['1008292230']
        new_item_ids: the new item id for each, in the same order, of the same product
        payment_method_id: pays or receives the price difference, such as 'gift_card_0000000'
    """
    return _proposed(ctx, "exchange_delivered_order_items", dict(order_id=order_id, item_ids=item_ids,
                     new_item_ids=new_item_ids, payment_method_id=payment_method_id))


@tool()
def transfer_to_human_agents(ctx: ServiceContext, summary: str) -> dict:
    """Hand the conversation to a human agent, with a summary of the customer's issue.

    Args:
        summary: what the customer needs and what was done so far
    """
    ctx.state.transferred = True
    ctx.domain.records.add_handoff(ctx.state.customer_id or "", ctx.state.session_id, summary, ctx.state.transcript)
    return {"status": "transferred", "summary": summary}


READ_TOOLS = (find_user_id_by_email, find_user_id_by_name_zip, get_user_details, get_order_details,
              get_product_details, list_all_product_types, calculate)
WRITE_TOOLS = (cancel_pending_order, modify_pending_order_address, modify_pending_order_items,
               modify_pending_order_payment, modify_user_address, return_delivered_order_items,
               exchange_delivered_order_items)
SERVICE_TOOLS: dict[str, Tool] = {t.name: t for t in (*READ_TOOLS, *WRITE_TOOLS, transfer_to_human_agents)}
