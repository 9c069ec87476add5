"""HTML renderers for the shopper chat and the agent console: product cards, comparison table, review
summary with aspect bars, cart, persona, tool-step text. Pure functions from the engine's result dicts
(and store records) to escaped HTML; they decide how things look, never what is true.
"""
from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from typing import Any

from assistant.render import display_title, money
from assistant.titles import clip
from ui.markup import fenced_json, md_text

PLACEHOLDER_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300" viewBox="0 0 300 300">'
    '<rect width="300" height="300" fill="#eef1f5"/>'
    '<path d="M105 120h90l-8 95h-74z" fill="none" stroke="#9aa5b4" stroke-width="8" stroke-linejoin="round"/>'
    '<path d="M125 120v-12a25 25 0 0 1 50 0v12" fill="none" stroke="#9aa5b4" stroke-width="8"/>'
    '<text x="150" y="255" font-family="sans-serif" font-size="20" fill="#8a94a3" text-anchor="middle">'
    'no image</text></svg>')
PLACEHOLDER_URI = "data:image/svg+xml;base64," + base64.b64encode(PLACEHOLDER_SVG.encode()).decode()

LABELS = {
    "en": {"add": "Add to cart", "cart": "Your cart", "empty_cart": "Your cart is empty.", "total": "Total",
           "list": "list", "off": "off", "reviews": "reviews", "ratings": "ratings", "compare": "Comparison",
           "cheapest": "cheapest", "best_rated": "best rated", "price": "Price", "list_price": "List price",
           "rating": "Rating", "brand": "Brand", "review_head": "What reviewers say", "positive": "positive",
           "negative": "negative", "neutral": "neutral", "avg": "average rating", "products": "Products in this reply",
           "qty": "qty", "no_rating": "no ratings yet", "reviews_one": "review", "ratings_one": "rating",
           "orders": "orders", "orders_one": "order",
           "too_long": "Not sent: your message has {n:,} characters and the limit is {limit:,}. Shorten it and send "
                       "again."},
    "zh": {"add": "加入购物车", "cart": "购物车", "empty_cart": "购物车是空的。", "total": "合计", "list": "原价",
           "off": "折扣", "reviews": "条评价", "ratings": "个评分", "compare": "商品对比", "cheapest": "最便宜",
           "best_rated": "评分最高", "price": "价格", "list_price": "原价", "rating": "评分", "brand": "品牌",
           "review_head": "评价摘要", "positive": "好评", "negative": "差评", "neutral": "中性", "avg": "平均评分",
           "products": "本次回复中的商品", "qty": "数量", "no_rating": "暂无评分", "orders": "个订单",
           "too_long": "未发送：您的消息有{n:,}个字符，上限为{limit:,}个。请缩短后再发送。"},
}

CSS = """
.sa-cards { display: flex; flex-wrap: wrap; gap: 12px; }
.sa-card-col { flex: 0 1 220px !important; max-width: 240px !important; justify-content: space-between; }
.sa-notice { color: #991b1b; font-weight: 600; }
.sa-card { border: 1px solid #d9dee5; border-radius: 10px; padding: 10px; background: #fff; color: #1f2937;
  display: flex; flex-direction: column; gap: 4px; min-height: 100%; }
.sa-card img { width: 100%; aspect-ratio: 1 / 1; object-fit: cover; border-radius: 8px; background: #eef1f5; }
.sa-card .sa-title { font-weight: 600; font-size: 0.92em; line-height: 1.25; height: 3.75em; overflow: hidden;
  display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical; }
.sa-card .sa-brand, .sa-card .sa-id { color: #6b7280; font-size: 0.8em; }
.sa-price { font-size: 1.1em; font-weight: 700; color: #111827; }
.sa-list { color: #6b7280; text-decoration: line-through; font-size: 0.85em; margin-left: 6px; }
.sa-off { background: #dcfce7; color: #166534; border-radius: 6px; padding: 0 6px; font-size: 0.8em; margin-left: 6px; }
.sa-stars { color: #d97706; letter-spacing: 1px; }
.sa-reason { color: #374151; font-size: 0.82em; font-style: italic; }
.sa-table { border-collapse: collapse; width: 100%; font-size: 0.9em; color: #1f2937; background: #fff; }
.sa-table th, .sa-table td { border: 1px solid #d9dee5; padding: 6px 8px; text-align: left; vertical-align: top; }
.sa-table th { background: #f3f5f8; }
.sa-best { background: #ecfdf5; }
.sa-tag { display: inline-block; border-radius: 6px; padding: 0 6px; font-size: 0.75em; margin: 2px 2px 0 0;
  background: #e0e7ff; color: #3730a3; }
.sa-aspect { margin: 8px 0; color: #1f2937; }
.sa-bar { display: flex; height: 12px; border-radius: 6px; overflow: hidden; background: #e5e7eb; margin: 3px 0; }
.sa-bar .pos { background: #16a34a; } .sa-bar .neg { background: #dc2626; } .sa-bar .neu { background: #9ca3af; }
.sa-quote { border-left: 3px solid #9ca3af; padding-left: 8px; margin: 3px 0 3px 4px; font-size: 0.85em; color: #374151; }
.sa-quote.positive { border-color: #16a34a; } .sa-quote.negative { border-color: #dc2626; }
.sa-panel { border: 1px solid #d9dee5; border-radius: 10px; padding: 10px 12px; background: #fff; color: #1f2937; }
.sa-panel h4 { margin: 0 0 6px 0; }
.sa-muted { color: #6b7280; font-size: 0.85em; }
.sa-badge { display: inline-block; border-radius: 6px; padding: 1px 8px; font-size: 0.8em; font-weight: 600; }
.sa-badge.red { background: #fee2e2; color: #991b1b; } .sa-badge.green { background: #dcfce7; color: #166534; }
.sa-badge.grey { background: #e5e7eb; color: #374151; }
.sa-meter { height: 8px; border-radius: 4px; background: #e5e7eb; overflow: hidden; margin: 2px 0 6px 0; }
.sa-meter > div { height: 100%; background: #2563eb; }
.sa-suggestion { border: 1px solid #d9dee5; border-radius: 8px; padding: 8px 10px; background: #fff; color: #1f2937; }
.sa-cite { display: inline-block; background: #f3f4f6; color: #374151; border-radius: 4px; padding: 0 5px;
  margin: 2px 3px 0 0; font-size: 0.75em; font-family: monospace; }
"""

# Image loads that fail (offline demo, dead links) swap in the inline placeholder; js_on_load on the cards'
# gr.HTML repeats this for images that failed before the handler was attached.
IMG_FALLBACK_JS = (
    "const ph = %s; const fix = (img) => { if (img.dataset.fallback) return; img.dataset.fallback = '1'; "
    "img.src = ph; }; element.addEventListener('error', (e) => { if (e.target.tagName === 'IMG') fix(e.target); }, "
    "true); element.querySelectorAll('img').forEach((img) => { if (img.complete && img.naturalWidth === 0) "
    "fix(img); });" % json.dumps(PLACEHOLDER_URI))


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def label(lang: str, key: str) -> str:
    return LABELS.get(lang, LABELS["en"])[key]


def counted(n: int, lang: str, key: str) -> str:
    """'1 review', '12 reviews', '12 条评价': the noun agrees with the number."""
    labels = LABELS.get(lang, LABELS["en"])
    return f"{n:,} {labels.get(key + '_one', labels[key]) if n == 1 else labels[key]}"


def short_title(title: str, limit: int, cls: str = "") -> str:
    """A title cut after a whole word (marked "…"), the whole title on hover."""
    attr = f' class="{cls}"' if cls else ""
    return f'<span{attr} title="{esc(title)}">{esc(clip(title, limit))}</span>'


def stars(rating: float | None) -> str:
    if rating is None:
        return ""
    full = int(round(rating))
    return "★" * full + "☆" * (5 - full)


def image(url: str, alt: str) -> str:
    src = url if url and url.startswith(("http://", "https://", "data:image/")) else PLACEHOLDER_URI
    fallback = f"this.onerror=null;this.dataset.fallback='1';this.src='{PLACEHOLDER_URI}'"
    return f'<img src="{esc(src)}" alt="{esc(alt)}" loading="lazy" onerror="{fallback}">'


def price_line(card: dict[str, Any], lang: str) -> str:
    currency = card.get("currency") or "INR"
    out = f'<span class="sa-price">{esc(money(card.get("price"), currency))}</span>'
    lp, p = card.get("list_price"), card.get("price")
    if lp and p and lp > p:
        out += f'<span class="sa-list">{esc(money(lp, currency))}</span>'
        if card.get("discount_pct"):
            out += f'<span class="sa-off">-{int(card["discount_pct"])}%</span>'
    return out


def rating_line(card: dict[str, Any], lang: str) -> str:
    if card.get("rating") is None:
        return f'<span class="sa-muted">{label(lang, "no_rating")}</span>'
    count = card.get("rating_count") or 0
    return (f'<span class="sa-stars">{stars(card["rating"])}</span> {card["rating"]:g} '
            f'<span class="sa-muted">({counted(count, lang, "ratings")})</span>')


def product_card(card: dict[str, Any], lang: str = "en") -> str:
    reason = f'<div class="sa-reason">{esc(card["reason"])}</div>' if card.get("reason") else ""
    shown = display_title(card, lang)
    pid, title = esc(card["product_id"]), esc(shown)
    return (f'<div class="sa-card" data-product-id="{pid}">{image(card.get("image_url", ""), shown)}'
            f'<div class="sa-title" title="{title}">{title}</div>'
            f'<div class="sa-brand">{esc(card.get("brand", ""))} <span class="sa-id">· {pid}</span></div>'
            f'<div>{price_line(card, lang)}</div><div>{rating_line(card, lang)}</div>{reason}</div>')


def comparison_table(comparison: dict[str, Any] | None, lang: str = "en") -> str:
    if not comparison or not comparison.get("products"):
        return ""
    rows = comparison["products"]
    summary = comparison.get("summary", {})
    tags = lambda p: "".join(f' <span class="sa-tag">{label(lang, key)}</span>'  # noqa: E731
                             for key in ("cheapest", "best_rated") if summary.get(key) == p["product_id"])
    head = "".join(f'<th>{short_title(display_title(p, lang), 60, "sa-head-title")}<br>'
                   f'<span class="sa-muted">{esc(p["product_id"])}</span>{tags(p)}</th>' for p in rows)
    lines = [(label(lang, "price"), [price_line(p, lang) for p in rows], "cheapest"),
             (label(lang, "rating"), [rating_line(p, lang) for p in rows], "best_rated"),
             (label(lang, "brand"), [esc(p.get("brand", "")) for p in rows], None)]
    keys = list(dict.fromkeys(k for p in rows for k in (p.get("attributes") or {})))
    lines += [(esc(k.replace("_", " ")), [esc((p.get("attributes") or {}).get(k, "—")) for p in rows], None) for k in keys]
    body = ""
    for name, cells, best in lines:
        tds = "".join(f'<td class="{"sa-best" if best and summary.get(best) == p["product_id"] else ""}">{c}</td>'
                      for c, p in zip(cells, rows))
        body += f"<tr><th>{name}</th>{tds}</tr>"
    return (f'<div class="sa-panel sa-compare"><h4>{label(lang, "compare")}</h4><div style="overflow-x:auto">'
            f'<table class="sa-table"><tr><th></th>{head}</tr>{body}</table></div></div>')


def review_summary(summary: dict[str, Any] | None, lang: str = "en") -> str:
    if not summary:
        return ""
    product = summary.get("product") or {}
    avg = summary.get("average_rating")
    head = (f'<h4>{label(lang, "review_head")}: {esc(display_title(product, lang) or summary.get("product_id", ""))}</h4>'
            f'<div class="sa-muted">{counted(summary.get("n_reviews", 0), lang, "reviews")}'
            + (f' · {label(lang, "avg")} {avg:.1f}/5' if avg is not None else "")
            + f' · {summary.get("positive", 0)} {label(lang, "positive")} · {summary.get("negative", 0)} '
              f'{label(lang, "negative")} · {summary.get("neutral", 0)} {label(lang, "neutral")}</div>')
    aspects = "".join(_aspect(a, lang) for a in summary.get("aspects", []))
    return f'<div class="sa-panel sa-reviews">{head}{aspects}</div>'


def _aspect(a: dict[str, Any], lang: str) -> str:
    pos, neg, neu = a.get("positive", 0), a.get("negative", 0), a.get("neutral", 0)
    total = max(pos + neg + neu, 1)
    bar = (f'<div class="sa-bar" title="{pos} {label(lang, "positive")}, {neg} {label(lang, "negative")}">'
           f'<div class="pos" style="width:{100 * pos / total:.1f}%"></div>'
           f'<div class="neu" style="width:{100 * neu / total:.1f}%"></div>'
           f'<div class="neg" style="width:{100 * neg / total:.1f}%"></div></div>')
    quotes = "".join(f'<div class="sa-quote {esc(e.get("sentiment", ""))}">“{esc(e.get("quote", ""))}” '
                     f'<span class="sa-muted">{esc(e.get("review_id", ""))}</span></div>' for e in a.get("evidence", []))
    return (f'<div class="sa-aspect" data-aspect="{esc(a.get("aspect", ""))}"><b>{esc(a.get("name") or a.get("aspect"))}</b> '
            f'<span class="sa-muted">{pos} {label(lang, "positive")} · {neg} {label(lang, "negative")}'
            + (f' · {neu} {label(lang, "neutral")}' if neu else "") + f"</span>{bar}{quotes}</div>")


def cart_panel(cart: dict[str, int], products: dict[str, Any], lang: str = "en") -> str:
    if not cart:
        return f'<div class="sa-panel sa-cart"><h4>{label(lang, "cart")}</h4><div class="sa-muted">{label(lang, "empty_cart")}</div></div>'
    from assistant.tools import cart_lines, cart_total

    rows, currency = "", "INR"
    for p, qty in cart_lines(products, cart):
        currency = p.currency or currency
        rows += (f'<tr data-product-id="{esc(p.product_id)}"><td>{short_title(p.titles.get(lang) or p.title, 70)}<br>'
                 f'<span class="sa-muted">{esc(p.product_id)}</span></td>'
                 f'<td>{qty}</td><td>{esc(money((p.price or 0) * qty, currency))}</td></tr>')
    total = cart_total(products, cart)
    return (f'<div class="sa-panel sa-cart"><h4>{label(lang, "cart")} ({sum(cart.values())})</h4>'
            f'<table class="sa-table"><tr><th></th><th>{label(lang, "qty")}</th><th></th></tr>{rows}'
            f'<tr><th>{label(lang, "total")}</th><td></td><th class="sa-total">{esc(money(total, currency))}</th></tr>'
            f"</table></div>")


def persona_panel(store, user_id: str | None) -> str:
    """Who the shopper is: taste, recent purchases, friends (what personalised and social recommendations use)."""
    if not user_id or user_id not in store.users:
        return ('<div class="sa-panel sa-persona"><h4>Guest</h4><div class="sa-muted">Not signed in: no history, '
                "friends or orders. Pick a demo shopper to see personalised and social recommendations.</div></div>")
    user = store.users[user_id]
    try:
        taste = json.loads(user.segment) if user.segment.startswith("{") else {}
    except ValueError:
        taste = {}
    bought = [i.product_id for i in reversed(store.interactions_of(user_id)) if i.event == "purchase"]
    bought = [clip(store.products[p].title, 48) for p in dict.fromkeys(bought) if p in store.products][:4]
    friends = sorted(store.friends_of(user_id), key=lambda f: -f.weight)[:5]
    friend_names = [f"{store.users[f.friend_id].name if f.friend_id in store.users else f.friend_id}" for f in friends]
    likes = ", ".join(taste.get("categories", [])) + (f" · {taste['price_level']}" if taste.get("price_level") else "")
    return (f'<div class="sa-panel sa-persona"><h4>{esc(user.name)} <span class="sa-muted">{esc(user_id)} · {esc(user.lang)}</span></h4>'
            + (f'<div><b>Likes</b>: {esc(likes)}</div>' if likes else "")
            + f'<div class="sa-bought"><b>Bought</b>: {esc("; ".join(bought) or "nothing yet")}</div>'
            f'<div><b>Friends</b>: {esc(", ".join(friend_names) or "none")}</div>'
            f'<div class="sa-muted">{counted(len(store.orders_of(user_id)), "en", "orders")}</div></div>')


def tool_title(call: dict[str, Any]) -> str:
    """One line for a tool step's header, as Markdown showing its arguments as typed (never as markup)."""
    args = ", ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in call.get("arguments", {}).items())
    return md_text(f"tool · {call['name']}({clip(args, 90) if len(args) > 90 else args})")


def tool_body(call: dict[str, Any]) -> str:
    """The arguments as JSON, then what came back, in a line; Markdown in which any text is only text."""
    return fenced_json(call.get("arguments", {})) + md_text(_tool_result(call))


def _tool_result(call: dict[str, Any]) -> str:
    if call.get("error"):
        return f"error: {call['error']}"
    r = call.get("result")
    if not isinstance(r, dict):
        return "running..."
    if "products" in r and call["name"] != "compare_products":
        ids = ", ".join(p["product_id"] for p in r["products"])
        n = len(r['products'])
        return f"{n} product{'' if n == 1 else 's'}: {ids}" + ("" if r.get("matched", True) else " (no real match)")
    if call["name"] == "compare_products":
        return "summary: " + json.dumps(r.get("summary", {}), ensure_ascii=False)
    if call["name"] == "review_sentiment_summary":
        return (f"{counted(r.get('n_reviews', 0), 'en', 'reviews')}: {r.get('positive', 0)} positive, "
                f"{r.get('negative', 0)} negative")
    if call["name"] == "add_to_cart":
        return f"added {r['added']['product_id']} × {r['quantity']}; cart total {money(r.get('cart_total'))}"
    if call["name"] == "order_status":
        return f"{r.get('order_id')}: {r.get('status')} {r.get('carrier', '')} {r.get('tracking_number', '')}"
    return json.dumps(r, ensure_ascii=False)[:300]


def turn_status(n_turns: int, result, notice: str = "") -> str:
    """One quiet line under the input: the turn number, intent, latency and tools (data-* for tests);
    or, when the message was not sent, a notice saying why."""
    if notice:
        return (f'<div class="sa-muted sa-status" data-turn="{n_turns}" data-products="">'
                f'<span class="sa-notice">{esc(notice)}</span></div>')
    if result is None:
        return f'<div class="sa-muted sa-status" data-turn="{n_turns}" data-products="">&nbsp;</div>'
    tools = ", ".join(c["name"] for c in result.tool_calls) or "no tools"
    shown = "" if result.no_match else ",".join(p["product_id"] for p in result.products)
    seconds = result.timings.get("total_ms", 0) / 1000
    return (f'<div class="sa-muted sa-status" data-turn="{n_turns}" data-products="{esc(shown)}" '
            f'data-prompt-tokens="{result.prompt_tokens}">turn {n_turns} · '
            f'{esc(result.intent)} · {seconds:.2f} s · {esc(tools)}'
            + (" · refused" if result.refused else "") + (" · nothing matched" if result.no_match else "") + "</div>")


_QUANT = re.compile(r"[-._](q\d+(?:_[a-z0-9]+)*|iq\d+(?:_[a-z0-9]+)*|f16|bf16|f32)$", re.I)


def model_label(backend) -> str:
    """The model a backend runs, named after its file: 'Qwen2.5-Coder-0.5B-Instruct Q4_K_M' for the GGUF
    behind the alias qwen0.5b; the backend's model id when it has no local file."""
    path = getattr(backend, "model_path", None)
    if not path:
        return str(getattr(backend, "model_id", "") or "")
    stem = Path(path).name.removesuffix(".gguf")
    quant = _QUANT.search(stem)
    base = stem[:quant.start()] if quant else stem
    words = [w.upper() if re.fullmatch(r"[\d.]+[bmk]", w) else w[:1].upper() + w[1:] if w.islower() else w
             for w in base.split("-")]
    return "-".join(words) + (f" {quant.group(1).upper()}" if quant else "")
