"""Requests the assistant refuses before any tool runs, decided in code from the shopper's words.

Three kinds: another person's data (orders, cart, history, friends' purchases, addresses),
changing prices, discounts or policies, and attempts to read or override the instructions. Order
ids that are not the signed-in shopper's are refused the same way whether they exist or not, so
nothing leaks. Knows nothing about models; the refusal texts are fixed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_OTHERS_DATA = re.compile(
    r"(?:someone else'?s?|somebody else'?s?|another (?:user|customer|person|shopper)'?s?|other (?:users?|customers?|people)'?s?|"
    r"(?:my |his |her |their )?(?:friend|neighbou?r|wife|husband|colleague|brother|sister)'?s? (?:orders?|cart|purchases?|address|history|account)|"
    r"what (?:did|has|have) (?:my )?friends? (?:\w+ ){0,2}(?:buy|bought|order|ordered|purchase|purchased)|"
    r"(?:orders?|cart|purchases?|address|history|account) of (?:user|customer|another|someone|my friend)|"
    r"all (?:users|customers)'? ?(?:orders|data|emails|addresses)|list (?:all )?(?:users|customers)|"
    r"(?:user|customer|account|member)\s*(?:id\s*)?[#:]?\s*[\w-]+'s\s+(?:orders?|cart|purchases?|history|address|details|account))"
    r"|别人的|其他(?:用户|顾客|客户|人)的|他人的|朋友(?:的订单|买了什么|的购物车)|(?:用户|顾客)\s*U\d+\s*的|所有用户",
    re.I)
_MANIPULATION = re.compile(
    r"(?:(?:set|change|update|lower|reduce|make|modify|edit)\s+(?:the\s+|its\s+|their\s+)?(?:price|prices|cost)|"
    r"price (?:to|=)\s*(?:₹|rs\.?)?\s*\d|give me (?:a |an )?(?:\d+\s*%|free|discount|special price)|"
    r"(?:apply|activate|create) (?:a |an |the )?(?:discount|coupon|promo|voucher)|(?:\d+\s*%|100%) (?:off|discount) for me|"
    r"(?:change|update|modify|override|waive) (?:the |your )?(?:return|refund|shipping|store) (?:policy|policies|fee|rules?)|"
    r"(?:mark|set|change|update) (?:my |the |this )?order(?: [\w-]+)? (?:as |to )?(?:paid|delivered|refunded|cancelled|shipped)|"
    r"refund me without|for free\b)"
    r"|改价|修改价格|把价格(?:改|调)|价格改成|免费送我|给我打.{0,3}折|给我(?:优惠|折扣)|修改(?:退货|退款)?政策|改成\s*\d+\s*(?:元|块|卢比)",
    re.I)
_INJECTION = re.compile(
    r"(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+)?(?:previous|prior|above|earlier|system)?\s*"
    r"(?:instructions|rules|prompts?|guidelines)|system prompt|your (?:instructions|rules|prompt)|developer mode|"
    r"jailbreak|you are now|act as (?:an? )?(?:admin|administrator|developer|root)|"
    r"(?:i am|i'm|im|this is)(?: \w+){0,3} (?:admin|administrator|developer|store owner|manager|staff|employee)\b|"
    r"admin (?:mode|access|override)|reveal (?:your|the) (?:prompt|instructions|rules)"
    r"|忽略(?:之前|以上|前面|所有)?的?(?:指令|指示|规则|提示)|系统提示|提示词|你的指令|管理员(?:模式|权限)|我是管理员|开发者模式",
    re.I)
_USER_ID = re.compile(r"(?<![A-Za-z0-9])U\d+(?![0-9])")

REFUSALS = {
    "privacy": {"en": "Sorry, I can't share anyone else's orders, cart or account details. I can only help with your own.",
                "zh": "抱歉，我不能透露其他人的订单、购物车或账户信息，只能帮您查询您自己的。"},
    "order_not_yours": {"en": "I can't find that order among your orders, so I can't share anything about it. "
                              "Please check the order number shown in your account.",
                        "zh": "在您的订单中找不到这个订单号，因此无法提供相关信息。请核对您账户中的订单号。"},
    "manipulation": {"en": "Sorry, I can't change prices, discounts or store policies. Prices and terms are set by the store.",
                     "zh": "抱歉，我无法修改价格、折扣或店铺政策，这些由店铺统一设定。"},
    "injection": {"en": "Sorry, I can't do that. I'm here to help you shop: finding products, comparing them, reviews, your cart and your orders.",
                  "zh": "抱歉，我不能这样做。我可以帮您查找和比较商品、了解评价、管理购物车和查询您的订单。"},
}


@dataclass
class Refusal:
    reason: str
    detail: str

    def text(self, lang: str) -> str:
        return REFUSALS[self.reason]["zh" if lang == "zh" else "en"]


def check(text: str, user_id: str | None, owned_orders: set[str], order_ids: list[str]) -> Refusal | None:
    """A refusal when the request must not be served, else None."""
    if _INJECTION.search(text):
        return Refusal("injection", "instruction override or prompt extraction")
    if _MANIPULATION.search(text):
        return Refusal("manipulation", "price, discount or policy change")
    others = [u for u in _USER_ID.findall(text) if u != user_id]
    if others or _OTHERS_DATA.search(text):
        return Refusal("privacy", f"other user's data {others}" if others else "other person's data")
    foreign = [o for o in order_ids if o not in owned_orders]
    if foreign:
        return Refusal("order_not_yours", f"order ids not owned by the session user: {foreign}")
    return None
