"""What a live assistant session knows, mapped into the purchase-propensity feature space (table in
SessionSignals' docstring): counts of turns by intent, price questions, tone, products viewed, cart adds.

Knows sessions and conversations; knows nothing about the propensity model itself.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

import numpy as np

from assistant.insights.dialogue_intent import DialogueIntentClassifier
from assistant.insights.lexicon import lexicon_score
from assistant.insights.propensity_features import VISITOR


_PRICE_Q = re.compile(r"\b(price|cost|how much|cheaper|discount|deal|offer|budget|under \d+|rupees|₹)|多少钱|价格|便宜|"
                      r"优惠|打折|预算|\d+元", re.I)


@dataclass
class SessionSignals:
    """What a live assistant session knows, mapped into the UCI feature space.

    | model feature            | live session source                                                  |
    |--------------------------|----------------------------------------------------------------------|
    | ProductRelated           | distinct products the shopper saw (cards shown, get_product)         |
    | ProductRelated_Duration  | seconds from the session's first to its last product turn            |
    | Administrative(+Duration)| support turns (orders, account) and their seconds                    |
    | Informational(+Duration) | chit-chat / store-information turns and their seconds                |
    | BounceRates              | 1.0 for a single-turn session, else 0.0                              |
    | ExitRates                | 1 / (turns + products viewed): the share of "pages" that can be exits|
    | PageValues               | mean historical page value of the products viewed (store sessions:   |
    |                          | revenue of converting sessions that viewed it / its views), 0 if none|
    | Month, Weekend           | the session's start time                                             |
    | VisitorType              | Returning_Visitor when the user has past orders or events, else New  |
    | SpecialDay, OS, Browser, Region, TrafficType | unknown: the training median                     |
    | cart_adds, price_questions, comparison_turns, sentiment, n_turns | counted from the conversation|
    """

    product_views: int = 0
    product_seconds: float = 0.0
    support_turns: int = 0
    support_seconds: float = 0.0
    info_turns: int = 0
    info_seconds: float = 0.0
    n_turns: int = 0
    page_value: float = 0.0
    started_at: datetime | None = None
    returning: bool = False
    cart_adds: int = 0
    price_questions: int = 0
    comparison_turns: int = 0
    sentiment: float | None = None

    def features(self, defaults: dict[str, float] | None = None) -> dict[str, float]:
        defaults = defaults or {}
        when = self.started_at or datetime.now()
        pages = self.n_turns + self.product_views
        feats = {
            "Administrative": self.support_turns, "Administrative_Duration": self.support_seconds,
            "Informational": self.info_turns, "Informational_Duration": self.info_seconds,
            "ProductRelated": self.product_views, "ProductRelated_Duration": self.product_seconds,
            "BounceRates": 1.0 if self.n_turns <= 1 else 0.0, "ExitRates": 1.0 / max(pages, 1),
            "PageValues": self.page_value, "Month": when.month, "Weekend": int(when.weekday() >= 5),
            "VisitorType": VISITOR["Returning_Visitor" if self.returning else "New_Visitor"],
            "cart_adds": self.cart_adds, "price_questions": self.price_questions,
            "comparison_turns": self.comparison_turns, "n_turns": self.n_turns,
            "sentiment": np.nan if self.sentiment is None else self.sentiment,
        }
        for k in ("SpecialDay", "OperatingSystems", "Browser", "Region", "TrafficType"):
            feats[k] = defaults.get(k, np.nan)
        return {k: float(v) for k, v in feats.items()}

    @classmethod
    def from_behaviour(cls, b: dict, page_values: dict | None = None) -> "SessionSignals":
        """From the counts a session keeps (assistant.session.Session.behaviour()); optional keys:
        viewed (product ids), seconds, price_questions, sentiment, started_at, returning."""
        viewed = list(b.get("viewed") or [])
        values = [page_values.get(p, 0.0) for p in viewed] if page_values else []
        turns = int(b.get("turns", 0))
        seconds = float(b.get("seconds", 30.0 * turns))
        support = int(b.get("support_turns", 0))
        per_turn = seconds / max(turns, 1)
        return cls(product_views=int(b.get("products_seen", len(viewed))),
                   product_seconds=per_turn * max(turns - support, 0), support_turns=support,
                   support_seconds=per_turn * support, n_turns=turns,
                   page_value=float(np.mean(values)) if values else 0.0, started_at=b.get("started_at"),
                   returning=bool(b.get("returning", False)), cart_adds=int(b.get("cart_adds", 0)),
                   price_questions=int(b.get("price_questions", 0)), comparison_turns=int(b.get("comparisons", 0)),
                   sentiment=b.get("sentiment"))

    @classmethod
    def from_conversation(cls, user_turns: Sequence[str], turn_seconds: Sequence[float] | None = None,
                          viewed_product_ids: Iterable[str] = (), cart_adds: int = 0, page_values: dict | None = None,
                          started_at: datetime | None = None, returning: bool = False,
                          intent_classifier: DialogueIntentClassifier | None = None,
                          sentiment_fn=None) -> "SessionSignals":
        """Count the signals of a conversation: per-turn intents, price questions, tone, views, cart adds."""
        turns = [t for t in user_turns if t and t.strip()]
        secs = list(turn_seconds or [30.0] * len(turns))
        clf = intent_classifier or DialogueIntentClassifier()
        labels = [clf.predict(t)[0] for t in turns]
        viewed = list(dict.fromkeys(viewed_product_ids))
        values = [page_values.get(p, 0.0) for p in viewed] if page_values else []

        def secs_of(kinds):
            return float(sum(s for s, lab in zip(secs, labels) if lab in kinds))

        tone = [float(sentiment_fn(t) if sentiment_fn else lexicon_score(t)) for t in turns]
        return cls(product_views=len(viewed), product_seconds=secs_of({"browse", "compare", "purchase"}),
                   support_turns=labels.count("support"), support_seconds=secs_of({"support"}),
                   info_turns=labels.count("chitchat"), info_seconds=secs_of({"chitchat"}), n_turns=len(turns),
                   page_value=float(np.mean(values)) if values else 0.0, started_at=started_at, returning=returning,
                   cart_adds=cart_adds, price_questions=sum(bool(_PRICE_Q.search(t)) for t in turns),
                   comparison_turns=labels.count("compare"), sentiment=float(np.mean(tone)) if tone else None)
