"""Reply drafts about an order the customer wants undone or put right: refunds (a return's refund, overdue
past the policy's timeline or not), cancellations (free before shipping, refused after) and complaints
(damage within the reporting window, warranty). Same rules as `assistant.agent_replies`: facts from the
customer's own order and the policy only, each cited; statuses in the customer's language.
"""
from __future__ import annotations

import re

from assistant.agent_replies import (
    ReplyFacts, Suggestion, ask_order, cite_policy, damage_note, draft, handoff, order_cites, plural, quote,
)


def _refund_timing(f: ReplyFacts, timeline) -> Suggestion:
    """How long the refund takes, and whether this one is past that (then it is escalated)."""
    o = f.order
    days = f.days_since_update(o)
    # the longest timeline the policy states (+2 days of inspection); past it the refund is overdue
    longest = max((int(n) for n in re.findall(r"\d+", timeline.text)), default=0) + 2 if timeline else 0
    overdue = bool(longest) and days > longest
    if f.zh:
        text = f"退款时间：{quote(timeline, True)} 距离取件已经{days}天，" + (
            "已超出时限，我会帮您加急核查这笔退款。" if overdue else "仍在正常处理时间内。")
    else:
        text = (f"On timing: {quote(timeline, False)} It has been {plural(days, 'day')} since the pickup, "
                + ("which is longer than it should take, so I'm escalating this refund to our payments team now."
                   if overdue else "so it is still within that time."))
    return draft(text, order_cites(o, "updated_at") + cite_policy(timeline), "follow_up" if overdue else "policy")


def refund(f: ReplyFacts) -> list[Suggestion]:
    o, zh = f.order, f.zh
    if o is None:
        return ask_order(f)
    timeline = f.rule("Refunds", "refunded in", zh_words=("到账",))
    start = f.rule("Refunds", "inspection", zh_words=("验收",))
    how_long = draft(quote(timeline, zh) + (" " + quote(start, zh) if start else ""),
                     cite_policy(timeline) + cite_policy(start), "policy")
    if o.status == "returned":
        text = (f"我们已收到您订单{o.order_id}的退货（更新于{o.updated_at[:10]}）。{quote(start, zh)}" if zh else
                f"we have your return for order {o.order_id} (status: returned, updated {o.updated_at[:10]}). "
                f"{quote(start, zh)}")
        first = draft(f.open(text), order_cites(o, "status", "updated_at") + cite_policy(start), "answer")
        return [first, _refund_timing(f, timeline), handoff(f)]
    if o.status != "delivered":  # not delivered yet: cancel while it can be, refuse or return after
        return [cancel(f)[0], how_long, handoff(f)]
    window = f.rule("Returns", "within", zh_words=("天内可退货",))
    text = (f"订单{o.order_id}（状态：{f.status(o)}，{o.updated_at[:10]}）可以申请退货。{quote(window, zh)}" if zh else
            f"you can return items from order {o.order_id} (status: {o.status}, {o.updated_at[:10]}). "
            f"{quote(window, zh)}")
    first = draft(f.open(text), order_cites(o, "status", "updated_at") + cite_policy(window), "answer")
    return [first, how_long, handoff(f)]


def cancel(f: ReplyFacts) -> list[Suggestion]:
    o, zh = f.order, f.zh
    if o is None:
        return ask_order(f)
    if o.status == "processing":
        free = f.rule("Cancellations", "free of charge", zh_words=("免费取消",))
        text = (f"订单{o.order_id}还没有发货（状态：{f.status(o)}），可以免费取消。{quote(free, zh)}" if zh else
                f"order {o.order_id} has not shipped yet (status: processing), so it can be cancelled free of "
                f"charge. {quote(free, zh)}")
        first = draft(f.open(text), order_cites(o, "status") + cite_policy(free), "answer")
    else:
        shipped = f.rule("Cancellations", "cannot be cancelled", zh_words=("无法取消",))
        track = ""
        if o.carrier:
            track = f"（{o.carrier} {o.tracking_number}）" if zh else f" ({o.carrier} {o.tracking_number})"
        text = (f"订单{o.order_id}的状态是{f.status(o)}{track}。{quote(shipped, zh)}" if zh else
                f"order {o.order_id} is already {o.status}{track}. {quote(shipped, zh)}")
        cites = order_cites(o, "status") + (order_cites(o, "carrier", "tracking_number") if o.carrier else [])
        first = draft(f.open(text), cites + cite_policy(shipped), "answer")
    rule = f.rule("Refunds", "cancelled", zh_words=("到账",))
    text = f"退款说明：{quote(rule, zh)}" if zh else f"About the refund: {quote(rule, zh)}"
    confirm = ("我现在就为您处理，请确认是否取消整个订单？" if zh else
               f"Shall I go ahead with the whole order {o.order_id}? Please confirm and I'll take care of it.")
    return [first, draft(text, cite_policy(rule), "policy"), draft(confirm, order_cites(o, "order_id"), "follow_up")]


def complaint(f: ReplyFacts) -> list[Suggestion]:
    o, zh = f.order, f.zh
    if o is None:
        first = draft(f.open("非常抱歉给您带来不好的体验。请告诉我订单号，我马上处理。" if zh else
                             "I'm very sorry about this experience. Could you share the order number so I can fix it "
                             "right away?"), [], "follow_up")
        return [first, handoff(f), damage_note(f)]
    damage = f.rule("Returns", "damaged", zh_words=("破损",))
    days = f.days_since_update(o)
    limit = re.search(r"(\d+)\s*(?:days|天)", damage.text) if damage else None
    inside = limit is not None and o.status == "delivered" and days <= int(limit.group(1))
    if zh:
        text = (f"非常抱歉！订单{o.order_id}于{o.updated_at[:10]}{f.status(o)}，距今{days}天。{quote(damage, True)}"
                + ("您仍在可申请期限内，我们会为您换货或退款。" if inside else ""))
    else:
        text = (f"I'm truly sorry. Order {o.order_id} was {o.status} on {o.updated_at[:10]}, "
                f"{plural(days, 'day')} ago. {quote(damage, False)}"
                + (" You're within that window, so we'll replace or refund it." if inside else ""))
    first = draft(f.open(text), order_cites(o, "status", "updated_at") + cite_policy(damage), "answer")
    warranty = f.rule("Warranty", "defects", zh_words=("保修",))
    text = f"如果是质量问题：{quote(warranty, True)}" if zh else f"If it is a defect: {quote(warranty, False)}"
    return [first, draft(text, cite_policy(warranty), "policy"), handoff(f)]
