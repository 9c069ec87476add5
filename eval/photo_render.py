"""Pictures of catalog products for the photo evaluation: a product box, photographed badly.

`render_box(product, rng)` draws a box face the way packaging looks (the brand large, the product name,
a model or capacity line, small print, sometimes a price sticker) in a Latin or CJK font, and returns
the picture with the exact text drawn on it (the OCR ground truth). `damage(picture, rng, level)` then
photographs it: a busy background with shapes and stray words, rotation, perspective, blur, uneven
light, noise and JPEG compression. Everything is seeded. Knows nothing about OCR or search.
"""
from __future__ import annotations

import io
import random
import re
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation",
             "/usr/share/fonts/opentype/noto")
LATIN_FONTS = ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSansCondensed-Bold.ttf",
               "LiberationSans-Bold.ttf", "LiberationSans-Regular.ttf", "LiberationSerif-Bold.ttf",
               "LiberationSansNarrow-Bold.ttf")
CJK_FONTS = ("NotoSansCJK-Bold.ttc", "NotoSansCJK-Regular.ttc", "NotoSerifCJK-Bold.ttc")
STRAY_WORDS = ("SALE", "Aisle 4", "NEW ARRIVAL", "Fragile", "This side up", "Best before", "限时特惠", "Keep dry",
               "Batch 22B", "Shelf 3", "Handle with care", "包邮")
LEVELS = ("clean", "damaged")


@dataclass
class BoxPicture:
    image: object          # PIL RGB image
    lines: list[str]       # every text line drawn, in reading order (the OCR ground truth)
    name: str              # the product-name text on the box
    name_lines: list[str]  # the brand and name lines (the large print that identifies the product)


def font_path(name: str) -> Path | None:
    for d in FONT_DIRS:
        p = Path(d) / name
        if p.exists():
            return p
    return None


def fonts_available() -> dict[str, list[Path]]:
    """The Latin and CJK fonts found on this machine (Debian: fonts-dejavu, fonts-liberation, fonts-noto-cjk)."""
    return {"latin": [p for p in map(font_path, LATIN_FONTS) if p], "cjk": [p for p in map(font_path, CJK_FONTS) if p]}


@lru_cache(maxsize=64)
def _font(path: str, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(path, size)


def _is_cjk(text: str) -> bool:
    return sum("\u4e00" <= ch <= "\u9fff" for ch in text) >= 2


def product_name(title: str, brand: str, max_chars: int = 60) -> str:
    """What a box prints as the name: the title up to its first clause, without the brand, <= max_chars."""
    name = re.split(r"[,(|\[]| - | with |，|（", title)[0].strip() or title
    if brand and name.lower().startswith(brand.lower()):
        name = name[len(brand):].strip(" -:")
    name = name or title
    if len(name) > max_chars:
        name = name[:max_chars].rsplit(" ", 1)[0] if not _is_cjk(name) else name[:max_chars // 2]
    return name


_UNITS = {"mah": "mAh", "gb": "GB", "tb": "TB", "w": "W", "l": "L", "ml": "ml", "in": "inch", "mp": "MP",
          "hz": "Hz", "m": "m"}


def _spec_line(product) -> str:
    """A model / capacity line from the product's attributes ("battery_mah": 6000 -> "6000mAh") or its title."""
    attrs = product.attributes or {}
    specs = []
    for key, value in attrs.items():
        unit = _UNITS.get(str(key).rsplit("_", 1)[-1].lower()) if "_" in str(key) else None
        if unit and isinstance(value, (int, float)) and not isinstance(value, bool):
            specs.append(f"{value:g}{unit}")
    if specs:
        return "  ".join(specs[:3])
    m = re.search(r"\b\d+(?:\.\d+)?\s?(?:mAh|GB|TB|W|L|ml|inch|Hz|MP)\b", product.title)
    return m.group(0) if m else ""


def render_box(product, rng: random.Random, width: int = 760) -> BoxPicture:
    from PIL import Image, ImageDraw

    fonts = fonts_available()
    cjk = _is_cjk(product.title)
    pick = (lambda: str(rng.choice(fonts["cjk"]))) if cjk or not fonts["latin"] else \
        (lambda: str(rng.choice(fonts["latin"] + fonts["cjk"][:1])))
    name = product_name(product.title, product.brand)
    wrapped = textwrap.wrap(name, 13 if cjk else 26)[:3] or [name]
    small = (product.description or "")[:70].split("\n")[0]
    spec = _spec_line(product)
    dark = rng.random() < 0.35
    bg = tuple(rng.randint(10, 70) for _ in range(3)) if dark else tuple(rng.randint(200, 250) for _ in range(3))
    ink = (245, 245, 245) if dark else tuple(rng.randint(0, 60) for _ in range(3))
    accent = tuple(rng.randint(120, 230) if dark else rng.randint(120, 200) for _ in range(3))
    height = int(width * rng.uniform(0.62, 0.8))
    img = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, width, int(height * 0.08)], fill=accent)
    y, lines = int(height * 0.12), []
    y = _text(draw, (product.brand or "").strip(), pick(), int(height * rng.uniform(0.11, 0.15)), y, accent, lines,
              width)
    for row in wrapped:
        y = _text(draw, row, pick(), int(height * rng.uniform(0.065, 0.085)), y, ink, lines, width)
    for extra, scale in ((spec, 0.05), (small, 0.035)):
        if extra and y < height * 0.86:
            y = _text(draw, extra, pick(), int(height * scale), y, ink, lines, width)
    if rng.random() < 0.4 and product.price:
        sticker = f"MRP ₹{product.price:,.0f}" if product.currency == "INR" else f"¥{product.price:,.0f}"
        font = _font(pick(), int(height * 0.05))
        x0, y0 = int(width * 0.62), int(height * 0.84)
        draw.rectangle([x0 - 8, y0 - 6, width - 10, height - 8], fill=(250, 230, 60))
        draw.text((x0, y0), sticker, font=font, fill=(20, 20, 20))
        lines.append(sticker)
    name_lines = [t for t in [(product.brand or "").strip()] + wrapped if t]
    return BoxPicture(img, lines, " ".join(name_lines), name_lines)


def _text(draw, text: str, font_file: str, size: int, y: int, fill, lines: list[str], width: int) -> int:
    if not text:
        return y
    font = _font(font_file, max(size, 12))
    while draw.textlength(text, font=font) > width * 0.9 and size > 12:
        size = int(size * 0.9)
        font = _font(font_file, size)
    draw.text((int(width * 0.05), y), text, font=font, fill=fill)
    lines.append(text)
    return y + int(size * 1.35)


def damage(box: BoxPicture, rng: random.Random, level: str = "damaged") -> tuple[bytes, list[str]]:
    """JPEG bytes of the box photographed (`clean`: straight on a plain table, light JPEG), and the lines
    of text on the picture (the box's plus any stray words in the background)."""
    import numpy as np

    if level not in LEVELS:
        raise ValueError(f"damage level must be one of {LEVELS}, got {level!r}")
    if level == "clean":
        canvas, lines = _scene(box, rng, busy=False), list(box.lines)
        return _jpeg(canvas, 90), lines
    canvas = _scene(box, rng, busy=True)
    lines = list(box.lines) + canvas.info.get("stray", [])
    arr = np.asarray(canvas)
    arr = _perspective(arr, rng, rng.uniform(0.03, 0.12))
    arr = _rotate(arr, rng.uniform(-25, 25))
    arr = _light(arr, rng)
    from PIL import Image, ImageFilter

    img = Image.fromarray(arr).filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.6)))
    scale = rng.uniform(0.7, 1.3)
    img = img.resize((int(img.width * scale), int(img.height * scale)))
    return _jpeg(img, rng.randint(35, 75)), lines


def _scene(box: BoxPicture, rng: random.Random, busy: bool):
    """The box on a table: plain, or busy (shapes in other colours, stray words, a gradient)."""
    from PIL import Image, ImageDraw

    w, h = box.image.size
    pad = int(w * (0.35 if busy else 0.12))
    canvas = Image.new("RGB", (w + 2 * pad, h + 2 * pad), tuple(rng.randint(90, 200) for _ in range(3)))
    draw = ImageDraw.Draw(canvas)
    stray = []
    if busy:
        for _ in range(rng.randint(8, 16)):
            x, y = rng.randint(0, canvas.width), rng.randint(0, canvas.height)
            r = rng.randint(20, 140)
            shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
            shape([x - r, y - r, x + r, y + r], fill=tuple(rng.randint(0, 255) for _ in range(3)))
        fonts = fonts_available()
        for word in rng.sample(STRAY_WORDS, 2):
            font = _font(str(rng.choice(fonts["cjk"] or fonts["latin"])), rng.randint(16, 26))
            edge = rng.choice([(rng.randint(5, canvas.width // 2), rng.randint(5, pad // 2)),
                               (rng.randint(5, canvas.width // 2), canvas.height - pad // 2)])
            draw.text(edge, word, font=font, fill=tuple(rng.randint(0, 80) for _ in range(3)))
            stray.append(word)
    canvas.paste(box.image, (pad + rng.randint(-pad // 4, pad // 4), pad + rng.randint(-pad // 4, pad // 4)))
    canvas.info["stray"] = stray
    return canvas


def _perspective(arr, rng: random.Random, strength: float):
    import cv2
    import numpy as np

    h, w = arr.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = [[rng.uniform(0, strength) * w, rng.uniform(0, strength) * h] for _ in range(4)]
    dst = np.float32([[jitter[0][0], jitter[0][1]], [w - jitter[1][0], jitter[1][1]],
                      [w - jitter[2][0], h - jitter[2][1]], [jitter[3][0], h - jitter[3][1]]])
    return cv2.warpPerspective(arr, cv2.getPerspectiveTransform(src, dst), (w, h), borderMode=cv2.BORDER_REPLICATE)


def _rotate(arr, degrees: float):
    import cv2

    h, w = arr.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(arr, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


def _light(arr, rng: random.Random):
    """Uneven light (a gradient across the picture), contrast change and sensor noise."""
    import numpy as np

    h, w = arr.shape[:2]
    gradient = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(1.0, 1.25), w, dtype=np.float32)[None, :, None]
    noise = np.random.default_rng(rng.randint(0, 2**31)).normal(0, rng.uniform(2, 9), arr.shape).astype(np.float32)
    out = arr.astype(np.float32) * gradient * rng.uniform(0.8, 1.1) + noise
    return np.clip(out, 0, 255).astype(np.uint8)


def _jpeg(img, quality: int) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
