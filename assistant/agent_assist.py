"""Agent assist: reading a customer-service conversation and drafting replies grounded in the store's data.

`analyse_conversation` says what the customer wants (customer-service intent with its confidence),
how they feel (sentiment of their messages), how likely they are to buy (purchase propensity with its
top factors) and whether a human should take over (the intent model is unsure, or the customer is
upset). `suggest_replies` drafts three replies from facts only: the customer's own order (status,
carrier, tracking number, ETA, dates), the product's catalogue record and the store policy, quoted
sentence by sentence; each suggestion lists what it cites ("order O10574.tracking_number",
"policy §Refunds"). With a backend, an LLM may rephrase a draft; a rephrasing that drops or invents a
number, date or id is discarded and the template kept.

Orders are only ever read for the conversation's own customer. Knows nothing about the UI or HTTP.
"""
from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from assistant.render import money
from retrieval.schema import Order, Product
from retrieval.store import Store

log = logging.getLogger(__name__)

# customer-service intent -> how the reply is built
FAMILIES = {
    "track_order": "tracking", "delivery_period": "tracking",
    "get_refund": "refund", "track_refund": "refund", "check_refund_policy": "refund",
    "cancel_order": "cancel", "check_cancellation_fee": "cancel", "change_order": "cancel",
    "complaint": "complaint", "contact_human_agent": "complaint", "contact_customer_service": "complaint",
    "review": "complaint",
    "delivery_options": "delivery", "change_shipping_address": "delivery", "set_up_shipping_address": "delivery",
    "check_payment_methods": "delivery", "payment_issue": "delivery", "place_order": "delivery",
}
NEGATIVE_SENTIMENT = -0.35   # customer tone at or below this counts as upset
FAMILY_CONFIDENCE = 0.5      # below this the intent model is "unsure"
_ORDER_ID = re.compile(r"\bO\d{4,}\b")
_PRODUCT_ID = re.compile(r"\bP\d{4,}\b")
# Signs of anger a lexicon misses (exclamations, shouting, ultimatums); each one found is named in the reasons.
_ANGER_WORDS = re.compile(r"[!！]|unacceptable|ridiculous|worst|terrible|disappointed|fix this|still not|"
                          r"投诉|太差|怎么回事|必须|不像话|还没退|气死", re.I)
_SHOUTING = re.compile(r"\b[A-Z]{4,}\b|\b(?:NOW|NOT|WHY|ASAP)\b")
_PRODUCT_Q = re.compile(r"warranty|waterproof|rain|colou?r|battery|worth|reviews?|保修|防水|颜色|续航|值得|评价", re.I)


@dataclass
class Suggestion:
    text: str
    cites: list[str]
    kind: str            # answer | policy | follow_up
    topic: str = ""      # the reply family it answers: tracking, refund, cancel, complaint, delivery, product
    phrased: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Analysis:
    conversation_id: str
    lang: str
    intent: str
    confidence: float
    family: str
    family_confidence: float
    alternatives: list[tuple[str, float]]
    sentiment: str               # negative | neutral | positive
    sentiment_score: float       # [-1, 1]
    propensity: dict[str, Any]   # probability, factors [{feature, description, value, contribution, direction}]
    needs_human: bool
    reasons: list[str]
    order_ids: list[str]         # the customer's own orders the conversation is about
    product_ids: list[str]
    families: list[tuple[str, float]] = field(default_factory=list)  # reply families, most likely first

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---- models ---------------------------------------------------------------------------------------

def find_artefacts(models_dir: str | Path | None) -> dict[str, Path]:
    """Trained model folders under models_dir, by the `name` in their meta.json (any layout)."""
    out: dict[str, Path] = {}
    if models_dir and Path(models_dir).is_dir():
        for meta in sorted(Path(models_dir).rglob("meta.json")):
            try:
                name = json.loads(meta.read_text(encoding="utf-8")).get("name")
            except (OSError, ValueError):
                continue
            if name and name not in out:
                out[name] = meta.parent
    return out


class AgentModels:
    """The models the console reads, loaded (or, when absent, trained from built-in data) once.

    cs_intent: the saved classifier, else one trained on the built-in bilingual seeds (~20 s).
    sentiment: the VADER (English) / SnowNLP (Chinese) lexicons.
    propensity: the saved model, else one trained on the store's own sessions (a few seconds).
    """

    def __init__(self, store: Store, models_dir: str | Path | None = None, insights=None, cs_intent=None,
                 sentiment_fn=None, propensity=None, dialogue_intent=None):
        """cs_intent, sentiment_fn (texts -> scores), propensity and dialogue_intent replace the loaded
        models (tests, callers that already hold them)."""
        self.store, self.insights = store, insights
        self.artefacts = find_artefacts(models_dir)
        self._cs, self._sentiment_fn, self._prop = cs_intent, sentiment_fn, propensity
        self._dialogue = dialogue_intent
        self._prop_failed = False
        self._lock = threading.RLock()  # UI and API threads share one set of models

    def warm(self) -> "AgentModels":
        """Load (or train) every model now rather than on the first conversation."""
        self.cs_intent(), self.propensity_model(), self.dialogue_intent(), self.sentiment(["ok"])
        return self

    def cs_intent(self):
        with self._lock:
            return self._load_cs()

    def _load_cs(self):
        if self._cs is None:
            from assistant.insights.intent import CSIntentClassifier

            path = self.artefacts.get(CSIntentClassifier.NAME)
            if path is not None:
                try:
                    self._cs = CSIntentClassifier.load(path)
                except Exception as e:  # stale or broken artefact: say so, then train as if absent
                    log.warning("could not load the customer-service intent model from %s: %s", path, e)
            if self._cs is None:
                log.info("training a customer-service intent model on the built-in seeds")
                self._cs = CSIntentClassifier.train()
        return self._cs

    def sentiment(self, texts: list[str]) -> list[float]:
        """Tone of each message in [-1, 1]. The lexicons (VADER, SnowNLP), not the store's review model:
        measured on the demo's conversations, a model trained on product reviews reads service requests
        ("please cancel my order") as praise and complaints as neutral; the lexicons do not."""
        if self._sentiment_fn is not None:
            return [float(x) for x in self._sentiment_fn(texts)]
        from assistant.insights.sentiment import lexicon_score

        return [float(lexicon_score(t)) for t in texts]

    def propensity_model(self):
        with self._lock:
            return self._load_propensity()

    def _load_propensity(self):
        if self._prop is None and not self._prop_failed:
            from assistant.insights import intent

            path = self.artefacts.get("purchase_propensity")
            try:
                self._prop = (intent.PurchasePropensityModel.load(path) if path is not None
                              else intent.train_propensity(self.store))
            except Exception as e:
                log.warning("no purchase-propensity model: %s", e)
                self._prop_failed = True
        return self._prop

    def dialogue_intent(self):
        with self._lock:
            return self._load_dialogue()

    def _load_dialogue(self):
        if self._dialogue is None:
            if self.insights is not None:  # share the assistant's classifier (training it takes seconds)
                self._dialogue = _InsightsDialogue(self.insights)
            else:
                from assistant.insights.intent import DialogueIntentClassifier

                path = self.artefacts.get(DialogueIntentClassifier.NAME)
                try:
                    self._dialogue = DialogueIntentClassifier.load(path) if path else None
                except Exception as e:
                    log.warning("could not load the dialogue intent model from %s: %s", path, e)
                self._dialogue = self._dialogue or DialogueIntentClassifier()
        return self._dialogue


class _InsightsDialogue:
    def __init__(self, insights):
        self.insights = insights

    def predict(self, text: str, context=None) -> tuple[str, float]:
        return self.insights.dialogue_intent(text, context)


# ---- analysis -------------------------------------------------------------------------------------

def customer_texts(conversation: dict[str, Any]) -> list[str]:
    return [m["text"] for m in conversation.get("messages", []) if m.get("role") == "customer" and m.get("text")]


def conversation_lang(conversation: dict[str, Any], store: Store | None = None) -> str:
    """The customer's language: Chinese when CJK characters outnumber a third of the Latin letters, not
    counting words of the products' titles (a Chinese product name does not make a message Chinese, nor an
    English one an English message)."""
    from assistant.insights.sentiment import is_chinese

    texts = customer_texts(conversation)
    if not texts:
        return conversation.get("lang") or "en"
    titles = " ".join(store.products[p].title for p in _products(store, conversation)) if store else ""
    words = [w for w in re.findall(r"[A-Za-z0-9']+|[\u3400-\u9fff]+", " ".join(texts)) if w not in titles]
    return "zh" if is_chinese(" ".join(words)) else "en"


def own_orders(store: Store, conversation: dict[str, Any]) -> list[Order]:
    """Orders the conversation is about, only ever the customer's own: the ticket's order, then ids quoted."""
    uid = conversation.get("user_id")
    ids = [conversation.get("order_id")] + _ORDER_ID.findall(" ".join(customer_texts(conversation)))
    out = []
    for oid in dict.fromkeys(i for i in ids if i):
        order = store.orders.get(oid)
        if order is not None and order.user_id == uid:
            out.append(order)
    return out


def _products(store: Store, conversation: dict[str, Any]) -> list[str]:
    ids = _PRODUCT_ID.findall(" ".join(customer_texts(conversation))) + [conversation.get("product_id")]
    return [p for p in dict.fromkeys(i for i in ids if i) if p in store.products]


def classifier_text(conversation: dict[str, Any]) -> str:
    """The customer's words as the intent model was trained on them: order ids as {{Order Number}}."""
    return _ORDER_ID.sub("{{Order Number}}", " ".join(customer_texts(conversation)))


def rank_families(cs, text: str, has_order: bool) -> tuple[list[tuple[str, float]], str, float, list]:
    """Reply families by probability (an intent's family gets its intents' probabilities summed), plus the
    top intent, its confidence and the runners-up. Intents with no family of their own stay apart."""
    pred = cs.predict(text)
    probs = cs.model.predict_proba([text])[0]
    fam_p: dict[str, float] = {}
    for label, p in zip(cs.model.classes, probs):
        fam = FAMILIES.get(label, label)
        fam_p[fam] = fam_p.get(fam, 0.0) + float(p)
    ranked = sorted(((f, p) for f, p in fam_p.items() if f in _BUILDERS), key=lambda x: -x[1])
    if not has_order and _PRODUCT_Q.search(text):
        # a question about a product with no order in sight: the service intents have no label for it
        ranked = [("product", max(FAMILY_CONFIDENCE, ranked[0][1] if ranked else 0.0))] + ranked
    return ranked, pred.intent, pred.confidence, pred.alternatives


def _tone(models: AgentModels, texts: list[str], lang: str) -> tuple[float, str, list[str]]:
    """(tone in [-1, 1], label, anger cues). The latest message weighs most: it is the mood the agent answers.
    A lexicon score alone over-reads negativity in plain Chinese questions (SnowNLP learnt from product
    reviews), so "negative" needs a sign of anger, a strongly negative English score, or two signs."""
    scores = models.sentiment(texts) if texts else [0.0]
    tone = 0.6 * scores[-1] + 0.4 * (sum(scores) / len(scores))
    cues = sorted({m.group(0).strip().lower() for t in texts for rx in (_ANGER_WORDS, _SHOUTING)
                   for m in rx.finditer(t)})
    upset = (tone <= NEGATIVE_SENTIMENT and bool(cues)) or len(cues) >= 2 or (lang == "en" and tone <= -0.6)
    if upset:
        return min(tone, NEGATIVE_SENTIMENT), "negative", cues
    if lang == "zh" and tone < 0:
        tone = tone / 2  # uncorroborated lexicon negativity
    return tone, "positive" if tone >= 0.35 else "neutral", cues


def _propensity(models: AgentModels, conversation: dict[str, Any], texts: list[str], tone: float,
                products: list[str]) -> dict[str, Any]:
    model = models.propensity_model()
    if model is None:
        return {"probability": None, "factors": [], "model": "unavailable"}
    from assistant.insights.intent import SessionSignals

    started = conversation.get("created_at")
    signals = SessionSignals.from_conversation(
        texts, viewed_product_ids=products, page_values=model.page_values,
        started_at=datetime.fromisoformat(started) if started else None,
        returning=bool(models.store.orders_of(conversation.get("user_id") or "")),
        intent_classifier=models.dialogue_intent(), sentiment_fn=lambda t: tone)
    p = model.predict_session(signals, top=3).to_dict()
    return {"probability": p["probability"], "factors": p["factors"], "model": p["model"]}


def analyse_conversation(store: Store, conversation: dict[str, Any], models: AgentModels) -> Analysis:
    texts = customer_texts(conversation)
    lang = conversation_lang(conversation, store)
    orders = own_orders(store, conversation)
    ranked, intent, conf, alts = rank_families(models.cs_intent(), classifier_text(conversation), bool(orders))
    family, fam_conf = ranked[0] if ranked else ("other", 0.0)
    tone, label, cues = _tone(models, texts, lang)
    reasons = []
    if fam_conf < FAMILY_CONFIDENCE:
        reasons.append(f"intent model unsure ({intent} {conf:.0%}; {family} replies {fam_conf:.0%})")
    if intent == "contact_human_agent":
        reasons.append("customer asked for a human")
    if label == "negative":
        reasons.append(f"customer upset (tone {tone:+.2f}" + (f"; {' '.join(cues[:4])}" if cues else "") + ")")
    products = _products(store, conversation)
    return Analysis(conversation.get("conversation_id", ""), lang, intent, round(conf, 3), family,
                    round(fam_conf, 3), [(a, round(p, 3)) for a, p in alts], label, round(tone, 3),
                    _propensity(models, conversation, texts, tone, products), bool(reasons), reasons,
                    [o.order_id for o in orders], products, [(f, round(p, 3)) for f, p in ranked[:3]])


# ---- policy ---------------------------------------------------------------------------------------

ZH_SECTIONS = {"配送": "Shipping", "退货": "Returns", "退款": "Refunds", "保修": "Warranty", "取消订单": "Cancellations"}


@dataclass
class PolicyLine:
    section: str
    lang: str
    text: str


def policy_lines(policy: str) -> list[PolicyLine]:
    """Sentences of a markdown policy with their section ('## Refunds'); a Chinese section's bullets that
    start with a known topic ('退款：') file under that topic's English section."""
    out, section = [], ""
    for raw in policy.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            section = line.lstrip("#").strip()
            continue
        if not line.startswith("- "):
            continue
        body = line[2:].strip()
        head, sep, rest = body.partition("：")
        if sep and head in ZH_SECTIONS:
            out += [PolicyLine(ZH_SECTIONS[head], "zh", s + "。") for s in re.split(r"。", rest) if s.strip()]
        else:
            zh = bool(re.search(r"[\u4e00-\u9fff]", body))
            out += [PolicyLine(section, "zh" if zh else "en", s.strip()) for s in re.split(r"(?<=\.)\s+", body)
                    if s.strip()]
    return out


def find_policy(lines: list[PolicyLine], section: str, lang: str, *any_of: str) -> PolicyLine | None:
    for line in lines:
        if line.section == section and line.lang == lang and (not any_of or any(w in line.text.lower() for w in any_of)):
            return line
    return None


# ---- suggestions ----------------------------------------------------------------------------------

@dataclass
class _Facts:
    store: Store
    conversation: dict[str, Any]
    lang: str
    name: str
    order: Order | None
    product: Product | None
    policy: list[PolicyLine]
    text: str

    @property
    def zh(self) -> bool:
        return self.lang == "zh"

    def rule(self, section: str, *en_words: str, zh_words: tuple[str, ...] = ()) -> PolicyLine | None:
        return find_policy(self.policy, section, self.lang, *(zh_words if self.zh else en_words)) or \
            find_policy(self.policy, section, "en", *en_words)

    def greet(self) -> str:
        if self.zh:
            return f"{self.name}您好，" if self.name else "您好，"
        return f"Hi {self.name.split()[0]}, " if self.name else "Hello, "

    def today(self) -> str:
        """The store's clock: the later of the conversation's start and the store's last order update
        (a demo store lives at its own date, so the machine's clock would make every order look late)."""
        latest = max((o.updated_at for o in self.store.orders.values() if o.updated_at), default="")
        return max(self.conversation.get("created_at") or "", latest)[:10] or datetime.now().date().isoformat()


def _cite_policy(rule: PolicyLine | None) -> list[str]:
    return [f"policy §{rule.section}"] if rule else []


def _quote(rule: PolicyLine | None, zh: bool) -> str:
    if rule is None:
        return ""
    return f"按照我们的政策：{rule.text}" if zh else f'Our policy: "{rule.text}"'


def _s(text: str, cites: list[str], kind: str) -> Suggestion:
    return Suggestion(" ".join(text.split()), list(dict.fromkeys(cites)), kind)


def _order_cites(order: Order, *fields: str) -> list[str]:
    return [f"order {order.order_id}.{f}" for f in fields]


def _tracking(f: _Facts) -> list[Suggestion]:
    o, zh = f.order, f.zh
    if o is None:
        return _ask_order(f)
    late = bool(o.estimated_delivery) and o.estimated_delivery < f.today() and o.status in ("shipped", "processing")
    if o.status == "shipped":
        text = (f"{f.greet()}您的订单{o.order_id}已由{o.carrier}发出，物流单号{o.tracking_number}，预计{o.estimated_delivery}送达。"
                if zh else f"{f.greet()}your order {o.order_id} shipped with {o.carrier}, tracking number "
                f"{o.tracking_number}, and is estimated to arrive by {o.estimated_delivery}.")
        first = _s(text, _order_cites(o, "status", "carrier", "tracking_number", "estimated_delivery"), "answer")
    elif o.status == "processing":
        rule = f.rule("Shipping", "ship the same", zh_words=("当天发货",))
        text = (f"{f.greet()}您的订单{o.order_id}还在备货中（状态：processing），尚未发货，预计{o.estimated_delivery}送达。{_quote(rule, zh)}"
                if zh else f"{f.greet()}your order {o.order_id} is still being prepared (status: processing) and has "
                f"not shipped yet; it is estimated to arrive by {o.estimated_delivery}. {_quote(rule, zh)}")
        first = _s(text, _order_cites(o, "status", "estimated_delivery") + _cite_policy(rule), "answer")
    else:
        text = (f"{f.greet()}您的订单{o.order_id}当前状态为{o.status}（更新于{o.updated_at[:10]}）。" if zh else
                f"{f.greet()}order {o.order_id} is {o.status} (last update {o.updated_at[:10]}).")
        first = _s(text, _order_cites(o, "status", "updated_at"), "answer")
    if late:
        text = (f"非常抱歉，订单{o.order_id}原定{o.estimated_delivery}送达，已经晚了。我会马上联系{o.carrier or '仓库'}核实，并在这里给您答复。"
                if zh else f"I'm sorry: order {o.order_id} was due by {o.estimated_delivery} and is late. I'm checking "
                f"with {o.carrier or 'our warehouse'} right now and will update you here.")
        second = _s(text, _order_cites(o, "estimated_delivery") + (_order_cites(o, "carrier") if o.carrier else []),
                    "follow_up")
    else:
        rule = f.rule("Shipping", "tracking number", zh_words=("物流单号",))
        text = (f"物流信息有时要一两天才会更新。{_quote(rule, zh)}" if zh else
                f"Carrier tracking can take a day or two to update. {_quote(rule, zh)}")
        second = _s(text, _cite_policy(rule), "policy")
    return [first, second, _damage_note(f)]


def _damage_note(f: _Facts) -> Suggestion:
    rule = f.rule("Returns", "damaged", zh_words=("破损",))
    text = (f"如果收到的商品有破损或问题，请告诉我们。{_quote(rule, True)}" if f.zh else
            f"If anything arrives damaged or wrong, just tell us here. {_quote(rule, False)}")
    return _s(text, _cite_policy(rule), "policy")


def _refund(f: _Facts) -> list[Suggestion]:
    o, zh = f.order, f.zh
    if o is None:
        return _ask_order(f)
    timeline = f.rule("Refunds", "refunded in", zh_words=("到账",))
    start = f.rule("Refunds", "inspection", zh_words=("验收",))
    if o.status == "returned":
        text = (f"{f.greet()}我们已收到您订单{o.order_id}的退货（更新于{o.updated_at[:10]}）。{_quote(start, zh)}"
                if zh else f"{f.greet()}we have your return for order {o.order_id} (status: returned, updated "
                f"{o.updated_at[:10]}). {_quote(start, zh)}")
        first = _s(text, _order_cites(o, "status", "updated_at") + _cite_policy(start), "answer")
        days = (datetime.fromisoformat(f.today()) - datetime.fromisoformat(o.updated_at[:10])).days
        # the longest timeline the policy states (+2 days of inspection); past it the refund is overdue
        longest = max((int(n) for n in re.findall(r"\d+", timeline.text)), default=0) + 2 if timeline else 0
        overdue = bool(longest) and days > longest
        if zh:
            text = f"退款时间：{_quote(timeline, zh)} 距离取件已经{days}天，" + (
                "已超出时限，我会帮您加急核查这笔退款。" if overdue else "仍在正常处理时间内。")
        else:
            text = (f"On timing: {_quote(timeline, zh)} It has been {days} day{'s' if days != 1 else ''} since the "
                    "pickup, " + ("which is longer than it should take, so I'm escalating this refund to our "
                                  "payments team now." if overdue else "so it is still within that time."))
        second = _s(text, _order_cites(o, "updated_at") + _cite_policy(timeline), "follow_up" if overdue else "policy")
    elif o.status != "delivered":  # not delivered yet: cancel while it can be, refuse or return after
        first = _cancel(f)[0]
        second = _s(_quote(timeline, zh) + (" " + _quote(start, zh) if start else ""),
                    _cite_policy(timeline) + _cite_policy(start), "policy")
    else:
        window = f.rule("Returns", "within", zh_words=("天内可退货",))
        text = (f"{f.greet()}订单{o.order_id}（状态：{o.status}，{o.updated_at[:10]}）可以申请退货。{_quote(window, zh)}"
                if zh else f"{f.greet()}you can return items from order {o.order_id} (status: {o.status}, "
                f"{o.updated_at[:10]}). {_quote(window, zh)}")
        first = _s(text, _order_cites(o, "status", "updated_at") + _cite_policy(window), "answer")
        second = _s(_quote(timeline, zh) + (" " + _quote(start, zh) if start else ""),
                    _cite_policy(timeline) + _cite_policy(start), "policy")
    return [first, second, _handoff(f, "refund")]


def _cancel(f: _Facts) -> list[Suggestion]:
    o, zh = f.order, f.zh
    if o is None:
        return _ask_order(f)
    free = f.rule("Cancellations", "free of charge", zh_words=("免费取消",))
    shipped = f.rule("Cancellations", "cannot be cancelled", zh_words=("无法取消",))
    if o.status == "processing":
        text = (f"{f.greet()}订单{o.order_id}还没有发货（状态：processing），可以免费取消。{_quote(free, zh)}" if zh else
                f"{f.greet()}order {o.order_id} has not shipped yet (status: processing), so it can be cancelled "
                f"free of charge. {_quote(free, zh)}")
        first = _s(text, _order_cites(o, "status") + _cite_policy(free), "answer")
    else:
        track = f"（{o.carrier} {o.tracking_number}）" if zh and o.carrier else f" ({o.carrier} {o.tracking_number})" if o.carrier else ""
        text = (f"{f.greet()}订单{o.order_id}的状态是{o.status}{track}。{_quote(shipped, zh)}" if zh else
                f"{f.greet()}order {o.order_id} is already {o.status}{track}. {_quote(shipped, zh)}")
        cites = _order_cites(o, "status") + (_order_cites(o, "carrier", "tracking_number") if o.carrier else [])
        first = _s(text, cites + _cite_policy(shipped), "answer")
    refund = f.rule("Refunds", "cancelled", zh_words=("到账",))
    text = (f"退款说明：{_quote(refund, zh)}" if zh else f"About the refund: {_quote(refund, zh)}")
    return [first, _s(text, _cite_policy(refund), "policy"),
            _s("我现在就为您处理，请确认是否取消整个订单？" if zh else
               f"Shall I go ahead with the whole order {o.order_id}? Please confirm and I'll take care of it.",
               _order_cites(o, "order_id"), "follow_up")]


def _complaint(f: _Facts) -> list[Suggestion]:
    o, zh = f.order, f.zh
    if o is None:
        return [_s(("非常抱歉给您带来不好的体验。" if zh else "I'm very sorry about this experience. ")
                   + ("请告诉我订单号，我马上处理。" if zh else "Could you share the order number so I can fix it right away?"),
                   [], "follow_up"), _handoff(f, "complaint"), _damage_note(f)]
    damage = f.rule("Returns", "damaged", zh_words=("破损",))
    days = (datetime.fromisoformat(f.today()) - datetime.fromisoformat(o.updated_at[:10])).days
    limit = re.search(r"(\d+)\s*(?:days|天)", damage.text) if damage else None
    inside = limit is not None and o.status == "delivered" and days <= int(limit.group(1))
    if zh:
        text = (f"{f.greet()}非常抱歉！订单{o.order_id}于{o.updated_at[:10]}签收，距今{days}天。{_quote(damage, True)}"
                + ("您仍在可申请期限内，我们会为您换货或退款。" if inside else ""))
    else:
        text = (f"{f.greet()}I'm truly sorry. Order {o.order_id} was {o.status} on {o.updated_at[:10]}, {days} "
                f"day{'s' if days != 1 else ''} ago. {_quote(damage, False)}" + (" You're within that window, so we'll replace or refund it."
                                                    if inside else ""))
    first = _s(text, _order_cites(o, "status", "updated_at") + _cite_policy(damage), "answer")
    warranty = f.rule("Warranty", "defects", zh_words=("保修",))
    text = (f"如果是质量问题：{_quote(warranty, True)}" if zh else f"If it is a defect: {_quote(warranty, False)}")
    second = _s(text, _cite_policy(warranty), "policy")
    return [first, second, _handoff(f, "complaint")]


def _delivery(f: _Facts) -> list[Suggestion]:
    zh, words = f.zh, f.text.lower()
    topics = [("express", ("express", "before"), ("加急",)), ("free on orders", ("free", "fee", "under"), ("运费", "免运费")),
              ("cash on delivery", ("cash", "cod"), ("货到付款",)), ("2 pm", ("when", "ship"), ("发货",))]
    rules = []
    for en_key, en_words, zh_words in topics:
        rule = f.rule("Shipping", en_key, zh_words=zh_words if zh else ())
        if rule is not None and rule not in rules:
            asked = any(w in (f.text if zh else words) for w in (zh_words if zh else en_words))
            rules.insert(0, rule) if asked else rules.append(rule)
    first = _s(f.greet() + " ".join(r.text for r in rules[:2]), [c for r in rules[:2] for c in _cite_policy(r)], "answer")
    second = _s(" ".join(r.text for r in rules[2:4]) or _quote(f.rule("Shipping"), zh),
                [c for r in rules[2:4] for c in _cite_policy(r)] or ["policy §Shipping"], "policy")
    third = _s("请告诉我您的收货城市和想买的商品，我帮您确认配送方式和到货时间。" if zh else
               "If you tell me your delivery city and the items, I'll confirm the options and timing for your order.",
               [], "follow_up")
    return [first, second, third]


def _product_answer(f: _Facts) -> list[Suggestion]:
    p, zh = f.product, f.zh
    if p is None:
        return _ask_order(f)
    a = p.attributes
    facts, cites = [], []
    for key, en, zh_name in (("color", "colour", "颜色"), ("warranty_months", "warranty (months)", "保修月数"),
                             ("waterproof", "waterproof", "防水"), ("water_resistance", "water resistance", "防水等级"),
                             ("battery_hours", "battery (hours)", "续航小时"), ("battery_days", "battery (days)", "续航天数")):
        if key in a:
            value = a[key] if not isinstance(a[key], bool) else ("是" if a[key] else "否") if zh else \
                ("yes" if a[key] else "no")
            facts.append(f"{zh_name}：{value}" if zh else f"{en}: {value}")
            cites.append(f"product {p.product_id}.attributes.{key}")
    price = money(p.price, p.currency)
    rating = (f"，评分{p.rating:g}/5（{p.rating_count}条评价）" if zh else f", rated {p.rating:g}/5 from {p.rating_count} reviews") \
        if p.rating is not None else ""
    text = (f"{f.greet()}{p.title}（{p.product_id}）售价{price}{rating}。" + "；".join(facts) if zh else
            f"{f.greet()}the {p.title} ({p.product_id}) costs {price}{rating}. " + "; ".join(facts) + ("." if facts else ""))
    first = _s(text, [f"product {p.product_id}.price"] + ([f"product {p.product_id}.rating"] if rating else []) + cites,
               "answer")
    warranty = f.rule("Warranty", "at least", zh_words=("至少",))
    claims = f.rule("Warranty", "claims", zh_words=("进水",))
    second = _s(_quote(warranty, zh) + (" " + claims.text if claims else ""), _cite_policy(warranty), "policy")
    third = _s("还有其他想了解的吗？我可以帮您比较同类商品。" if zh else
               "Anything else you'd like to know? I can compare it with similar products for you.", [], "follow_up")
    return [first, second, third]


def _ask_order(f: _Facts) -> list[Suggestion]:
    return [_s("请提供您的订单号，我马上帮您查询。" if f.zh else
               "Could you share your order number? I'll look it up right away.", [], "follow_up"),
            _handoff(f, "other"), _damage_note(f)]


def _handoff(f: _Facts, topic: str) -> Suggestion:
    ref = f" {f.order.order_id}" if f.order else ""
    text = (f"给您带来不便非常抱歉。我已将此问题{('（订单' + ref.strip() + '）') if ref else ''}转给专人处理，我们会尽快在这里回复您。"
            if f.zh else f"I'm sorry for the trouble. I've passed this{(' (order' + ref + ')') if ref else ''} to a "
            f"specialist on our team, who will reply here as soon as possible.")
    return _s(text, _order_cites(f.order, "order_id") if f.order else [], "follow_up")


_BUILDERS = {"tracking": _tracking, "refund": _refund, "cancel": _cancel, "complaint": _complaint,
             "delivery": _delivery, "product": _product_answer}


def suggest_replies(store: Store, conversation: dict[str, Any], analysis: Analysis | None = None,
                    models: AgentModels | None = None, backend=None) -> list[Suggestion]:
    """Three draft replies for the conversation's last customer message, each with what it cites."""
    if analysis is None:
        analysis = analyse_conversation(store, conversation, models or AgentModels(store))
    orders = [store.orders[o] for o in analysis.order_ids]
    user = store.users.get(conversation.get("user_id") or "")
    facts = _Facts(store, conversation, analysis.lang, user.name if user else "", orders[0] if orders else None,
                   store.products.get(analysis.product_ids[0]) if analysis.product_ids else None,
                   policy_lines(store.policy), " ".join(customer_texts(conversation)))
    families = [f for f, _ in analysis.families if f in _BUILDERS] or ["tracking" if facts.order else "product"]
    drafts = {f: _BUILDERS[f](facts) for f in families}
    for f, items in drafts.items():
        for item in items:
            item.topic = f
    if analysis.family_confidence >= FAMILY_CONFIDENCE or len(families) == 1:
        suggestions = drafts[families[0]][:3]
    else:  # unsure: one answer for each likely reading of the message, best first, then the rest
        ordered = [drafts[f][0] for f in families[:3]] + [s for f in families for s in drafts[f][1:]]
        suggestions = []
        for s in ordered:
            if len(suggestions) < 3 and s.text not in {x.text for x in suggestions}:
                suggestions.append(s)
    if backend is not None:
        suggestions = [phrase(s, backend, analysis.lang) for s in suggestions]
    return suggestions


# ---- optional LLM phrasing ------------------------------------------------------------------------

_FACT_TOKEN = re.compile(r"[A-Z]{1,3}\d{3,}|\d{4}-\d{2}-\d{2}|\d+(?:[.,]\d+)*")


def phrase(s: Suggestion, backend, lang: str, timeout_s: float = 30.0) -> Suggestion:
    """An LLM rewording of a draft; kept only if it has exactly the draft's ids, dates and numbers."""
    instruction = ("把下面的客服回复改写得更自然、更有礼貌。必须保留所有数字、日期、编号和政策内容，不要添加新的事实。只输出改写后的回复。"
                   if lang == "zh" else "Rewrite this customer-service reply to sound warm and natural. Keep every "
                   "number, date, id and policy statement exactly; add no new facts. Output only the reply.")
    try:
        gen = backend.generate([{"role": "user", "content": f"{instruction}\n\n{s.text}"}], max_tokens=220,
                               timeout_s=timeout_s)
        text = (gen.text if hasattr(gen, "text") else str(gen)).strip()
    except Exception as e:  # the template is always a valid answer
        log.warning("phrasing a suggestion failed: %s", e)
        return s
    if not text or set(_FACT_TOKEN.findall(text)) != set(_FACT_TOKEN.findall(s.text)) or len(text) > 3 * len(s.text):
        return s
    return Suggestion(text, s.cites, s.kind, s.topic, phrased=True)
