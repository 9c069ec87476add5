"""Per-turn dialogue intent for the dialogue engine: browse | compare | purchase | support | chitchat, in
English and Chinese. A TextClassifier trained on seed templates (assistant/insights/seeds/dialogue_intents.tsv,
slots filled from dialogue_slots.tsv), with high-precision keyword rules and the session context acting as
priors on its probabilities.

Knows utterances and the five intents; knows nothing about tools, products or the UI.
"""
from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from assistant.insights.lexicon import is_chinese
from assistant.insights.seed_tables import read_table
from assistant.insights.text_classifier import TextClassifier

DIALOGUE_INTENTS = ("browse", "compare", "purchase", "support", "chitchat")

_RULES: dict[str, list[re.Pattern]] = {
    "purchase": [re.compile(r"\b(add (?:one|another|\d+) more|add(?: \w+){0,4} to (?:my |the )?(?:cart|basket|bag)|"
                            r"i'?ll (?:take|buy)|buy (?:it|this|that|the|them|one|two)|check ?out|"
                            r"place (?:the|my|an) order|proceed to pay\w*|order it)\b", re.I),
                 re.compile(r"加入购物车|加到购物车|加购|下单|结算|就买|就要这|我要买(?:这|那|第)|去付款")],
    "support": [re.compile(r"\b(o\d{5}|refund|return (?:it|the|this|policy)|track(?:ing)?|where is my|"
                           r"cancel (?:my|the) order|order status|status of my|invoice|warranty|human|agent|"
                           r"log ?in|password|"
                           r"charged twice|damaged|wrong item|exchange|courier|(?:current |order |delivery )status|"
                           r"(?:my|'s|past|previous) orders|order history)\b", re.I),
                re.compile(r"订单|退货|退款|换货|快递还没|物流信息|发货了吗|发票|人工|客服|登录|密码|扣款|发错|保修")],
    "compare": [re.compile(r"\b(compare|comparison|vs\.?|versus|difference|differ|better than|"
                           r"\w+er than (?:the|that|this|it)|which (?:one |of (?:these|them|the \w+) )?"
                           r"(?:is|has|should|would)|pros and cons|side by side)\b", re.I),
                re.compile(r"比较|对比|区别|哪个好|哪个更|哪款更|哪款好|选哪个|比一比|有什么不同|哪个性价比")],
    "chitchat": [re.compile(r"^(hi|hello|hey|thanks?(?: you)?(?: so much)?|bye|good (?:morning|evening|night)|ok|okay|"
                            r"cool|nice|lol|who are you|what can you do)[\s!.?,]*$", re.I),
                 re.compile(r"^(你好|您好|嗨|谢谢|多谢|再见|好的|哈哈+|早上好|晚安|你是谁|你能做什么)[\s！!。？?，]*$")],
}
RULE_BONUS = 2.5  # added to the model's log-probability of a label whose rule fires


def dialogue_seed_data(variants: int = 6, seed: int = 0) -> tuple[list[str], list[str]]:
    """Seed utterances with their slots filled `variants` times (distinct fillings only)."""
    rng = random.Random(seed)
    texts, labels = [], []
    for label, templates in read_table("dialogue_intents.tsv").items():
        for template in templates:
            seen = set()
            for _ in range(variants if "{" in template else 1):
                text = _fill(template, rng)
                if text not in seen:
                    seen.add(text)
                    texts.append(text)
                    labels.append(label)
    return texts, labels


def _fill(template: str, rng: random.Random) -> str:
    zh, slots = is_chinese(template), read_table("dialogue_slots.tsv")
    b, b2 = rng.sample(slots["b"], 2)
    return template.format(p=rng.choice(slots["p_zh" if zh else "p_en"]), b=b, b2=b2, n=rng.choice(slots["n"]),
                           a=rng.choice(slots["a_zh" if zh else "a_en"]), o=rng.choice(slots["o"]),
                           k=rng.choice(slots["k_zh" if zh else "k"]))


class DialogueIntentClassifier:
    """Per-turn intent: browse | compare | purchase | support | chitchat (English and Chinese).

    `context` (optional): {"shown_products": int, "last_intent": str}. With two or more products on
    screen, "which one ..." leans to compare; a short follow-up leans to the previous intent.
    """

    NAME = "dialogue_intent"

    def __init__(self, model: TextClassifier | None = None):
        self.model = model or TextClassifier(c=10.0, kind="lr").fit(*dialogue_seed_data())

    def predict(self, text: str, context: dict | Sequence[str] | None = None) -> tuple[str, float]:
        """(label, confidence). `context`: {"shown_products": int, "last_intent": str}, or the previous
        user turns (the last one's intent is then used as last_intent)."""
        text = (text or "").strip()
        if not text:
            return "chitchat", 1.0
        if context is not None and not isinstance(context, dict):
            previous = [t for t in context if isinstance(t, str) and t.strip()]
            context = {"last_intent": self.predict(previous[-1])[0]} if previous else {}
        logp = np.log(np.clip(self.model.predict_proba([text])[0], 1e-6, 1.0))
        index = {c: i for i, c in enumerate(self.model.classes)}
        for label, patterns in _RULES.items():
            if any(p.search(text) for p in patterns):
                logp[index[label]] += RULE_BONUS
        self._context_priors(text, context or {}, logp, index)
        p = np.exp(logp - logp.max())
        p /= p.sum()
        best = int(p.argmax())
        return self.model.classes[best], float(p[best])

    @staticmethod
    def _context_priors(text: str, context: dict, logp: np.ndarray, index: dict[str, int]) -> None:
        shown = int(context.get("shown_products") or 0)
        if shown >= 2 and re.search(r"\bwhich\b|哪个|哪款|哪一个", text, re.I):
            logp[index["compare"]] += 1.0
        last = context.get("last_intent")
        if last in index and len(text) <= 25:
            logp[index[last]] += 0.5

    def save(self, directory: str | Path) -> Path:
        return self.model.save(directory, self.NAME)

    @classmethod
    def load(cls, directory: str | Path) -> "DialogueIntentClassifier":
        return cls(TextClassifier.load(directory, cls.NAME))
