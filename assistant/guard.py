"""Requests the assistant refuses before any tool runs, decided in code from the shopper's words.

Three kinds: another person's data (orders, cart, history, friends' purchases, addresses),
changing prices, discounts or policies, and attempts to read or override the instructions. Order
ids that are not the signed-in shopper's are refused the same way whether they exist or not, so
nothing leaks. Knows nothing about models; the refusal texts are fixed.

Retrieved shop data (descriptions, reviews, titles) is data, never instructions: `neutralise`
replaces every clause of a tool result that reads like an instruction to the assistant (role
markers, overrides, tool names, "tell the customer...", coupon codes, price changes, requests for
someone else's data) with a marker before any model or templated reply sees it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_OTHERS_DATA = re.compile(
    r"(?:someone else'?s?|somebody else'?s?|another (?:user|customer|person|shopper)'?s?|"
    r"other (?:users?|customers?|people|shoppers?)'?s? (?:orders?|carts?|purchases?|address(?:es)?|history|accounts?|data|details|"
    r"emails?|phone)|(?:every|all)(?: the)? (?:orders?|carts?|accounts?)(?: \w+){0,2} (?:in|on|of|at) (?:the|this|your) (?:store|shop|site)|"
    r"(?:every|each) (?:customer|user|shopper)'?s? (?:orders?|carts?|data|details|address(?:es)?)|"
    r"(?:use|switch to|log ?in (?:to|as)|sign in (?:to|as)|access|open) (?:the )?(?:account|profile|cart) of\b|"
    r"(?:my |his |her |their )?(?:friend|neighbou?r|wife|husband|colleague|brother|sister)'?s? (?:orders?|cart|purchases?|address|history|account)|"
    r"what (?:did|has|have) (?:my )?friends? (?:\w+ ){0,2}(?:buy|bought|order|ordered|purchase|purchased)|"
    r"(?:orders?|cart|purchases?|address|history|account) of (?:user|customer|another|someone|my friend)|"
    r"all (?:users|customers)'? ?(?:orders|data|emails|addresses)|list (?:all )?(?:users|customers)|"
    r"(?:user|customer|account|member)\s*(?:id\s*)?[#:]?\s*[\w-]+'s\s+(?:orders?|cart|purchases?|history|address|details|account))"
    r"|别人的|其他(?:用户|顾客|客户|人)的|他人的|朋友.{0,24}?(?:的订单|买了|买过|购买|的购物车|的地址)|(?:用户|顾客)\s*U\d+\s*的|所有用户",
    re.I)
_MANIPULATION = re.compile(
    r"(?:(?:set|change|update|lower|reduce|make|modify|edit)\s+(?:the\s+|its\s+|their\s+)?(?:price|prices|cost)|"
    r"price (?:to|=)\s*(?:₹|rs\.?)?\s*\d|give me (?:a |an )?(?:\d+\s*%|free|discount|special price)|"
    r"(?:apply|activate|create|enable|unlock) (?:a |an |the |my )?(?:[\w-]+ ){0,2}(?:discount|coupon|promo|voucher)|(?:\d+\s*%|100%) (?:off|discount) for me|"
    r"(?:change|update|modify|override|waive) (?:the |your )?(?:return|refund|shipping|store) (?:policy|policies|fee|rules?)|"
    r"(?:mark|set|change|update) (?:my |the |this )?order(?: [\w-]+)? (?:as |to )?(?:paid|delivered|refunded|cancelled|shipped)|"
    r"refund me without|for free\b)"
    r"|改价|修改价格|把价格(?:改|调)|价格改成|免费送我|给我打.{0,3}折|给我(?:优惠|折扣)|修改(?:退货|退款)?政策|(?:退货|退款|运费|配送|保修|店铺)政策(?:改|调整|换)成?|改成\s*\d+\s*(?:元|块|卢比)",
    re.I)
_INJECTION = re.compile(
    r"(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+)?(?:previous|prior|above|earlier|system)?\s*"
    r"(?:instructions|rules|prompts?|guidelines)|system prompt|your (?:instructions|rules|prompt)|developer mode|"
    r"jailbreak|you are now|act as (?:an? )?(?:admin|administrator|developer|root)|"
    r"admin (?:mode|access|override)|reveal (?:your|the) (?:prompt|instructions|rules)|"
    r"(?:repeat|print|show|output|recite|reproduce)(?: me)? (?:the |all )?(?:text|words|message|lines|everything) (?:above|before)|"
    r"(?:instructions|rules|guidelines|prompt) (?:(?:that )?you (?:were|have been|are) (?:given|told)|(?:were|have) you (?:been )?given|"
    r"(?:that )?you (?:got|received|follow))|"
    r"(?:what|which) (?:instructions|rules|guidelines) (?:were|have|did) you"
    r"|忽略(?:之前|以上|前面|所有)?的?(?:指令|指示|规则|提示)|系统提示|提示词|你的指令|(?:你|您)(?:收到|得到|接到|被设定)的(?:指令|指示|规则)|管理员(?:模式|权限)|开发者模式",
    re.I)
# a shopper claiming a role is refused; a reviewer saying "as a software developer" is just data
_ROLE_CLAIM = re.compile(r"(?:i am|i'm|im|this is)(?: \w+){0,3} (?:admin|administrator|store owner|owner of (?:this|the) store|"
                         r"(?:store|shop|site|your) (?:manager|staff|employee|developer)|staff member)\b|我是管理员|我是(?:店主|店长|客服|员工)",
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
    if _INJECTION.search(text) or _ROLE_CLAIM.search(text):
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


# ---- retrieved data ------------------------------------------------------------------------------
REMOVED = "[removed: instruction-like text]"
_DATA_INSTRUCTION = re.compile(
    # role markers and chat-template tokens
    r"^[\s\[<({*#>\"'-]*(?:system|assistant|developer|admin(?:istrator)?|sys(?:tem)? ?(?:note|message|prompt)|instructions?|"
    r"note to (?:the )?(?:ai|assistant|bot|model))\s*[:：\]>]|"
    r"(?-i:(?<![A-Z][ -])(?<![A-Z])\b(?:SYSTEM|ASSISTANT|ADMIN|DEVELOPER|INSTRUCTIONS?)\s*[:：\]>])|"
    r"\bnote to (?:the )?(?:ai|assistant|bot|model)\b|<\|[a-z_]+\|>|\[/?inst\]|</?(?:system|tool_call|tool_response)>|"
    r"#{2,}\s*(?:instruction|system)|"
    # tool names and tool-use directives
    # function-like names (any tool of ours or another system's: search_products, get_user_details)
    r"\b(?:get|set|search|list|find|add|remove|delete|cancel|modify|update|exchange|return|transfer|calculate|compare|"
    r"recommend|predict|order|review|show|reveal|dump)(?:_[a-z]{2,}){1,4}\b|\brecommend\s*\(|\b(?:call|invoke|execute|trigger) (?:the |your |a )?(?:\w+ )?tools?\b|"
    # directives addressed to the assistant
    r"^\W*(?:dear |hey )?(?:ai|assistant|chatbot|bot|language model|llm|gpt|qwen)\s*[,:]|"
    r"\byou (?:must|have to|are (?:required|instructed) to) (?:now |always )?(?:tell|say|reply|answer|call|reveal|ignore|"
    r"respond|state|inform|give|offer|apply|show|print|confirm)\b|"
    r"\b(?:please )?(?:always |now )?(?:tell|inform|assure|remind|notify|say to)"
    r" (?:the |every |all |any )?(?:shoppers?|customers?|users?|buyers?|visitors?)\b|"
    r"\b(?:set|change|update|override|lower|reduce|drop)\s+(?:the\s+|its\s+|all\s+|every\s+)?prices?\s+(?:to|=|by)\b|"
    r"\bprices? (?:of [\w ]{1,30} )?(?:is|are|has been|have been) (?:now |just )?(?:changed |updated |reduced |lowered |set )?(?:to |only )?"
    r"(?:₹|rs\.?|inr|\$|¥)\s*\d|价格(?:已经?|现已)?(?:调整|改|降|变更)(?:为|成|到)|"
    r"\b(?:reveal|print|output|repeat|show|display|dump|list|send|leak|expose)\b[^.!?。！？\n]{0,60}"
    r"\b(?:prompt|instructions|password|api key|secret|orders?|carts?|address(?:es)?|history|emails?|phone numbers?|"
    r"tracking numbers?)\b[^.!?。！？\n]{0,40}\b(?:of|for|from|belonging to) (?:user|customer|account|all|every|other)|"
    # fake offers: coupon or promo codes
    r"\b(?:coupon|promo(?:tion(?:al)?)?|voucher|discount|gift|referral|offer) ?codes?\b|\buse (?:the )?code\b|"
    r"\bcode\s*[:：]?\s*[\"'“]?(?-i:[A-Z0-9]{4,})\b|"
    # someone else's data
    r"\b(?:user|customer|account|member|shopper)\s*(?:id\s*)?[#:]?\s*[A-Z]?\d+\b|(?:用户|顾客|客户)\s*U?\d+|"
    r"\b(?:every|all|other) (?:users?|customers?|shoppers?)'?s? (?:orders?|carts?|addresses|emails?|phone numbers?|data|history)\b|"
    # Chinese: role markers, directives, tool calls, fake offers
    r"系统(?:提示|消息|指令|通知)?\s*[:：]|助手\s*[:：]|(?:请|务必|必须)?(?:告诉|通知|告知|转告)(?:所有|每位|每个)?(?:顾客|用户|买家|客户)|"
    r"调用.{0,12}(?:工具|函数|接口)|(?:显示|展示|透露|泄露|列出|输出).{0,12}(?:用户|顾客|客户|别人|他人).{0,8}(?:订单|购物车|地址|电话|记录)|"
    r"优惠码|折扣码|优惠券码|兑换码|暗号",
    re.I)
_CLAUSE = re.compile(r"[^.!?;。！？；\n]+[.!?;。！？；\n]*")


def strip_instructions(text: str) -> str:
    """`text` with every clause that reads like an instruction (or a fake offer) replaced by REMOVED."""
    if not text or not isinstance(text, str):
        return text
    checks = (_DATA_INSTRUCTION, _INJECTION)
    out: list[str] = []
    clauses = _CLAUSE.findall(text)
    if not any(rx.search(c.strip()) for c in clauses for rx in checks):
        return text
    for clause in clauses:
        if not any(rx.search(clause.strip()) for rx in checks):
            out.append(clause.strip())
        elif not out or out[-1] != REMOVED:
            out.append(REMOVED)
    return " ".join(out)


_ID_KEYS = {"product_id", "order_id", "review_id", "tracking_number", "image_url", "currency", "status"}


def neutralise(value: Any, key: str = "") -> Any:
    """A tool result with instruction-like clauses removed from every free-text string in it."""
    if isinstance(value, str):
        return value if key in _ID_KEYS else strip_instructions(value)
    if isinstance(value, dict):
        return {k: neutralise(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [neutralise(v, key) for v in value]
    return value
