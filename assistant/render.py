"""Text built from tool results: the compact FACTS block the model reads, and templated replies.

Templated replies are the answer when no model phrasing is available (backend down or slow, or a
grounding repair): they say only what the tool results hold, in English or Chinese. Knows nothing
about models or sessions.
"""
from __future__ import annotations

import re
from typing import Any


def short(title: str, limit: int) -> str:
    """A title cut after a whole word and marked "…" (assistant.titles), never ending on a joining word."""
    from assistant.titles import ELLIPSIS, clip

    cut = clip(title, limit)
    if not cut.endswith(ELLIPSIS):
        return cut
    head = re.sub(r"(?:\s+(?:with|for|and|of|in|on|to|the|a|an|by|upto|up))+$", "", cut[:-1], flags=re.I)
    return (head or cut[:-1]) + ELLIPSIS


def display_title(card: dict[str, Any], lang: str) -> str:
    """The product's title in the shopper's language where the product has one, else its own."""
    return (card.get("titles") or {}).get(lang) or card.get("title", "")


def money(value: float | None, currency: str = "INR") -> str:
    if value is None:
        return "?"
    symbol = {"INR": "₹", "USD": "$", "CNY": "¥", "EUR": "€"}.get(currency, currency + " ")
    return f"{symbol}{value:,.0f}" if float(value).is_integer() else f"{symbol}{value:,.2f}"


def product_line(card: dict[str, Any], n: int | None = None) -> str:
    bits = [f"[{card['product_id']}] {short(card['title'], 90)}", money(card.get("price"), card.get("currency", "INR"))]
    if card.get("list_price") and card.get("price") and card["list_price"] > card["price"]:
        bits[-1] += f" (list {money(card['list_price'], card.get('currency', 'INR'))}, {card.get('discount_pct', 0)}% off)"
    if card.get("rating") is not None:
        bits.append(f"{card['rating']:g}★" + (f" ({card['rating_count']:,} ratings)" if card.get("rating_count") else ""))
    if card.get("reason"):
        bits.append(f"why: {card['reason']}")
    return (f"{n}. " if n else "- ") + " | ".join(bits)


def facts(tool_calls: list[dict[str, Any]], max_products: int = 10) -> str:
    """One compact block for all tool calls of a turn (what the answer model sees)."""
    return "\n".join(_fact(c, max_products) for c in tool_calls) or "(no tool was called)"


def _fact(call: dict[str, Any], max_products: int = 10) -> str:
    name, args, result = call["name"], call.get("arguments", {}), call.get("result")
    head = f"{name}({', '.join(f'{k}={v!r}' for k, v in args.items())})"
    if call.get("error"):
        return f"{head} -> ERROR: {call['error']}"
    if name in ("search_products", "recommend"):
        prods = result.get("products", [])[:max_products]
        if not prods:
            near = result.get("closest_non_matches") or []
            return f"{head} -> NO MATCHING PRODUCTS" + (f" (nearest, NOT matches: {'; '.join(near)})" if near else "")
        return f"{head} -> {len(prods)} products:\n" + "\n".join(product_line(p, i) for i, p in enumerate(prods, 1))
    if name == "get_product":
        attrs = ", ".join(f"{k}: {v}" for k, v in list(result.get("attributes", {}).items())[:8])
        return f"{head} ->\n{product_line(result)}\n  {result.get('description', '')[:300]}" + (f"\n  {attrs}" if attrs else "")
    if name == "compare_products":
        s = result.get("summary", {})
        lines = [product_line(p, i) for i, p in enumerate(result["products"], 1)]
        extra = []
        if "cheapest" in s:
            extra.append(f"cheapest: {s['cheapest']} (price difference {money(s['price_difference'])})")
        if "best_rated" in s:
            extra.append(f"best rated: {s['best_rated']}")
        return f"{head} ->\n" + "\n".join(lines) + ("\n" + "; ".join(extra) if extra else "")
    if name == "review_sentiment_summary":
        return f"{head} ->\n{review_facts(result)}"
    if name == "add_to_cart":
        return (f"{head} -> added {result['quantity']} x {short(result['added']['title'], 80)}; cart now "
                f"{sum(i['quantity'] for i in result['cart'])} items, total {money(result['cart_total'])}")
    if name == "order_status":
        items = ", ".join(f"{i['quantity']} x {short(i['title'], 50)}" for i in result.get("items", []))
        return (f"{head} -> order {result['order_id']}: {result['status']}; carrier {result.get('carrier') or '-'}, "
                + (f"tracking {result['tracking_number']}" if result.get("tracking_number") else "no tracking number yet")
                + f", estimated delivery {result.get('estimated_delivery') or '-'}; items: {items}")
    if name == "predict_order_intent":
        return f"{head} -> probability {result.get('probability')}; factors: {result.get('factors')}"
    return f"{head} -> {result}"


def review_facts(r: dict[str, Any]) -> str:
    lines = [f"{r.get('n_reviews', 0)} reviews: {r.get('positive', 0)} positive, {r.get('negative', 0)} negative, "
             f"{r.get('neutral', 0)} neutral"]
    for a in r.get("aspects", [])[:6]:
        quotes = "; ".join(f'"{e["quote"]}"' for e in a.get("evidence", [])[:2])
        lines.append(f"  {a['name']}: {a['positive']} positive, {a['negative']} negative. {quotes}")
    if r.get("summary"):
        lines.append(f"  summary: {r['summary']}")
    for q in r.get("review_quotes", []):
        lines.append(f'  review {q["review_id"]}: "{q["quote"]}"')
    return "\n".join(lines)


# ---- templated replies -----------------------------------------------------------------------

def templated_reply(tool_calls: list[dict[str, Any]], lang: str) -> str:
    parts = [p for p in (_templated(c, lang) for c in tool_calls) if p]
    if parts:
        return " ".join(parts)
    return "有什么可以帮您？" if lang == "zh" else "How can I help you with your shopping?"


def _templated(call: dict[str, Any], zh: str) -> str:
    zh = zh == "zh"
    name, r = call["name"], call.get("result") or {}
    if call.get("error"):
        return ("抱歉，这一步没有完成：" if zh else "Sorry, I couldn't complete that: ") + call["error"]
    if name in ("search_products", "recommend"):
        prods = r.get("products", [])
        if not prods:
            return "抱歉，我们目前没有符合要求的商品。" if zh else "Sorry, we don't carry anything that matches that."
        top = prods[0]
        if zh:
            return f"为您找到{len(prods)}件商品，首选 {short(top['title'], 40)}，价格{money(top['price'], top.get('currency', 'INR'))}。"
        return (f"I found {len(prods)} {'recommendation' if name == 'recommend' else 'product'}{'s' if len(prods) > 1 else ''}; "
                f"the top one is {short(top['title'], 60)} at {money(top['price'], top.get('currency', 'INR'))}.")
    if name == "get_product":
        rating = f"，评分{r['rating']:g}" if zh and r.get("rating") is not None else (
            f", rated {r['rating']:g}" if r.get("rating") is not None else "")
        return (f"{short(r['title'], 60)}：{money(r['price'], r.get('currency', 'INR'))}{rating}。" if zh
                else f"{short(r['title'], 60)} costs {money(r['price'], r.get('currency', 'INR'))}{rating}.")
    if name == "compare_products":
        s, by_id = r.get("summary", {}), {p["product_id"]: p for p in r.get("products", [])}
        out = []
        if "cheapest" in s:
            c = by_id[s["cheapest"]]
            out.append(f"最便宜的是 {short(c['title'], 40)}（{money(c['price'])}）。" if zh
                       else f"The cheapest is {short(c['title'], 60)} at {money(c['price'])}.")
        if "best_rated" in s:
            b = by_id[s["best_rated"]]
            out.append(f"评分最高的是 {short(b['title'], 40)}（{b['rating']:g}星）。" if zh
                       else f"The best rated is {short(b['title'], 60)} ({b['rating']:g} stars).")
        return " ".join(out)
    if name == "review_sentiment_summary":
        quotes = r.get("review_quotes") or []
        text = r.get("summary") or ""
        if quotes:
            q = quotes[0]["quote"][:200]
            text += (f" 一位买家写道：“{q}”" if zh else f' One reviewer wrote: "{q}"')
        return text
    if name == "add_to_cart":
        return (f"已将{r['quantity']}件 {short(r['added']['title'], 40)} 加入购物车，合计{money(r['cart_total'])}。" if zh
                else f"Added {r['quantity']} x {short(r['added']['title'], 60)} to your cart; cart total {money(r['cart_total'])}.")
    if name == "order_status":
        eta, carrier, tracking = r.get("estimated_delivery") or "", r.get("carrier") or "", r.get("tracking_number") or ""
        if zh:
            return (f"订单{r['order_id']}的状态：{r['status']}" + (f"，承运商{carrier}" if carrier else "")
                    + (f"，运单号{tracking}" if tracking else "") + (f"，预计送达{eta}" if eta else "") + "。")
        return (f"Order {r['order_id']} is {r['status']}" + (f", shipped with {carrier}" if carrier else "")
                + (f" (tracking number {tracking})" if tracking else "") + (f", estimated delivery {eta}" if eta else "") + ".")
    if name == "predict_order_intent":
        p = r.get("probability")
        return f"购买可能性约为{p:.0%}。" if zh and p is not None else (f"Purchase likelihood is about {p:.0%}." if p is not None else "")
    return ""
