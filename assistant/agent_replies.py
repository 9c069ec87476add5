"""Reply drafts for the agent console, one builder per reply family (tracking, refund, cancel, complaint,
delivery, product), each returning three suggestions built from facts only: the customer's own order
(status, carrier, tracking number, ETA, dates), the product's catalogue record and the store policy,
quoted sentence by sentence. Every suggestion lists what it cites ("order O10574.tracking_number",
"policy §Refunds").

The drafts follow the conversation: an upset customer's first suggestion opens with an apology; an ETA
that has already passed is said to be late, never given as an estimate; order statuses are written in
the customer's language. Knows orders, products and the policy; knows nothing about models or the UI.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Callable

from assistant.agent_policy import PolicyLine, find_policy
from assistant.render import money
from retrieval.schema import Order, Product
from retrieval.store import Store

APOLOGY = re.compile(r"\bsorry\b|\bapologi[sz]e|抱歉|对不起", re.I)
STATUS_ZH = {"processing": "备货中", "shipped": "已发货", "delivered": "已签收", "returned": "已退货",
             "cancelled": "已取消", "pending": "待处理"}
OPEN_STATUSES = ("shipped", "processing")  # an order in these can still be late


@dataclass
class Suggestion:
    text: str
    cites: list[str]
    kind: str            # answer | policy | follow_up
    topic: str = ""      # the reply family it answers: tracking, refund, cancel, complaint, delivery, product
    phrased: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReplyFacts:
    """What a draft may use: the conversation, its customer's language and mood, their order and product."""

    store: Store
    conversation: dict[str, Any]
    lang: str
    name: str
    order: Order | None
    product: Product | None
    policy: list[PolicyLine]
    text: str
    upset: bool = False

    @property
    def zh(self) -> bool:
        return self.lang == "zh"

    def rule(self, section: str, *en_words: str, zh_words: tuple[str, ...] = ()) -> PolicyLine | None:
        return find_policy(self.policy, section, self.lang, *(zh_words if self.zh else en_words)) or \
            find_policy(self.policy, section, "en", *en_words)

    def greet(self) -> str:
        if self.zh:
            return f"{self.name}您好，" if self.name else "您好，"
        return f"Hi {self.name.split()[0]}, " if self.name else "Hello, "

    def open(self, text: str) -> str:
        """The greeting, then (for an upset customer, unless the text already apologises) an apology."""
        if self.upset and not APOLOGY.search(text):
            text = "非常抱歉给您带来不便。" + text if self.zh else "I'm sorry about the trouble. " + text[:1].upper() + text[1:]
        return self.greet() + text

    def status(self, order: Order) -> str:
        return STATUS_ZH.get(order.status, order.status) if self.zh else order.status

    def today(self) -> str:
        """The store's clock: the later of the conversation's start and the store's last order update
        (a demo store lives at its own date, so the machine's clock would make every order look late)."""
        latest = max((o.updated_at for o in self.store.orders.values() if o.updated_at), default="")
        return max(self.conversation.get("created_at") or "", latest)[:10] or datetime.now().date().isoformat()

    def late(self, order: Order) -> bool:
        return bool(order.estimated_delivery) and order.estimated_delivery < self.today() \
            and order.status in OPEN_STATUSES

    def days_since_update(self, order: Order) -> int:
        return (datetime.fromisoformat(self.today()) - datetime.fromisoformat(order.updated_at[:10])).days


def cite_policy(rule: PolicyLine | None) -> list[str]:
    return [f"policy §{rule.section}"] if rule else []


def quote(rule: PolicyLine | None, zh: bool) -> str:
    if rule is None:
        return ""
    return f"按照我们的政策：{rule.text}" if zh else f'Our policy: "{rule.text}"'


def draft(text: str, cites: list[str], kind: str) -> Suggestion:
    return Suggestion(" ".join(text.split()), list(dict.fromkeys(cites)), kind)


def order_cites(order: Order, *fields: str) -> list[str]:
    return [f"order {order.order_id}.{f}" for f in fields]


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


# ---- tracking -------------------------------------------------------------------------------------

def _late(f: ReplyFacts, o: Order) -> Suggestion:
    """An order past its ETA: say it is late, with the apology first; never the passed date as an estimate."""
    shipped = o.status == "shipped" and o.carrier
    if f.zh:
        where = f"已由{o.carrier}发出（物流单号{o.tracking_number}）" if shipped else "还在备货中，尚未发货"
        text = (f"非常抱歉，您的订单{o.order_id}{where}，原定{o.estimated_delivery}送达，已经晚了。"
                f"我会马上联系{o.carrier if shipped else '仓库'}核实，并在这里给您答复。")
    else:
        where = (f"shipped with {o.carrier} (tracking number {o.tracking_number})" if shipped else
                 f"has not shipped yet (status: {o.status})")
        text = (f"I'm sorry: your order {o.order_id} {where} and was due by {o.estimated_delivery}, so it is late. "
                f"I'm checking with {o.carrier if shipped else 'our warehouse'} right now and will update you here.")
    fields = ("status", "carrier", "tracking_number", "estimated_delivery") if shipped else \
        ("status", "estimated_delivery")
    return draft(f.open(text), order_cites(o, *fields), "answer")


def _where_is_it(f: ReplyFacts, o: Order) -> Suggestion:
    zh = f.zh
    if o.status == "shipped":
        text = (f"您的订单{o.order_id}已由{o.carrier}发出，物流单号{o.tracking_number}，预计{o.estimated_delivery}送达。"
                if zh else f"your order {o.order_id} shipped with {o.carrier}, tracking number {o.tracking_number}, "
                f"and is estimated to arrive by {o.estimated_delivery}.")
        return draft(f.open(text), order_cites(o, "status", "carrier", "tracking_number", "estimated_delivery"),
                     "answer")
    if o.status == "processing":
        rule = f.rule("Shipping", "ship the same", zh_words=("当天发货",))
        text = (f"您的订单{o.order_id}还在备货中，尚未发货，预计{o.estimated_delivery}送达。{quote(rule, zh)}" if zh
                else f"your order {o.order_id} is still being prepared (status: processing) and has not shipped "
                f"yet; it is estimated to arrive by {o.estimated_delivery}. {quote(rule, zh)}")
        return draft(f.open(text), order_cites(o, "status", "estimated_delivery") + cite_policy(rule), "answer")
    text = (f"订单{o.order_id}当前状态：{f.status(o)}（更新于{o.updated_at[:10]}）。" if zh else
            f"order {o.order_id} is {o.status} (last update {o.updated_at[:10]}).")
    return draft(f.open(text), order_cites(o, "status", "updated_at"), "answer")


def tracking(f: ReplyFacts) -> list[Suggestion]:
    o = f.order
    if o is None:
        return ask_order(f)
    first = _late(f, o) if f.late(o) else _where_is_it(f, o)
    rule = f.rule("Shipping", "tracking number", zh_words=("物流单号",))
    text = (f"物流信息有时要一两天才会更新。{quote(rule, True)}" if f.zh else
            f"Carrier tracking can take a day or two to update. {quote(rule, False)}")
    return [first, draft(text, cite_policy(rule), "policy"), damage_note(f)]


def damage_note(f: ReplyFacts) -> Suggestion:
    rule = f.rule("Returns", "damaged", zh_words=("破损",))
    text = (f"如果收到的商品有破损或问题，请告诉我们。{quote(rule, True)}" if f.zh else
            f"If anything arrives damaged or wrong, just tell us here. {quote(rule, False)}")
    return draft(text, cite_policy(rule), "policy")


# ---- questions without an order -------------------------------------------------------------------

def delivery(f: ReplyFacts) -> list[Suggestion]:
    """Shipping rules, the ones the customer asked about first."""
    zh, words = f.zh, f.text.lower()
    topics = [("express", ("express", "before"), ("加急",)), ("free on orders", ("free", "fee", "under"), ("运费", "免运费")),
              ("cash on delivery", ("cash", "cod"), ("货到付款",)), ("2 pm", ("when", "ship"), ("发货",))]
    rules: list[PolicyLine] = []
    for en_key, en_words, zh_words in topics:
        rule = f.rule("Shipping", en_key, zh_words=zh_words if zh else ())
        if rule is not None and rule not in rules:
            asked = any(w in (f.text if zh else words) for w in (zh_words if zh else en_words))
            rules.insert(0, rule) if asked else rules.append(rule)
    first = draft(f.open(" ".join(r.text for r in rules[:2])), [c for r in rules[:2] for c in cite_policy(r)],
                  "answer")
    second = draft(" ".join(r.text for r in rules[2:4]) or quote(f.rule("Shipping"), zh),
                   [c for r in rules[2:4] for c in cite_policy(r)] or ["policy §Shipping"], "policy")
    third = draft("请告诉我您的收货城市和想买的商品，我帮您确认配送方式和到货时间。" if zh else
                  "If you tell me your delivery city and the items, I'll confirm the options and timing for your "
                  "order.", [], "follow_up")
    return [first, second, third]


_ATTRIBUTES = (("color", "colour", "颜色"), ("warranty_months", "warranty (months)", "保修月数"),
               ("waterproof", "waterproof", "防水"), ("water_resistance", "water resistance", "防水等级"),
               ("battery_hours", "battery (hours)", "续航小时"), ("battery_days", "battery (days)", "续航天数"))


def _attribute_facts(p: Product, zh: bool) -> tuple[list[str], list[str]]:
    facts, cites = [], []
    for key, en, zh_name in _ATTRIBUTES:
        if key in p.attributes:
            value = p.attributes[key]
            if isinstance(value, bool):
                value = ("是" if value else "否") if zh else ("yes" if value else "no")
            facts.append(f"{zh_name}：{value}" if zh else f"{en}: {value}")
            cites.append(f"product {p.product_id}.attributes.{key}")
    return facts, cites


def product_answer(f: ReplyFacts) -> list[Suggestion]:
    p, zh = f.product, f.zh
    if p is None:
        return ask_order(f)
    facts, cites = _attribute_facts(p, zh)
    price = money(p.price, p.currency)
    rating = ""
    if p.rating is not None:
        rating = (f"，评分{p.rating:g}/5（{p.rating_count}条评价）" if zh else
                  f", rated {p.rating:g}/5 from {plural(p.rating_count or 0, 'review')}")
    text = (f"{p.title}（{p.product_id}）售价{price}{rating}。" + "；".join(facts) if zh else
            f"the {p.title} ({p.product_id}) costs {price}{rating}. " + "; ".join(facts) + ("." if facts else ""))
    first = draft(f.open(text), [f"product {p.product_id}.price"] + ([f"product {p.product_id}.rating"] if rating
                                                                      else []) + cites, "answer")
    warranty = f.rule("Warranty", "at least", zh_words=("至少",))
    claims = f.rule("Warranty", "claims", zh_words=("进水",))
    second = draft(quote(warranty, zh) + (" " + claims.text if claims else ""), cite_policy(warranty), "policy")
    third = draft("还有其他想了解的吗？我可以帮您比较同类商品。" if zh else
                  "Anything else you'd like to know? I can compare it with similar products for you.", [], "follow_up")
    return [first, second, third]


def ask_order(f: ReplyFacts) -> list[Suggestion]:
    return [draft(f.open("请提供您的订单号，我马上帮您查询。" if f.zh else
                         "could you share your order number? I'll look it up right away."), [], "follow_up"),
            handoff(f), damage_note(f)]


def handoff(f: ReplyFacts) -> Suggestion:
    ref = f" {f.order.order_id}" if f.order else ""
    text = (f"给您带来不便非常抱歉。我已将此问题{('（订单' + ref.strip() + '）') if ref else ''}转给专人处理，我们会尽快在这里回复您。"
            if f.zh else f"I'm sorry for the trouble. I've passed this{(' (order' + ref + ')') if ref else ''} to a "
            f"specialist on our team, who will reply here as soon as possible.")
    return draft(text, order_cites(f.order, "order_id") if f.order else [], "follow_up")


Builder = Callable[[ReplyFacts], list[Suggestion]]


def builders() -> dict[str, Builder]:
    """Reply family -> its builder (the order-based ones live in assistant.agent_replies_orders)."""
    from assistant import agent_replies_orders as orders

    return {"tracking": tracking, "refund": orders.refund, "cancel": orders.cancel, "complaint": orders.complaint,
            "delivery": delivery, "product": product_answer}


REPLY_FAMILIES = ("tracking", "refund", "cancel", "complaint", "delivery", "product")
