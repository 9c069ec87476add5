"""Catalog half of the built-in demo store: categories, brands, products and their hidden qualities.

Knows the demo's ten categories (INR price ranges, attributes, which review aspects apply), its invented brands
(a few sold mainly on the Chinese market), and how to write an English or Chinese title and description that
mention the product's real attributes. Each product also gets a latent quality per aspect in [-1, 1]: the truth
that reviews are later drawn from. Knows nothing about reviews, users or orders: `rating` and `rating_count`
stay empty here and are filled from the generated reviews.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import quote

from retrieval.demo_words import COLOR_ZH, FEATURES, SELLING_LINES
from retrieval.schema import Product

TIERS = ("budget", "mid", "premium")

# brand -> (usual price tier 0..2, sold mainly on the Chinese market)
BRANDS: dict[str, tuple[int, bool]] = {
    "Auralis": (2, False), "Voltix": (1, False), "Sonique": (1, False), "BassHub": (0, False),
    "Zentro": (2, False), "Kairo": (1, False), "Pixora": (2, False), "Corvex": (2, False), "Bytewise": (0, False),
    "Stridex": (2, False), "Pacemark": (1, False), "Trailon": (1, False), "Fleetfoot": (0, False),
    "Packwell": (1, False), "Urbanroam": (2, False), "Carrylite": (0, False),
    "Kitchora": (1, False), "Cuisina": (2, False), "Homix": (0, False),
    "Dewbloom": (1, False), "Veloura": (2, False), "PureLeaf": (0, False), "Herbaly": (0, False),
    "Pulsefit": (1, False), "Tickr": (0, False), "Chargezy": (0, False), "Wirecraft": (1, False), "Ampora": (2, False),
    "Nestora": (1, False), "Cozyloom": (0, False), "Lumora": (2, False),
    "Lingyun": (1, True), "Qingyin": (0, True), "Huaxing": (0, True), "Yuepao": (1, True), "Yunxing": (1, True),
    "Chuyi": (1, True), "Xuejing": (1, True), "Yunmo": (1, True),
}

TECH_COLORS = ("Black", "White", "Blue", "Grey", "Silver", "Navy", "Green")
BRIGHT_COLORS = ("Black", "White", "Blue", "Red", "Grey", "Pink", "Green", "Orange", "Navy", "Beige", "Purple")


@dataclass(frozen=True)
class Category:
    key: str
    path: tuple[str, ...]
    kinds: tuple[tuple[str, str], ...]  # (English, Chinese) product kinds
    price_range: tuple[int, int]  # INR: cheapest budget item .. dearest premium item
    brands: tuple[str, ...]
    aspects: tuple[str, ...]  # review aspects that apply (see demo_words.ASPECTS)
    headline: tuple[str, ...]  # attributes shown in the title, in order
    attributes: Callable[[random.Random, str, int], dict[str, Any]]  # (rng, kind_en, tier) -> attributes


@dataclass
class DemoProduct:
    """A product plus the hidden truth its reviews and purchases are drawn from."""
    product: Product
    category: Category
    tier: int
    qualities: dict[str, float]

    @property
    def overall(self) -> float:
        core = [q for a, q in self.qualities.items() if a != "delivery"]
        return sum(core) / len(core)


def _pick(rng: random.Random, options: tuple | list, tier: int) -> Any:
    """An option from the cheap end for budget items, the dear end for premium ones."""
    n = len(options)
    lo, hi = (tier * n) // 4, min(n, (tier + 2) * n // 3 + 1)
    return options[rng.randrange(lo, max(lo + 1, hi))]


def _headphones(rng: random.Random, kind: str, tier: int) -> dict[str, Any]:
    buds = "Earbuds" in kind or "Neckband" in kind
    return {"battery_hours": _pick(rng, (12, 20, 24, 30, 36, 40, 50) if buds else (20, 30, 40, 50, 60, 70), tier),
            "noise_cancelling": "Noise" in kind or rng.random() < 0.15 + 0.3 * tier,
            "bluetooth": _pick(rng, ("5.0", "5.1", "5.2", "5.3", "5.4"), tier), "color": rng.choice(TECH_COLORS),
            "weight_g": rng.randint(35, 60) if buds else rng.randint(170, 320),
            "water_resistance": rng.choice(("IPX4", "IPX5", "IPX7")) if buds else None,
            "warranty_months": 12 if tier < 2 else 24}


def _phones(rng: random.Random, kind: str, tier: int) -> dict[str, Any]:
    return {"ram_gb": _pick(rng, (4, 6, 8, 12, 16), tier), "storage_gb": _pick(rng, (64, 128, 256, 512), tier),
            "screen_in": rng.choice((6.1, 6.4, 6.5, 6.6, 6.7, 6.8)),
            "battery_mah": rng.choice((4500, 5000, 5500, 6000)),
            "camera_mp": _pick(rng, (13, 48, 50, 64, 108, 200), tier), "color": rng.choice(TECH_COLORS),
            "weight_g": rng.randint(168, 225), "warranty_months": 12}


def _laptops(rng: random.Random, kind: str, tier: int) -> dict[str, Any]:
    gaming = "Gaming" in kind
    return {"ram_gb": _pick(rng, (8, 16, 32), tier), "storage_gb": _pick(rng, (256, 512, 1024), tier),
            "screen_in": rng.choice((15.6, 16.0) if gaming else (13.3, 14.0, 15.6)),
            "cpu": _pick(rng, ("4-core 2.4GHz", "6-core 3.0GHz", "8-core 3.6GHz", "12-core 4.2GHz"), tier),
            "battery_hours": rng.randint(4, 7) if gaming else rng.randint(6, 15),
            "weight_g": rng.randint(2100, 2700) if gaming else rng.randint(1050, 1800),
            "color": rng.choice(("Silver", "Grey", "Black", "Blue")), "warranty_months": 12}


def _shoes(rng: random.Random, kind: str, tier: int) -> dict[str, Any]:
    return {"gender": rng.choice(("Men", "Women", "Unisex")), "sizes": rng.choice(("UK 6-11", "UK 3-8", "UK 5-10")),
            "color": rng.choice(BRIGHT_COLORS), "weight_g": rng.randint(190, 330),
            "waterproof": "Trail" in kind and rng.random() < 0.6, "material": rng.choice(("mesh", "knit", "synthetic"))}


def _backpacks(rng: random.Random, kind: str, tier: int) -> dict[str, Any]:
    big = "Travel" in kind or "Hiking" in kind
    return {"capacity_l": rng.choice((35, 40, 45, 50, 60) if big else (18, 20, 25, 28, 32)),
            "waterproof": rng.random() < 0.3 + 0.25 * tier, "color": rng.choice(BRIGHT_COLORS),
            "laptop_sleeve_in": rng.choice((14, 15.6, 17)) if "Laptop" in kind or rng.random() < 0.3 else None,
            "weight_g": rng.randint(380, 1400), "material": rng.choice(("polyester", "nylon", "canvas"))}


def _kitchen(rng: random.Random, kind: str, tier: int) -> dict[str, Any]:
    power = {"Air Fryer": (1200, 1800), "Mixer Grinder": (500, 1000), "Electric Kettle": (1200, 2000),
             "Blender": (300, 800), "Induction Cooktop": (1600, 2200)}[kind]
    capacity = {"Air Fryer": (3.5, 4.2, 5.5, 6.5), "Mixer Grinder": (1.5,), "Electric Kettle": (1.2, 1.5, 1.8),
                "Blender": (0.6, 1.0, 1.5), "Induction Cooktop": (None,)}[kind]
    return {"power_w": rng.randrange(power[0], power[1] + 1, 100), "capacity_l": rng.choice(capacity),
            "color": rng.choice(("Black", "White", "Silver", "Red")), "warranty_months": 12 if tier < 2 else 24}


def _skincare(rng: random.Random, kind: str, tier: int) -> dict[str, Any]:
    return {"volume_ml": rng.choice((30, 50) if "Serum" in kind else (50, 80, 100, 150)),
            "skin_type": rng.choice(("oily", "dry", "combination", "sensitive", "all")),
            "spf": rng.choice((30, 50)) if kind == "Sunscreen" else None, "fragrance_free": rng.random() < 0.4}


def _watches(rng: random.Random, kind: str, tier: int) -> dict[str, Any]:
    return {"battery_days": rng.choice((2, 5, 7, 10, 14, 21) if "Band" in kind else (1, 2, 5, 7, 10, 14)),
            "display": _pick(rng, ("LCD", "TFT", "AMOLED", "AMOLED"), tier),
            "screen_in": rng.choice((1.4, 1.6, 1.8, 1.9)),
            "water_resistance": rng.choice(("IP67", "IP68", "5ATM")), "gps": "GPS" in kind or rng.random() < 0.3 * tier,
            "color": rng.choice(TECH_COLORS), "weight_g": rng.randint(22, 60), "warranty_months": 12}


def _cables(rng: random.Random, kind: str, tier: int) -> dict[str, Any]:
    cable = "Cable" in kind
    return {"wattage_w": _pick(rng, (18, 20, 25, 33, 45, 65, 100), tier),
            "connector": rng.choice(("USB-C to USB-C", "USB-A to USB-C")) if "USB-C" in kind else
            ("USB-C to Lightning" if "Lightning" in kind else rng.choice(("USB-C", "USB-C + USB-A"))),
            "length_m": rng.choice((1.0, 1.5, 2.0)) if cable else None,
            "capacity_mah": rng.choice((10000, 20000)) if "Power Bank" in kind else None,
            "color": rng.choice(("Black", "White", "Grey")), "warranty_months": 6 if tier == 0 else 12}


def _home(rng: random.Random, kind: str, tier: int) -> dict[str, Any]:
    extra = {"Desk Lamp": {"brightness_lm": rng.choice((300, 450, 600, 800)), "material": "aluminium"},
             "Insulated Water Bottle": {"capacity_l": rng.choice((0.5, 0.75, 1.0)), "material": "stainless steel"},
             "Cotton Bedsheet Set": {"bed_size": rng.choice(("Double", "Queen", "King")), "material": "100% cotton"},
             "Cushion Cover Set": {"pieces": rng.choice((2, 4, 5)), "material": rng.choice(("velvet", "cotton"))}}[kind]
    return {**extra, "color": rng.choice(BRIGHT_COLORS)}


_CORE_TECH = ("quality", "delivery", "value")
CATEGORIES: tuple[Category, ...] = (
    Category("headphones", ("Electronics", "Headphones"),
             (("Wireless Over-Ear Headphones", "头戴式无线耳机"), ("True Wireless Earbuds", "真无线蓝牙耳机"),
              ("Neckband Earphones", "颈挂式蓝牙耳机"), ("Noise-Cancelling Headphones", "降噪蓝牙耳机")),
             (599, 24999), ("Auralis", "Voltix", "Sonique", "BassHub", "Lingyun", "Qingyin"),
             ("sound", "battery", "comfort", "design") + _CORE_TECH, ("battery_hours", "noise_cancelling"),
             _headphones),
    Category("phones", ("Electronics", "Mobile Phones"),
             (("Smartphone", "智能手机"), ("5G Smartphone", "5G手机"), ("Camera Phone", "拍照手机")),
             (6999, 89999), ("Zentro", "Voltix", "Kairo", "Pixora", "Lingyun", "Huaxing"),
             ("battery", "camera", "performance", "display") + _CORE_TECH, ("ram_gb", "storage_gb"), _phones),
    Category("laptops", ("Computers", "Laptops"),
             (("Thin and Light Laptop", "轻薄笔记本电脑"), ("Gaming Laptop", "游戏本"), ("2-in-1 Laptop", "二合一笔记本")),
             (24999, 149999), ("Corvex", "Zentro", "Kairo", "Bytewise", "Huaxing"),
             ("performance", "battery", "display") + _CORE_TECH, ("ram_gb", "storage_gb"), _laptops),
    Category("running_shoes", ("Fashion", "Running Shoes"),
             (("Running Shoes", "跑步鞋"), ("Trail Running Shoes", "越野跑鞋"), ("Walking Shoes", "健步鞋")),
             (999, 12999), ("Stridex", "Pacemark", "Trailon", "Fleetfoot", "Yuepao"),
             ("comfort", "fit", "design") + _CORE_TECH, ("weight_g",), _shoes),
    Category("backpacks", ("Bags", "Backpacks"),
             (("Laptop Backpack", "电脑双肩包"), ("Travel Backpack", "旅行背包"), ("Hiking Backpack", "登山包"),
              ("School Backpack", "学生书包")),
             (499, 5999), ("Packwell", "Trailon", "Urbanroam", "Carrylite", "Yunxing"),
             ("comfort", "design") + _CORE_TECH, ("capacity_l", "waterproof"), _backpacks),
    Category("kitchen", ("Home & Kitchen", "Kitchen Appliances"),
             (("Air Fryer", "空气炸锅"), ("Mixer Grinder", "料理机"), ("Electric Kettle", "电热水壶"),
              ("Blender", "搅拌机"), ("Induction Cooktop", "电磁炉")),
             (999, 14999), ("Kitchora", "Cuisina", "Homix", "Chuyi"),
             ("performance",) + _CORE_TECH, ("power_w", "capacity_l"), _kitchen),
    Category("skincare", ("Beauty", "Skincare"),
             (("Moisturizer", "保湿面霜"), ("Sunscreen", "防晒霜"), ("Face Wash", "洗面奶"), ("Vitamin C Serum", "维C精华")),
             (199, 1999), ("Dewbloom", "Veloura", "PureLeaf", "Herbaly", "Xuejing"),
             ("effect",) + _CORE_TECH, ("volume_ml", "spf"), _skincare),
    Category("smart_watches", ("Electronics", "Smart Watches"),
             (("Smart Watch", "智能手表"), ("Fitness Band", "运动手环"), ("GPS Sports Watch", "GPS运动手表")),
             (1299, 29999), ("Auralis", "Zentro", "Pulsefit", "Tickr", "Lingyun"),
             ("battery", "display", "performance", "comfort") + _CORE_TECH, ("battery_days", "display"), _watches),
    Category("cables", ("Electronics", "Cables & Chargers"),
             (("USB-C Cable", "USB-C数据线"), ("Fast Charger", "快充充电器"), ("Power Bank", "充电宝"),
              ("Lightning Cable", "Lightning数据线")),
             (149, 2999), ("Voltix", "Chargezy", "Wirecraft", "Ampora", "Huaxing"),
             ("performance",) + _CORE_TECH, ("wattage_w", "capacity_mah", "length_m"), _cables),
    Category("home", ("Home & Kitchen", "Home Goods"),
             (("Desk Lamp", "台灯"), ("Insulated Water Bottle", "保温杯"), ("Cotton Bedsheet Set", "纯棉床单套装"),
              ("Cushion Cover Set", "抱枕套")),
             (299, 4999), ("Homix", "Nestora", "Cozyloom", "Lumora", "Yunmo"),
             ("design",) + _CORE_TECH, ("capacity_l", "brightness_lm", "bed_size", "pieces"), _home),
)
CATEGORY_BY_KEY = {c.key: c for c in CATEGORIES}

_MODEL_PREFIXES = ("X", "Z", "Q", "S", "A", "M", "Neo ", "Air ", "Pro ", "Go ", "Edge ", "Nova ", "Flex ", "Core ")
_MODEL_SUFFIXES = ("", "", "", " Pro", " Lite", " Max", " Plus", " Mini", " Ultra", " SE")


def _model_name(rng: random.Random, brand: str, used: set[str]) -> str:
    for _ in range(50):
        model = f"{rng.choice(_MODEL_PREFIXES)}{rng.randint(1, 9)}{rng.choice(_MODEL_SUFFIXES)}"
        if (brand, model) not in used:
            break
    used.add((brand, model))
    return model


def _round_price(p: float) -> float:
    return float(int(p // 100) * 100 + 99)


def _prices(rng: random.Random, cat: Category, tier: int) -> tuple[float, float, float]:
    """(price, list_price, u): u is where the price sits in the category's log range, 0 cheap .. 1 dear."""
    lo, hi = cat.price_range
    u = (tier + rng.random()) / 3
    price = min(_round_price(math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))), float(hi))
    discount = rng.choice((0.0, 0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6))
    list_price = max(price, _round_price(price / (1 - discount)))
    return price, list_price, u


def feature_text(key: str, value: Any, lang: str) -> str | None:
    """A short phrase for one attribute ("40-hour battery", "40小时续航"), or None when not worth saying."""
    if key not in FEATURES or value is None or value is False:
        return None
    fmt = FEATURES[key][0 if lang == "en" else 1]
    return fmt(value) if callable(fmt) else fmt.format(v=value)


def _texts(rng: random.Random, cat: Category, brand: str, model: str, kind: tuple[str, str],
           attrs: dict[str, Any], lang: str) -> tuple[str, str]:
    """(title, description) in the product's language; both mention only attributes the product has."""
    feats = [t for k, v in attrs.items() if (t := feature_text(k, v, lang))]
    head = [t for k in cat.headline if (t := feature_text(k, attrs.get(k), lang))][:2]
    color = attrs.get("color")
    picked = rng.sample(feats, min(3, len(feats)))
    selling = rng.choice(SELLING_LINES[cat.key])
    if lang == "zh":
        color_zh = COLOR_ZH.get(color, "") if color else ""
        title = " ".join(x for x in (brand, kind[1], model, *head, color_zh) if x)
        desc = f"{brand} {model} {kind[1]}，{'，'.join(picked)}。{selling[1]}"
        return title, desc + (f"颜色：{color_zh}。" if color_zh and rng.random() < 0.5 else "")
    extras = ", ".join(head + ([color] if color else []))
    title = f"{brand} {model} {kind[0]}" + (f" ({extras})" if extras else "")
    listed = picked[0] if len(picked) == 1 else ", ".join(picked[:-1]) + " and " + picked[-1]
    desc = f"The {brand} {model} is {_with_article(kind[0].lower())} with {listed}. {selling[0]}"
    return title, desc + (f" Colour: {color}." if color and rng.random() < 0.5 else "")


def _with_article(noun: str) -> str:
    if noun.endswith(("phones", "earbuds", "shoes")):
        return f"a pair of {noun}"
    return ("an " if noun[0] in "aeio" else "a ") + noun


def _clip(x: float) -> float:
    return round(max(-1.0, min(1.0, x)), 3)


def _qualities(rng: random.Random, cat: Category, brand_bias: float, tier: int, u: float) -> dict[str, float]:
    """Latent per-aspect quality in [-1, 1]: brand and tier set the level, a few products are lemons."""
    core = [a for a in cat.aspects if a not in ("delivery", "value")]
    q = {a: _clip(brand_bias + 0.15 * (tier - 1) + rng.gauss(0, 0.45)) for a in core}
    if rng.random() < 0.15:  # a lemon: one aspect is plainly bad
        q[rng.choice(core)] = _clip(-0.6 - 0.4 * rng.random())
    mean_core = sum(q.values()) / len(q)
    q["delivery"] = _clip(rng.gauss(0.35, 0.45))
    q["value"] = _clip(0.6 * mean_core - 0.9 * (u - 0.5) + rng.gauss(0, 0.3))
    return {a: q[a] for a in cat.aspects}


def _make_product(rng: random.Random, number: int, cat: Category, brand_bias: dict[str, float],
                  used_models: set) -> DemoProduct:
    brand = rng.choice(cat.brands)
    tier = max(0, min(2, BRANDS[brand][0] + rng.choice((-1, 0, 0, 0, 1))))
    kind = rng.choice(cat.kinds)
    # absent means "no": a stored False would put e.g. "waterproof" into the product's search text
    attrs = {"type": kind[0], **{k: v for k, v in cat.attributes(rng, kind[0], tier).items()
                                 if v is not None and v is not False}}
    lang = "zh" if rng.random() < (0.75 if BRANDS[brand][1] else 0.16) else "en"
    price, list_price, u = _prices(rng, cat, tier)
    model = _model_name(rng, brand, used_models)
    title, desc = _texts(rng, cat, brand, model, kind, attrs, lang)
    other = "en" if lang == "zh" else "zh"  # its own generator: the store's main sequence stays as it was
    other_title = _texts(random.Random(number), cat, brand, model, kind, attrs, other)[0]
    product = Product(product_id=f"P{number:04d}", title=title, description=desc, category=list(cat.path),
                      brand=brand, price=price, currency="INR", list_price=list_price,
                      image_url=f"https://placehold.co/300x300?text={quote(brand)}", attributes=attrs, lang=lang,
                      titles={other: other_title})
    return DemoProduct(product, cat, tier, _qualities(rng, cat, brand_bias[brand], tier, u))


def generate_products(rng: random.Random, n: int) -> list[DemoProduct]:
    """n products spread evenly over the categories, in shuffled category order, ids P0001.."""
    brand_bias = {b: rng.uniform(-0.1, 0.5) + 0.1 * (tier - 1) for b, (tier, _) in BRANDS.items()}
    cats = [CATEGORIES[i % len(CATEGORIES)] for i in range(n)]
    rng.shuffle(cats)
    used: set = set()
    return [_make_product(rng, i + 1, cat, brand_bias, used) for i, cat in enumerate(cats)]
