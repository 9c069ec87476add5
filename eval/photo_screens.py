"""Screenshots of product pages for the photo evaluation, taken by a real browser (headless Chromium).

A shopper's "截图搜同款" is a phone screenshot of a product page or post: the title, brand, price, rating
and buttons, laid out and anti-aliased by a browser. `screenshots(products)` renders one such page per
product at a phone's viewport (390 x 844 CSS pixels, 2x) and returns PNG bytes with the text lines on the
page (the OCR ground truth). Still rendered, not photographed: the evaluation says so. Needs Debian's
chromium and playwright (the dev extra); knows nothing about OCR or search.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body {{ margin: 0; font-family: {font}; background: #fff; color: #222; }}
.bar {{ background: {accent}; color: #fff; padding: 14px 16px; font-size: 17px; font-weight: 600; }}
.img {{ height: 300px; margin: 12px 16px; border-radius: 12px; background: linear-gradient(135deg, {accent}, #eee); }}
.brand {{ margin: 4px 16px; color: {accent}; font-size: 15px; font-weight: 600; }}
.title {{ margin: 4px 16px 10px; font-size: 20px; font-weight: 600; line-height: 1.3; }}
.price {{ margin: 0 16px; font-size: 26px; color: #b12704; }} .rating {{ margin: 6px 16px; color: #777; }}
.desc {{ margin: 10px 16px; font-size: 13px; color: #555; line-height: 1.4; }}
.buy {{ position: fixed; bottom: 0; left: 0; right: 0; display: flex; }}
.buy div {{ flex: 1; padding: 16px; text-align: center; color: #fff; font-weight: 600; }}
</style></head><body>
<div class="bar">{shop}</div><div class="img"></div>
<div class="brand">{brand}</div><div class="title">{title}</div>
<div class="price">{price}</div><div class="rating">{rating}</div><div class="desc">{desc}</div>
<div class="buy"><div style="background:#f0a020">{cart}</div><div style="background:#e03030">{buy}</div></div>
</body></html>"""
FONTS = ("'DejaVu Sans', sans-serif", "'Liberation Sans', sans-serif", "'Noto Sans CJK SC', sans-serif",
         "'Liberation Serif', serif")


@dataclass
class Screenshot:
    product_id: str
    png: bytes
    lines: list[str]       # the page's text (title, brand, price, rating, description, buttons)
    name_lines: list[str]  # the brand and the title


def page_html(product, seed: int) -> tuple[str, list[str], list[str]]:
    """The page for one product, its text lines and its name lines."""
    zh = product.lang == "zh"
    price = f"₹{product.price:,.0f}" if product.price else ""
    rating = f"{product.rating:.1f} ★ ({product.rating_count or 0} ratings)" if product.rating else ""
    desc = (product.description or "")[:160]
    cart, buy = ("加入购物车", "立即购买") if zh else ("Add to cart", "Buy now")
    shop = "商品详情" if zh else "Product details"
    accent = ("#1f6feb", "#d2691e", "#2e8b57", "#8a2be2")[seed % 4]
    fields = {"font": FONTS[seed % len(FONTS)], "accent": accent, "shop": shop, "brand": product.brand or "",
              "title": product.title, "price": price, "rating": rating, "desc": desc, "cart": cart, "buy": buy}
    page = PAGE.format(**{k: v if k in ("font", "accent") else html.escape(v) for k, v in fields.items()})
    lines = [t for t in (shop, product.brand, product.title, price, rating, desc, cart, buy) if t]
    return page, lines, [t for t in (product.brand, product.title) if t]


def screenshots(products, chromium: str = "/usr/bin/chromium") -> list[Screenshot]:
    """One phone-sized screenshot per product (a real browser lays out and renders the page)."""
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        page = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2).new_page()
        # nothing leaves the machine: the page has no resources, and any request is refused
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("data:") else route.abort())
        for i, product in enumerate(products):
            html_text, lines, name_lines = page_html(product, i)
            page.set_content(html_text)
            out.append(Screenshot(product.product_id, page.screenshot(type="png"), lines, name_lines))
        browser.close()
    return out
