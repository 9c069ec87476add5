"""The trained insight models of one index (sentiment, recommender, intent), loaded on first use.

Artefacts live in `<index>/models/<name>/` (written by `shopassist train ...` or the demo build).
When an artefact is absent the registry falls back to a real, simpler method and says so in its
output (`method`): lexicon sentiment, popularity + content recommendations, behaviour-count
propensity. Knows nothing about prompts or sessions beyond the behaviour counts it is given.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


class Insights:
    def __init__(self, models_dir: str | Path | None = None):
        self.models_dir = Path(models_dir) if models_dir else None
        self._cache: dict[str, Any] = {}

    def _load(self, name: str, loader) -> Any:
        if name not in self._cache:
            path = self.models_dir / name if self.models_dir else None
            model = None
            if path is not None and path.exists():
                try:
                    model = loader(path)
                except Exception as e:  # a broken artefact degrades to the fallback, loudly
                    log.warning("could not load %s model from %s: %s", name, path, e)
            self._cache[name] = model
        return self._cache[name]

    # ---- reviews ----------------------------------------------------------------------------
    def sentiment_model(self):
        from assistant.insights.sentiment import SentimentModel

        return self._load("sentiment", SentimentModel.load)

    def summarize(self, reviews, aspect: str | None, lang: str, product_id: str) -> dict:
        from assistant.insights.aspects import summarize_reviews

        summary = summarize_reviews(reviews, aspect=aspect, model=self.sentiment_model(), lang=lang,
                                    product_id=product_id)
        return summary.to_dict()

    # ---- recommendations --------------------------------------------------------------------
    def recommender(self):
        try:
            from assistant.insights.recommend import load_recommender
        except ImportError:
            return None
        return self._load("recommend", load_recommender)

    def recommend(self, index, user_id: str | None, context: str | None, k: int) -> list[dict]:
        context_vec = index.embedder.embed_queries([context])[0] if context else None
        model = self.recommender()
        if model is not None:
            # the request steers the candidates: products search finds for it (all, when none match)
            candidates = None
            if context:
                hits = index.search(context, None, k=60)
                candidates = {h.product_id for h in hits if h.relevant} or {h.product_id for h in hits}
            recs = model.recommend(user_id, k=k, candidate_filter=candidates)
            return [{"product_id": r.product_id, "reasons": list(r.reasons), "evidence": dict(r.evidence),
                     "score": float(r.score)} for r in recs]
        return self._popular_in_context(index, user_id, context_vec, k)

    @staticmethod
    def _popular_in_context(index, user_id: str | None, context_vec, k: int) -> list[dict]:
        """Fallback without a trained model: popularity (rating x log count), steered by the request."""
        store = index.store
        owned = {i.product_id for i in store.interactions if i.user_id == user_id and i.event == "purchase"}
        ids = [pid for pid in store.products if pid not in owned]
        pop = np.array([(store.products[p].rating or 0) * np.log1p(store.products[p].rating_count or 0) for p in ids])
        score = pop / (pop.max() or 1)
        if context_vec is not None:
            sims = np.array([float(index.vector_of(p) @ context_vec) for p in ids])
            score = 0.3 * score + 0.7 * (sims - sims.min()) / (np.ptp(sims) or 1)
        top = np.argsort(-score)[:k]
        out = []
        for i in top:
            p = store.products[ids[i]]
            where = p.category[-1] if p.category else "the store"
            out.append({"product_id": p.product_id, "score": float(score[i]),
                        "reasons": [f"popular in {where}" + (" and close to what you asked for" if context_vec is not None else "")],
                        "evidence": {"rating": p.rating, "rating_count": p.rating_count}})
        return out

    # ---- intent ----------------------------------------------------------------------------
    def dialogue_intent(self, text: str, context: list[str] | None = None) -> tuple[str, float]:
        from assistant.insights.intent import DialogueIntentClassifier

        model = self._load("dialogue_intent", DialogueIntentClassifier.load)
        if model is None:  # no artefact: train from the built-in seeds once per process
            model = self._cache["dialogue_intent"] = DialogueIntentClassifier()
        return model.predict(text, context)

    def purchase_propensity(self, session, store) -> dict:
        from assistant.insights.intent import PurchasePropensityModel, train_propensity

        model = self._load("purchase_propensity", PurchasePropensityModel.load)
        if model is None:
            try:  # no artefact: train from the store's own sessions (seconds on the demo store)
                model = self._cache["purchase_propensity"] = train_propensity(store)
            except ValueError as e:
                return {"probability": None, "method": "unavailable", "reason": str(e)}
        behaviour = dict(session.behaviour())
        if session.user_id:
            behaviour["returning"] = bool(store.orders_of(session.user_id))
        return model.explain_session(behaviour)
