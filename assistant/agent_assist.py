"""Agent assist: reading a customer-service conversation and drafting replies grounded in the store's data.

`analyse_conversation` says what the customer wants (customer-service intent with its confidence, and
the reply family it calls for), how they feel (sentiment of their messages), how likely they are to buy
(purchase propensity with its top factors) and whether a human should take over (the intent model is
unsure, or the customer is upset). `suggest_replies` drafts three replies from facts only
(`assistant.agent_replies`: the customer's own order, the product's record, the store policy, each
cited); with a backend, an LLM may rephrase them under one time limit (`assistant.agent_phrase`).

Orders are only ever read for the conversation's own customer. Knows nothing about the UI or HTTP.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from assistant.agent_models import AgentModels, find_artefacts  # noqa: F401  (the console's public names)
from assistant.agent_phrase import PHRASE_LIMIT_S, Phrasing, phrase, phrase_all  # noqa: F401
from assistant.agent_policy import PolicyLine, find_policy, policy_lines  # noqa: F401
from assistant.agent_replies import REPLY_FAMILIES, ReplyFacts, Suggestion, builders
from retrieval.schema import Order
from retrieval.store import Store

# customer-service intent -> how the reply is built
FAMILIES = {
    "track_order": "tracking", "delivery_period": "tracking",
    "get_refund": "refund", "track_refund": "refund", "check_refund_policy": "refund",
    "cancel_order": "cancel", "check_cancellation_fee": "cancel", "change_order": "cancel",
    "complaint": "complaint", "contact_human_agent": "complaint", "contact_customer_service": "complaint",
    "review": "complaint",
    "delivery_options": "delivery", "change_shipping_address": "delivery", "set_up_shipping_address": "delivery",
    "check_payment_methods": "delivery", "payment_issue": "delivery", "place_order": "delivery",
    "product_question": "product", "product_problem": "complaint",
}
NEGATIVE_SENTIMENT = -0.35   # customer tone at or below this counts as upset
FAMILY_CONFIDENCE = 0.5      # below this the intent model is "unsure"
# ids inside Chinese text have no word boundary ("订单O10574（"): only ASCII letters and digits delimit them
_ORDER_ID = re.compile(r"(?<![A-Za-z0-9])O\d{4,}(?![0-9])")
_PRODUCT_ID = re.compile(r"(?<![A-Za-z0-9])P\d{4,}(?![0-9])")
# Signs of anger a lexicon misses (exclamations, shouting, ultimatums); each one found is named in the reasons.
_ANGER_WORDS = re.compile(r"[!！]|unacceptable|ridiculous|worst|terrible|disappointed|fix this|still not|"
                          r"投诉|太差|怎么回事|必须|不像话|还没退|气死", re.I)
_SHOUTING = re.compile(r"\b[A-Z]{4,}\b|\b(?:NOW|NOT|WHY|ASAP)\b")
# product questions, for intent models trained before they had an intent of their own
_PRODUCT_Q = re.compile(r"warranty|waterproof|rain|colou?r|battery|worth|reviews?|保修|防水|颜色|续航|值得|评价", re.I)


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


def classifier_text(conversation: dict[str, Any], store: Store | None = None) -> str:
    """The customer's words as the intent model reads them, with Bitext-style placeholders: order ids as
    {{Order Number}}, the customer's tracking numbers as {{Tracking Number}} and the products they name as
    {{Product}} (a product's name says which product, not what the customer wants: "I need the Stridex
    Running Shoes before Saturday" is about delivery)."""
    text = " ".join(customer_texts(conversation))
    if store is not None:
        for order in own_orders(store, conversation):
            if order.tracking_number:
                text = text.replace(order.tracking_number, "{{Tracking Number}}")
        for pid in _products(store, conversation):
            text = _mask_product(text, store.products[pid].title, pid)
    return _ORDER_ID.sub("{{Order Number}}", text)


def _mask_product(text: str, title: str, product_id: str, generic: str = "{{Product}}") -> str:
    """The longest leading part of the title (two words at least) and the product id, as `generic`."""
    words = title.split()
    for k in range(len(words), 1, -1):
        name = re.compile(r"(?:\bthe\s+)?" + re.escape(" ".join(words[:k])), re.I)
        if name.search(text):
            text = name.sub(generic, text)
            break
    return re.sub(r"(?:\bthe\s+)?(?<![A-Za-z0-9])" + re.escape(product_id) + r"(?![A-Za-z0-9])", generic, text)


def rank_families(cs, text: str, has_order: bool) -> tuple[list[tuple[str, float]], str, float, list]:
    """Reply families by probability (an intent's family gets its intents' probabilities summed), plus the
    top intent, its confidence and the runners-up. Intents with no family of their own stay apart."""
    pred = cs.predict(text)
    probs = cs.model.predict_proba([text])[0]
    fam_p: dict[str, float] = {}
    for label, p in zip(cs.model.classes, probs):
        fam = FAMILIES.get(label, label)
        fam_p[fam] = fam_p.get(fam, 0.0) + float(p)
    ranked = sorted(((f, p) for f, p in fam_p.items() if f in REPLY_FAMILIES), key=lambda x: -x[1])
    if "product_question" not in cs.model.classes and not has_order and _PRODUCT_Q.search(text):
        # a model trained before product questions had an intent (an older index): read them by their words
        ranked = [("product", max(FAMILY_CONFIDENCE, ranked[0][1] if ranked else 0.0))] + \
            [(f, p) for f, p in ranked if f != "product"]
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
    ranked, intent, conf, alts = rank_families(models.cs_intent(), classifier_text(conversation, store),
                                               bool(orders))
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


def reply_facts(store: Store, conversation: dict[str, Any], analysis: Analysis) -> ReplyFacts:
    """What the drafts may use: the customer's own order and product, the policy, their mood."""
    orders = [store.orders[o] for o in analysis.order_ids]
    user = store.users.get(conversation.get("user_id") or "")
    return ReplyFacts(store, conversation, analysis.lang, user.name if user else "", orders[0] if orders else None,
                      store.products.get(analysis.product_ids[0]) if analysis.product_ids else None,
                      policy_lines(store.policy), " ".join(customer_texts(conversation)),
                      upset=analysis.sentiment == "negative")


def suggest_replies(store: Store, conversation: dict[str, Any], analysis: Analysis | None = None,
                    models: AgentModels | None = None, backend=None,
                    phrase_limit_s: float = PHRASE_LIMIT_S) -> list[Suggestion]:
    """Three draft replies for the conversation's last customer message, each with what it cites; with a
    backend, reworded by the LLM where it finishes within phrase_limit_s and keeps every fact."""
    if analysis is None:
        analysis = analyse_conversation(store, conversation, models or AgentModels(store))
    facts = reply_facts(store, conversation, analysis)
    make = builders()
    families = [f for f, _ in analysis.families if f in make] or ["tracking" if facts.order else "product"]
    drafts = {f: make[f](facts) for f in families}
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
        suggestions = phrase_all(suggestions, backend, analysis.lang, phrase_limit_s).suggestions
    return suggestions
