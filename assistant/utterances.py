"""Labelled shopper utterances for training the turn classifier: generated from templates over a store's own
vocabulary (its product kinds and brands), plus public utterances when they are available.

The templates cover each action in English, Chinese and Hindi-English with varied structure (questions,
commands, fragments, polite and blunt forms); slots are filled with the store's product kinds, brands, prices
in many wordings, positions and quantities, so that the classifier learns the action from the shape of the
request rather than from one product's name. Public data (Bitext customer-service utterances, MG-ShopDial
shopper turns) is mapped to actions where the mapping is unambiguous and left out otherwise.

Knows nothing about models: assistant.turn_classifier trains on what this returns.
"""
from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

TEMPLATES: dict[str, list[str]] = {
    "search": [
        "{kind} under {price}", "show me {kind}", "i need a {kind}", "looking for {brand} {kind}", "any good {kind}?",
        "do you have {kind} below {price}", "{brand} {kind}", "cheap {kind} please", "{kind} with good battery",
        "i want to buy a {kind} for my {person}", "find me a {kind} rated 4 stars or more", "best {kind} for {use}",
        "something like a {kind} but smaller", "got any {kind} in black?", "{kind} between {price} and {price2}",
        "what {kind} do you have", "need {kind} urgently, budget {price}", "{kind} that won't cost more than {price}",
        "hmm maybe a {kind}", "show {brand} ones only", "cheaper ones?", "anything else in that range?",
        "{kind} for {use} under {price}", "is there a {kind} with {feature}", "waterproof {kind}",
        "{kind} dikhao {price} ke andar", "koi achha {kind} batao", "{price} tak ka {kind} chahiye",
        "{brand} ka {kind} hai kya", "mujhe {kind} chahiye",
        "有没有{zh_kind}", "想买个{zh_kind}，预算{zh_price}", "{zh_price}以内的{zh_kind}", "推荐个性价比高的{zh_kind}吗",
        "找一款{zh_kind}", "{brand}的{zh_kind}", "便宜点的{zh_kind}有吗",
    ],
    "details": [
        "tell me more about the {ord} one", "what's the warranty on the {brand} {kind}?", "specs of {ord} one",
        "does it have {feature}?", "does the {brand} {kind} support {feature}", "how much is that one?",
        "what's the price of the {ord}?", "is the {ord} one {feature}?", "what colours does it come in",
        "how heavy is it", "can it {verb}?", "details of {brand} {kind} please", "what's the battery capacity",
        "is this one compatible with {brand}?", "what does the box include", "dimensions of the {ord} one?",
        "iska price kya hai", "{ord} wale ki details do", "ye {feature} support karta hai?",
        "这款多少钱", "第{zh_ord}个的参数是什么", "它支持{zh_feature}吗", "这个有保修吗", "介绍一下{brand}这款",
    ],
    "compare": [
        "compare the {ord} and {ord2}", "which is better, the {brand} or the {brand2}?", "{brand} vs {brand2}",
        "difference between these two", "which of them is cheaper", "compare them", "which one has better reviews",
        "{brand} {kind} or {brand2} {kind}, which is better value?", "how do the {ord} and the {ord2} differ",
        "which one lasts longer", "is the {brand} better than the {brand2}",
        "dono mein se kaunsa better hai", "{brand} ya {brand2}, kaunsa lu?",
        "这两个哪个好", "比较一下第{zh_ord}个和第{zh_ord2}个", "{brand}和{brand2}有什么区别", "哪个更划算",
    ],
    "reviews": [
        "what do reviewers say about the {ord} one?", "any complaints about the {brand} {kind}?", "reviews of it please",
        "how's the {aspect} according to buyers?", "is the {aspect} good on the {brand}?", "what do people think of it",
        "pros and cons of the {ord}", "do customers like the {brand} {kind}", "any issues with {aspect}?",
        "is it worth it? what do buyers say", "show me the reviews", "how reliable is it according to reviews",
        "logon ne {brand} ke baare mein kya bola", "iske reviews kaise hain",
        "这款评价怎么样", "{brand}的{zh_kind}口碑如何", "买家说{zh_aspect}怎么样", "有差评吗",
    ],
    "recommend": [
        "what would you recommend for me?", "suggest something i might like", "gift ideas for my {person}",
        "what's popular right now", "recommend something based on what i bought", "any suggestions?",
        "what are my friends into", "surprise me", "what should i get next", "trending stuff?",
        "kuch suggest karo", "mere liye kya achha rahega",
        "给我推荐点东西", "有什么适合我的", "最近什么卖得好", "送{zh_person}什么礼物好",
    ],
    "add_to_cart": [
        "add the {ord} one to my cart", "put {qty} of those in my basket", "i'll take it", "add it",
        "buy the {brand} one", "add {qty} to cart", "yes add that", "ok I'll take the {ord}", "let's go with the {brand}",
        "that'll do, add it", "put it in the cart", "order it", "i want to buy this one", "make it {qty_word}",
        "throw {qty} in the bag", "add one more", "get me {qty_word} of the {ord}",
        "ye wala cart mein daal do", "{qty_hi} chahiye", "{ord_hi} wala le lo",
        "第{zh_ord}个加入购物车", "来{zh_qty}个", "买这个", "把{brand}这款加购", "就它了，下单",
    ],
    "show_cart": [
        "what's in my cart", "show my basket", "cart total?", "how much is my cart", "what did I add so far",
        "view cart", "list my cart items", "cart mein kya hai", "购物车里有什么", "看看购物车",
    ],
    "order_status": [
        "where is my order {order}?", "status of order {order}", "has my parcel shipped", "track my package",
        "when will my order arrive", "is order {order} delivered?", "any update on my delivery",
        "my order {order} is late", "what's the tracking number for {order}", "order kab aayega",
        "{order} ka status kya hai", "我的订单{order}到哪了", "快递什么时候到", "订单状态",
    ],
    "order_change": [
        "cancel my order {order}", "i want to return the {kind} i got", "exchange it for a bigger size",
        "change the delivery address of my order", "how do i cancel order {order}", "i want a refund for {order}",
        "replace my damaged {kind}", "return karna hai", "order cancel kar do", "取消订单{order}", "我要退货", "换一个尺码",
    ],
    "policy": [
        "what's your return policy?", "how long does delivery take", "do you ship to {city}?", "is there cash on delivery",
        "what are the shipping charges", "can i pay with emi", "how many days do i have to return", "warranty policy?",
        "is delivery free above {price}?", "refund kitne din mein aata hai", "delivery charge kitna hai",
        "退货政策是什么", "运费多少", "几天能到", "支持货到付款吗",
    ],
    "chitchat": [
        "hi", "hello there", "thanks!", "thank you so much", "ok bye", "who are you", "what can you do",
        "good morning", "cool", "that's all for now", "you're helpful", "lol", "namaste", "shukriya",
        "你好", "谢谢", "再见", "你是谁",
    ],
}
KINDS_EN = ["earbuds", "headphones", "phone", "charger", "usb cable", "smart watch", "kettle", "mixer grinder", "iron",
            "water heater", "power bank", "mouse", "keyboard", "backpack", "running shoes", "laptop", "speaker",
            "trimmer", "tv", "router", "pen drive", "fan", "air fryer", "face wash", "blender"]
KINDS_ZH = ["耳机", "手机", "充电宝", "数据线", "手表", "水壶", "键盘", "鼠标", "背包", "跑鞋", "电视", "音箱"]
FEATURES = ["noise cancellation", "fast charging", "bluetooth 5.3", "a warranty", "water resistance", "a mic",
            "type c", "wifi", "an auto shut off", "a remote"]
ASPECTS = ["battery", "sound", "build quality", "comfort", "delivery", "value for money", "camera", "display"]
PERSONS = ["mom", "dad", "brother", "sister", "friend", "wife", "husband", "boss", "son", "daughter"]
USES = ["gym", "travel", "office", "gaming", "college", "kids", "cooking", "running"]


def _price(rng: random.Random) -> str:
    v = rng.choice([299, 500, 799, 999, 1000, 1499, 1500, 2000, 2500, 3000, 5000, 9000, 12000, 15000, 20000])
    return rng.choice([f"{v}", f"₹{v:,}", f"rs {v}", f"{v} rupees", f"{v // 1000}k" if v >= 1000 and v % 1000 == 0
                       else f"{v}"])


def fill(template: str, rng: random.Random, kinds: list[str], brands: list[str]) -> str:
    values = {
        "kind": rng.choice(kinds), "brand": rng.choice(brands), "brand2": rng.choice(brands),
        "price": _price(rng), "price2": _price(rng), "person": rng.choice(PERSONS), "use": rng.choice(USES),
        "feature": rng.choice(FEATURES), "aspect": rng.choice(ASPECTS), "verb": rng.choice(["fold", "float", "stream"]),
        "ord": rng.choice(["first", "second", "third", "last", "2nd", "top"]),
        "ord2": rng.choice(["second", "third", "last"]), "qty": str(rng.randint(1, 5)),
        "qty_word": rng.choice(["two", "three", "a pair", "four"]), "qty_hi": rng.choice(["do", "teen", "char"]),
        "ord_hi": rng.choice(["pehla", "doosra", "teesra"]), "order": rng.choice(["O10234", "402-1234567-7654321",
                                                                                   "#W2611340", "OD1234567890123"]),
        "city": rng.choice(["Pune", "Delhi", "Chennai"]), "zh_kind": rng.choice(KINDS_ZH),
        "zh_price": rng.choice(["三千", "两千五", "500元", "1000块", "一千"]), "zh_ord": rng.choice("一二三"),
        "zh_ord2": rng.choice("二三四"), "zh_qty": rng.choice("一两三"), "zh_feature": rng.choice(["快充", "降噪", "防水"]),
        "zh_aspect": rng.choice(["音质", "续航", "质量"]), "zh_person": rng.choice(["妈妈", "爸爸", "朋友"]),
    }
    return template.format(**values)


def store_vocab(store) -> tuple[list[str], list[str]]:
    """(product kinds, brands) of a store: category leaves as words, and its most common brands."""
    kinds = set()
    for p in store.products.values():
        if p.category:
            leaf = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", p.category[-1]).replace("&", " and ").lower()
            if leaf.isascii() and 3 <= len(leaf) <= 30:
                kinds.add(leaf)
    counts: dict[str, int] = {}
    for p in store.products.values():
        if p.brand and p.brand.isascii():
            counts[p.brand] = counts.get(p.brand, 0) + 1
    brands = sorted(counts, key=lambda b: -counts[b])[:40]
    return sorted(kinds) or KINDS_EN, brands or ["Acme"]


def generated(store=None, per_template: int = 4, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    kinds, brands = store_vocab(store) if store is not None else (KINDS_EN, ["boAt", "Sony", "Samsung", "JBL"])
    kinds = kinds + KINDS_EN
    texts, labels = [], []
    for action, templates in TEMPLATES.items():
        for t in templates:
            for _ in range(per_template if "{" in t else 1):
                texts.append(fill(t, rng, kinds, brands))
                labels.append(action)
    return texts, labels


BITEXT = {"cancel_order": "order_change", "change_order": "order_change", "track_order": "order_status",
          "check_refund_policy": "policy", "get_refund": "order_change", "track_refund": "order_status",
          "delivery_options": "policy", "delivery_period": "policy", "change_shipping_address": "order_change",
          "check_payment_methods": "policy", "check_cancellation_fee": "policy"}


def bitext(path: Path, per_intent: int = 120, seed: int = 0) -> tuple[list[str], list[str]]:
    """Bitext customer-service utterances of the intents that map to an action."""
    rng = random.Random(seed)
    by: dict[str, list[str]] = {}
    with open(path, encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            if row.get("intent") in BITEXT:
                by.setdefault(row["intent"], []).append(row["utterance"])
    texts, labels = [], []
    for intent, utts in sorted(by.items()):
        for u in rng.sample(utts, min(per_intent, len(utts))):
            texts.append(u)
            labels.append(BITEXT[intent])
    return texts, labels


def mgshopdial(path: Path) -> tuple[list[str], list[str]]:
    """MG-ShopDial shopper turns whose goal and majority intent name one of our actions."""
    texts, labels = [], []
    for conv in json.loads(Path(path).read_text(encoding="utf-8")):
        for u in conv.get("utterances", []):
            if u.get("participant", "").lower() not in ("client", "user"):
                continue
            intents = {i for i, n in u.get("intents", []) if n >= 3}
            goal, text = u.get("goal"), u.get("utterance", "").strip()
            label = ("chitchat" if "greeting" in intents and len(text.split()) <= 6 else
                     "details" if goal == "qa" and "o_question" in intents else
                     "search" if goal in ("search", "recommendation") and "disclose" in intents else None)
            if label and 2 <= len(text.split()) <= 40:
                texts.append(text)
                labels.append(label)
    return texts, labels


def training_data(store=None, shared_data: Path | None = None) -> tuple[list[str], list[str], dict[str, int]]:
    """Generated utterances plus the public sets found under `shared_data`; and the count per source."""
    texts, labels = generated(store)
    sources = {"generated": len(texts)}
    if shared_data is not None:
        bt = shared_data / "cs_intents_bitext" / "Bitext_Sample_Customer_Service_Training_Dataset.csv"
        mg = shared_data / "dialogues_mg_shopdial" / "MGShopDial.json"
        for name, path, reader in (("bitext", bt, bitext), ("mgshopdial", mg, mgshopdial)):
            if path.exists():
                t, lab = reader(path)
                texts += t
                labels += lab
                sources[name] = len(t)
    return texts, labels, sources
