"""Customer-service side of the demo store: the store policy and the agent console's conversations.

The policy is markdown with an English and a Chinese section; its numbers come from POLICY_TERMS so that both
languages, the conversations and any code quoting the policy agree. Conversations are written for real demo
users about their own orders and products (tracking, refunds, questions, complaints, cancellations, delivery
options), some of them angry; each ends with the customer's message awaiting an agent. Knows nothing about how
users and orders were generated; it reads them.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from retrieval.demo_people import NOW, iso
from retrieval.schema import Order, Product, User

POLICY_TERMS = {
    "free_shipping_min_inr": 499, "standard_fee_inr": 49, "standard_days": "3-5", "express_fee_inr": 99,
    "express_days": "1-2", "cod_fee_inr": 29, "cod_max_inr": 10000, "return_days": 30, "skincare_return_days": 10,
    "damage_report_days": 7, "refund_card_upi_days": "5-7", "refund_cod_days": "7-10",
    "warranty_months_electronics": 12, "warranty_months_cables": 6, "warranty_days_other": 90,
}

_POLICY = """# {name} store policy

## Shipping
- Standard delivery takes {standard_days} business days. It is free on orders of ₹{free_shipping_min_inr} or more; below that a ₹{standard_fee_inr} fee applies.
- Express delivery takes {express_days} business days and costs ₹{express_fee_inr} extra (Delhi, Mumbai, Bengaluru, Chennai, Hyderabad, Kolkata, Pune).
- Orders placed before 2 pm ship the same business day. Every shipped order gets a carrier and tracking number by SMS and email.
- Cash on delivery is available for orders up to ₹{cod_max_inr:,} with a ₹{cod_fee_inr} fee.

## Returns
- Most items can be returned within {return_days} days of delivery, unused and in the original packaging. Return pickup is free.
- Skincare can be returned only unopened and sealed, within {skincare_return_days} days of delivery.
- Items that arrive damaged, defective or wrong must be reported within {damage_report_days} days of delivery; we replace or refund them.

## Refunds
- A refund starts once the returned item passes inspection (within 2 business days of pickup).
- Card, UPI and wallet payments are refunded in {refund_card_upi_days} business days; cash-on-delivery orders by bank transfer in {refund_cod_days} business days.
- Cancelled orders that were prepaid are refunded on the same timelines. Shipping fees are refunded only for damaged, defective or wrong items.

## Warranty
- Headphones, phones, laptops, smart watches and kitchen appliances: at least {warranty_months_electronics} months of manufacturer warranty from delivery (some products list 24 months).
- Cables, chargers and power banks: at least {warranty_months_cables} months. Shoes, bags and home goods: {warranty_days_other} days against manufacturing defects. Skincare has no warranty.
- Warranty covers manufacturing defects, not physical or liquid damage. Claims need the order id.

## Cancellations
- An order can be cancelled free of charge until it ships (status "processing").
- Once shipped it cannot be cancelled: refuse the delivery or return it after delivery, and the refund timelines above apply.

## 中文说明
- 配送：标准配送{standard_days}个工作日，订单满₹{free_shipping_min_inr}免运费，不满收取₹{standard_fee_inr}运费；加急配送{express_days}个工作日，加收₹{express_fee_inr}。下午2点前下单当天发货，发货后短信和邮件通知物流单号。货到付款限₹{cod_max_inr}以内，手续费₹{cod_fee_inr}。
- 退货：签收后{return_days}天内可退货（未使用、原包装），免费上门取件。护肤品仅限未拆封，签收后{skincare_return_days}天内可退。破损、故障或发错货请在签收后{damage_report_days}天内反馈，我们负责换货或退款。
- 退款：退货验收通过后开始退款（取件后2个工作日内）。银行卡、UPI和钱包支付{refund_card_upi_days}个工作日到账；货到付款订单通过银行转账，{refund_cod_days}个工作日到账。
- 保修：耳机、手机、笔记本、智能手表和厨房电器至少{warranty_months_electronics}个月（部分商品24个月）；数据线、充电器和充电宝至少{warranty_months_cables}个月；鞋、包和家居用品{warranty_days_other}天；护肤品不保修。人为损坏和进水不在保修范围内。
- 取消订单：发货前（状态为"processing"）可免费取消；已发货的订单无法取消，可拒收或签收后申请退货。
"""


def store_policy(name: str = "Demo") -> str:
    return _POLICY.format(name=name, **POLICY_TERMS)


TOPICS = ("order_tracking", "refund", "product_question", "complaint", "cancel_order", "delivery_options")
CITIES = {"en": ("Pune", "Chennai", "Jaipur", "Kochi", "Bengaluru", "Lucknow"),
          "zh": ("浦那", "钦奈", "斋浦尔", "高知", "班加罗尔", "勒克瑙")}


def short_title(p: Product) -> str:
    return p.title.split(" (")[0] if p.lang == "en" else " ".join(p.title.split()[:3])


Written = tuple[bool, list[dict[str, str]]]  # (angry, messages)


def _msgs(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"role": role, "text": text} for role, text in pairs]


def _days_since(order: Order) -> int:
    return (NOW - datetime.fromisoformat(order.updated_at)).days


def _tracking(rng: random.Random, order: Order | None, product: Product, lang: str) -> Written:
    late = order.estimated_delivery < NOW.date().isoformat()
    f = dict(oid=order.order_id, eta=order.estimated_delivery, tn=order.tracking_number, carrier=order.carrier,
             title=short_title(product))
    zh = lang == "zh"
    if late or (order.status == "shipped" and rng.random() < 0.25):
        text = ("订单{oid}说好{eta}送到，到现在还没收到！你们到底怎么回事？" if zh else
                "This is ridiculous. Order {oid} was due by {eta} and it's STILL not here. Where is my {title}?")
        return True, _msgs(("customer", text.format(**f)))
    if order.status == "processing":
        text = ("你好，订单{oid}一直显示processing，什么时候发货？{eta}之前能到吗？" if zh else
                "Hi, my order {oid} still says processing. When will it ship? Will it arrive by {eta}?")
        return False, _msgs(("customer", text.format(**f)))
    if zh:
        return False, _msgs(("customer", "你好，我的订单{oid}（{title}）现在到哪里了？".format(**f)),
                            ("agent", "您好，请稍等，我帮您查询一下。"),
                            ("customer", "好的。{carrier}的物流单号{tn}好像一直没有更新。".format(**f)))
    return False, _msgs(("customer", "Hi, where is my order {oid}? It says it should arrive by {eta}.".format(**f)),
                        ("agent", "Hello! Let me check that for you."),
                        ("customer", "Thanks. The {carrier} tracking number {tn} hasn't updated since "
                                     "yesterday.".format(**f)))


def _refund(rng: random.Random, order: Order | None, product: Product, lang: str) -> Written:
    """A returned order: where is the money (angry after a week); a delivered one: how to return it for a refund."""
    days = _days_since(order)
    f = dict(oid=order.order_id, title=short_title(product), days=days, date=order.updated_at[:10])
    zh = lang == "zh"
    if order.status == "delivered":
        text = ("你好，订单{oid}里的{title}我不想要了，怎么退货退款？钱多久能到账？" if zh else
                "Hi, I'd like to return the {title} from order {oid} and get a refund. How long does the refund take?")
        return False, _msgs(("customer", text.format(**f)))
    if days > 7:
        text = ("订单{oid}退货都{days}天了，钱还没退回来！再不处理我就投诉了！" if zh else
                "It's been {days} days since you picked up my return for order {oid} and I still haven't got my "
                "money back. This is unacceptable!")
        return True, _msgs(("customer", text.format(**f)))
    text = ("你好，我{date}退回了订单{oid}里的{title}，退款什么时候能到账？" if zh else
            "Hello, I returned the {title} from order {oid} on {date}. When will I get my refund?")
    return False, _msgs(("customer", text.format(**f)))


def _question(rng: random.Random, order: Order | None, product: Product, lang: str) -> Written:
    a = product.attributes
    battery, wet = "battery_hours" in a or "battery_days" in a, "waterproof" in a or "water_resistance" in a
    f = dict(pid=product.product_id, title=short_title(product), price=int(product.price or 0))
    if lang == "zh":
        options = ["{title}（{pid}）值得买吗？评价怎么样？", "{pid}保修多久？坏了怎么处理？", "{title}还有别的颜色吗？"]
        options += ["{title}的续航实际能用多久？"] if battery else []
        options += ["{pid}防水吗？下雨天能用吗？"] if wet else []
    else:
        options = ["Is the {title} ({pid}) worth it at ₹{price}? How are the reviews?",
                   "What warranty comes with {pid}, and what if it stops working?",
                   "Is the {title} available in other colours?"]
        options += ["How long does the battery on the {title} really last?"] if battery else []
        options += ["Is {pid} waterproof? Can I use it in the rain?"] if wet else []
    return False, _msgs(("customer", rng.choice(options).format(**f)))


def _complaint(rng: random.Random, order: Order | None, product: Product, lang: str) -> Written:
    f = dict(oid=order.order_id, title=short_title(product))
    powered = product.category[0] in ("Electronics", "Computers") or product.category[-1] == "Kitchen Appliances"
    if lang == "zh":
        options = ["订单{oid}收到的{title}质量太差了，和图片完全不一样！我要退款！",
                   "订单{oid}晚到了好几天，外包装都压坏了，{title}也有损坏，必须给我换新的！"]
        options += ["订单{oid}的{title}用了一个星期就坏了，你们怎么做质检的？"] if powered else []
    else:
        options = ["Worst experience ever. The {title} (order {oid}) is nothing like the pictures. Fix this!",
                   "Order {oid} arrived days late with a crushed box, and the {title} inside is damaged. "
                   "I want a replacement NOW."]
        options += ["The {title} from order {oid} stopped working after a week. Really disappointed with the "
                    "quality!"] if powered else []
    return True, _msgs(("customer", rng.choice(options).format(**f)))


def _cancel(rng: random.Random, order: Order | None, product: Product, lang: str) -> Written:
    f = dict(oid=order.order_id, title=short_title(product))
    if lang == "zh":
        text = rng.choice(("请帮我取消订单{oid}，我买错了。", "订单{oid}还没发货吧？我不想要{title}了，帮我取消。"))
        return False, _msgs(("customer", text.format(**f)))
    text = rng.choice(("Please cancel my order {oid}, I ordered the wrong item.",
                       "I want to cancel {oid}, I found the {title} cheaper elsewhere. It hasn't shipped yet, right?"))
    return False, _msgs(("customer", text.format(**f)))


def _delivery(rng: random.Random, order: Order | None, product: Product, lang: str) -> Written:
    f = dict(title=short_title(product), city=rng.choice(CITIES[lang]), fee=POLICY_TERMS["free_shipping_min_inr"])
    if lang == "zh":
        text = rng.choice(("能加急送到{city}吗？我想周六之前收到{title}。", "订单不满₹{fee}要运费吗？{title}能货到付款吗？"))
        return False, _msgs(("customer", text.format(**f)))
    text = rng.choice(("Do you have express delivery to {city}? I need the {title} before Saturday.",
                       "Is shipping free if my order is under ₹{fee}? Can I pay cash on delivery for the {title}?"))
    return False, _msgs(("customer", text.format(**f)))


# topic -> (order statuses it is about, or None for no order; at most this many days since the order's last update;
# writer)
_WRITERS = {
    "order_tracking": (("shipped", "processing"), 30, _tracking), "refund": (("returned", "delivered"), 20, _refund),
    "product_question": (None, 0, _question), "complaint": (("delivered",), 20, _complaint),
    "cancel_order": (("processing", "shipped"), 30, _cancel), "delivery_options": (None, 0, _delivery),
}


def _candidates(users: list[User], orders: list[Order], statuses: tuple[str, ...] | None,
                max_days: int) -> list[tuple[User, Order | None]]:
    """Everyone for order-less topics; otherwise the users of matching orders updated in the last max_days."""
    if statuses is None:
        return [(u, None) for u in users]
    by_user = {u.user_id: u for u in users}
    return [(by_user[o.user_id], o) for o in orders if o.status in statuses and _days_since(o) <= max_days]


def _choose(rng: random.Random, pool: list[tuple[User, Order | None]], statuses: tuple[str, ...] | None,
            used: set[str], n: int, n_zh: int) -> list[tuple[User, Order | None]]:
    """n candidates from distinct unused users, n_zh of them Chinese-speaking where possible, preferring orders
    in the topic's first status (so tracking leaves the rare "processing" orders to cancellations)."""
    pool = [c for c in pool if c[0].user_id not in used]
    rng.shuffle(pool)
    pool.sort(key=lambda c: c[1] is not None and c[1].status != statuses[0])
    zh = [c for c in pool if c[0].lang == "zh"][:n_zh]
    rest = [c for c in pool if c not in zh]
    chosen: list[tuple[User, Order | None]] = []
    for c in zh + rest:
        if len(chosen) < n and c[0].user_id not in {u.user_id for u, _ in chosen}:
            chosen.append(c)
    return chosen


def _pick_product(rng: random.Random, order: Order | None, products: dict[str, Product], user: User,
                  viewed: dict[str, list[str]]) -> Product:
    if order is not None:
        return products[rng.choice(order.items).product_id]
    seen = viewed.get(user.user_id) or list(products)
    return products[rng.choice(seen)]


def generate_conversations(rng: random.Random, users: list[User], orders: list[Order], products: dict[str, Product],
                           viewed: dict[str, list[str]], per_topic: int = 5) -> list[dict[str, Any]]:
    """per_topic conversations for each topic, each by a different user, in the user's language; ids C001.."""
    out, used = [], set()
    for topic in TOPICS:
        statuses, max_days, writer = _WRITERS[topic]
        pool = _candidates(users, orders, statuses, max_days)
        for user, order in _choose(rng, pool, statuses, used, per_topic, n_zh=2):
            used.add(user.user_id)
            product = _pick_product(rng, order, products, user, viewed)
            angry, messages = writer(rng, order, product, user.lang)
            start = NOW - timedelta(hours=rng.uniform(0.5, 48))
            if order is not None:  # not before the order's last update
                start = min(NOW, max(start, datetime.fromisoformat(order.updated_at) + timedelta(minutes=20)))
            out.append({"conversation_id": f"C{len(out) + 1:03d}", "user_id": user.user_id, "lang": user.lang,
                        "topic": topic, "order_id": order.order_id if order else None,
                        "product_id": product.product_id, "mood": "angry" if angry else "calm",
                        "created_at": iso(start), "messages": messages})
    return out
