"""Replies built from tool results: what the shopper reads when no model phrases the answer (the default with small
models), and the fallback whenever a model's answer is dropped.

Every sentence says only what a tool returned or the store's records hold, in the shopper's language (English,
Chinese; Hinglish gets English), with statuses and units translated. Search results are presented as matches only
when search flagged them relevant; "nothing fits" is said plainly. A question about a feature is answered from
the product text ("its description mentions ...") or with "the product details don't mention it", never with a
guess. Knows nothing about models, sessions beyond the cart, or how tools were chosen.
"""
from __future__ import annotations

import re
from typing import Any

from assistant.render import display_title, money, short

STATUS_ZH = {"processing": "处理中", "pending": "待处理", "shipped": "已发货", "in transit": "运输中",
             "delivered": "已送达", "cancelled": "已取消", "returned": "已退货", "refunded": "已退款"}
REFUSALS = {
    "privacy": {"en": "Sorry, I can't share or guess anything about another person: their orders, cart, address, "
                      "identity or reviews' authors. I can only help with your own account.",
                "zh": "抱歉，我不能透露或猜测任何关于他人的信息（订单、购物车、地址、身份或评论作者），只能帮您处理您自己的账户。"},
    "order_not_yours": {"en": "I can't find that order among your orders, so I can't share anything about it. "
                              "Please check the order number shown in your account.",
                        "zh": "在您的订单中找不到这个订单号，因此无法提供相关信息。请核对您账户中的订单号。"},
    "price_change": {"en": "Sorry, I can't change prices, give discounts or change store policies: prices and terms "
                           "are set by the store.",
                     "zh": "抱歉，我无法修改价格、提供折扣或更改店铺政策，这些由店铺统一设定。"},
    "override": {"en": "Sorry, I can't do that: I stay this store's shopping assistant and keep its rules. I can help you "
                       "find and compare products, read reviews, fill your cart and check your orders.",
                 "zh": "抱歉，我不能这样做：我始终是本店的购物助手并遵守店铺规则。我可以帮您查找和比较商品、了解评价、管理购物车和查询订单。"},
    "prompt": {"en": "Sorry, I can't share my instructions. I can help you find and compare products, read reviews, fill "
                     "your cart and check your orders.",
               "zh": "抱歉，我不能透露我的指令。我可以帮您查找和比较商品、了解评价、管理购物车和查询订单。"},
    "bad_quantity": {"en": "Sorry, I can't add {amount}: a cart takes whole quantities from 1 to {max} of a product. "
                           "Your cart is unchanged.",
                     "zh": "抱歉，无法添加{amount}：每件商品的数量须为1到{max}之间的整数。您的购物车没有变化。"},
}
ASK = {
    "order_id": {"en": "Which order? Please give me the order number{hint}.",
                 "zh": "请问是哪个订单？请提供订单号{hint}。"},
    "product": {"en": "Which product do you mean? Tell me its name or its number in the list.",
                "zh": "请问您指的是哪件商品？请告诉我商品名称或它在列表中的序号。"},
    "products": {"en": "Which products should I compare? Name two or more, or search first and ask me to compare the "
                       "first two.",
                 "zh": "要比较哪些商品？请说出两个或以上的商品名称，或先搜索，再让我比较前两个。"},
    "need": {"en": "What are you looking for? For example the kind of product and your budget.",
             "zh": "您想找什么商品？比如商品类型和预算。"},
    "currency_assumed": {"en": "Prices here are in {store}, so I read your amount as {amounts}.",
                         "zh": "本店价格以{store}计，已按{amounts}为您查找。"},
    "currency": {"en": "Prices here are in {store}, and I have no exchange rate for {foreign}, so I can't tell what "
                       "{amounts} is in {store}. What is your budget in {store}?",
                 "zh": "本店价格以{store}计，我没有{foreign}的汇率，无法换算{amounts}。请问您的预算是多少{store}？"},
}
CHITCHAT = {"en": "Hello! I can help you find and compare products, read reviews, fill your cart and check your orders.",
            "zh": "您好！我可以帮您查找和比较商品、了解评价、管理购物车和查询订单。"}


def zh(lang: str) -> bool:
    return lang == "zh"


def refusal(reason: str, lang: str, max_quantity: int = 20, amount: str = "") -> str:
    amount = amount or ("这个数量" if zh(lang) else "that amount")
    return REFUSALS[reason]["zh" if zh(lang) else "en"].format(max=max_quantity, amount=amount)


def ask(what: str, lang: str, **values: Any) -> str:
    return ASK[what]["zh" if zh(lang) else "en"].format(**values)


def status_text(status: str, lang: str) -> str:
    return STATUS_ZH.get(status.lower(), status) if zh(lang) else status


def product_line(p: dict[str, Any], lang: str, n: int | None = None) -> str:
    head = f"{n}. " if n else ""
    rating = ""
    if p.get("rating") is not None:
        rating = f"，{p['rating']:g}星" if zh(lang) else f", {p['rating']:g}★"
    price = money(p.get("price"), p.get("currency", "INR"))
    return f"{head}{short(display_title(p, lang), 70)} — {price}{rating}"


def search_reply(result: dict[str, Any], lang: str, recommended: bool = False) -> str:
    products = result.get("products", [])
    if not products:
        return ("抱歉，我们目前没有符合要求的商品。" if zh(lang) else
                "Sorry, we don't carry anything that matches that" + (" within those limits." if result.get("filters")
                                                                      else "."))
    n = len(products)
    if zh(lang):
        head = f"为您{'推荐' if recommended else '找到'}{n}件商品："
    else:
        head = f"Here {'are' if n > 1 else 'is'} {n} {'recommendation' if recommended else 'match'}{'es' if n > 1 and not recommended else 's' if n > 1 else ''}:"
    order = _SORT_NAMES.get(result.get("sort", "relevance"))
    if order:
        head = head[:-1] + (f"（{order[1]}）：" if zh(lang) else f", {order[0]}:")
    lines = [product_line(p, lang, i) for i, p in enumerate(products[:5], 1)]
    return head + "\n" + "\n".join(lines)


_SORT_NAMES = {"price_low": ("cheapest first", "价格从低到高"), "price_high": ("priciest first", "价格从高到低"),
               "rating": ("best rated first", "评分从高到低")}


def details_reply(r: dict[str, Any], lang: str, question: str = "") -> str:
    base = product_line(r, lang)
    if r.get("rating_count"):
        base += f"（{r['rating_count']:,}条评分）" if zh(lang) else f" ({r['rating_count']:,} ratings)"
    answer = feature_answer(r, question, lang)
    return base + ("。" if zh(lang) else ".") + (" " + answer if answer else "")


_FEATURE_Q = re.compile(r"\b(?:have|has|support|supports|come with|include|includes|with)\s+(?:a |an |the |any )?"
                        r"([a-z0-9][a-z0-9 -]{2,30}?)(?:\?|$| or | and |,)|有没有(.{1,8}?)(?:功能|吗|？|$)|支持(.{1,8}?)吗", re.I)
_STOP = {"it", "this", "that", "good", "any", "the", "a", "an", "warranty"}


def feature_answer(r: dict[str, Any], question: str, lang: str) -> str:
    """Whether the product text mentions the feature asked about, quoted; never a guess about what it lacks."""
    m = _FEATURE_Q.search(question or "")
    if not m:
        return ""
    feature = next(g for g in m.groups() if g).strip()
    words = [w for w in re.findall(r"[a-z0-9]+|[\u4e00-\u9fff]+", feature.lower()) if w not in _STOP and len(w) > 1]
    if not words:
        return ""
    text = f"{r.get('title', '')}. {r.get('description', '')}. " + " ".join(f"{k}: {v}" for k, v in
                                                                        (r.get("attributes") or {}).items())
    for sentence in re.split(r"(?<=[.!?。；;|])\s*", text):
        if all(w in sentence.lower() for w in words):
            quote = short(sentence.strip(), 140)
            return (f"商品信息中提到：“{quote}”" if zh(lang) else f'Its description mentions: "{quote}"')
    return ("商品信息中没有提到“{}”。".format(feature) if zh(lang) else
            f"The product details don't mention {feature}.")


def compare_reply(r: dict[str, Any], lang: str) -> str:
    s, by_id = r.get("summary", {}), {p["product_id"]: p for p in r.get("products", [])}
    lines = [product_line(p, lang, i) for i, p in enumerate(r.get("products", []), 1)]
    out = []
    if "cheapest" in s:
        c = by_id[s["cheapest"]]
        out.append(f"最便宜的是 {short(display_title(c, lang), 40)}（{money(c['price'])}）。" if zh(lang)
                   else f"The cheapest is {short(display_title(c, lang), 60)} at {money(c['price'])}.")
    if "best_rated" in s:
        b = by_id[s["best_rated"]]
        out.append(f"评分最高的是 {short(display_title(b, lang), 40)}（{b['rating']:g}星）。" if zh(lang)
                   else f"The best rated is {short(display_title(b, lang), 60)} ({b['rating']:g} stars).")
    return "\n".join(lines) + ("\n" + " ".join(out) if out else "")


def reviews_reply(r: dict[str, Any], lang: str) -> str:
    name = short(display_title(r.get("product", {}), lang), 50)
    n, pos, neg = r.get("n_reviews", 0), r.get("positive", 0), r.get("negative", 0)
    if not n:
        return f"{name} 还没有评价。" if zh(lang) else f"{name} has no reviews yet."
    head = (f"{name}：{n}条评价，{pos}条正面，{neg}条负面。" if zh(lang)
            else f"{name}: {n} review{'s' if n != 1 else ''}, {pos} positive and {neg} negative.")
    parts = [head]
    aspect = r.get("aspect")
    for a in r.get("aspects", [])[:3 if not aspect else 1]:
        ev = (a.get("evidence") or [{}])[0].get("quote")
        label = a["name"]
        if zh(lang):
            parts.append(f"{label}：{a['positive']}条好评、{a['negative']}条差评" + (f"，例如“{ev}”。" if ev else "。"))
        else:
            parts.append(f"On {label}: {a['positive']} positive, {a['negative']} negative" + (f', e.g. "{ev}".' if ev else "."))
    quotes = r.get("review_quotes") or []
    if quotes and len(parts) == 1:
        q = quotes[0]["quote"][:200]
        parts.append(f"一位买家写道：“{q}”" if zh(lang) else f'One reviewer wrote: "{q}"')
    return " ".join(parts)


def cart_reply(lines: list[tuple[str, int, float | None]], total: float, lang: str) -> str:
    """`lines`: (title, quantity, unit price); `total` from assistant.tools.cart_total."""
    if not lines:
        return "您的购物车是空的。" if zh(lang) else "Your cart is empty."
    items = "; ".join(f"{q} x {short(t, 50)} ({money(p)})" for t, q, p in lines)
    return (f"购物车：{items}；合计{money(total)}。" if zh(lang) else f"Your cart: {items}; total {money(total)}.")


def added_reply(r: dict[str, Any], lang: str) -> str:
    return (f"已将{r['quantity']}件 {short(display_title(r['added'], lang), 40)} 加入购物车，购物车合计{money(r['cart_total'])}。" if zh(lang)
            else f"Added {r['quantity']} x {short(display_title(r['added'], lang), 60)} to your cart; cart total {money(r['cart_total'])}.")


def order_reply(r: dict[str, Any], lang: str) -> str:
    eta, carrier, tracking = r.get("estimated_delivery") or "", r.get("carrier") or "", r.get("tracking_number") or ""
    status = status_text(r["status"], lang)
    if zh(lang):
        return (f"订单{r['order_id']}的状态：{status}" + (f"，承运商{carrier}" if carrier else "")
                + (f"，运单号{tracking}" if tracking else "，还没有运单号") + (f"，预计送达{eta}" if eta else "") + "。")
    return (f"Order {r['order_id']} is {status}" + (f", carrier {carrier}" if carrier else "")
            + (f" (tracking number {tracking})" if tracking else ", no tracking number yet")
            + (f", estimated delivery {eta}" if eta else "") + ".")


def service_unavailable(lang: str) -> str:
    """The service agent failed: nothing was changed, and a person is the way on."""
    return ("抱歉，售后服务暂时无法处理这个请求，您的订单没有任何改动。请稍后再试，或要求转人工客服。" if zh(lang)
            else "Sorry, I can't handle that order request right now, and nothing on your orders was changed. "
                 "Please try again in a moment, or ask for a human agent.")


def tool_error(error: str, lang: str) -> str:
    return ("抱歉，这一步没有完成：" if zh(lang) else "Sorry, I couldn't complete that: ") + error


def from_calls(calls: list[dict[str, Any]], lang: str, question: str = "") -> str:
    """The templated reply for a turn's tool results."""
    parts = []
    for c in calls:
        name, r = c["name"], c.get("result") or {}
        if c.get("error"):
            parts.append(tool_error(c["error"], lang))
        elif name == "search_products":
            parts.append(search_reply(r, lang))
        elif name == "recommend":
            parts.append(search_reply(r, lang, recommended=True))
        elif name == "get_product":
            parts.append(details_reply(r, lang, question))
        elif name == "compare_products":
            parts.append(compare_reply(r, lang))
        elif name == "review_sentiment_summary":
            parts.append(reviews_reply(r, lang))
        elif name == "add_to_cart":
            parts.append(added_reply(r, lang))
        elif name == "order_status":
            parts.append(order_reply(r, lang))
        elif name == "predict_order_intent" and r.get("probability") is not None:
            p = r["probability"]
            parts.append(f"购买可能性约为{p:.0%}。" if zh(lang) else f"Purchase likelihood is about {p:.0%}.")
    return "\n".join(p for p in parts if p) or (CHITCHAT["zh" if zh(lang) else "en"])
