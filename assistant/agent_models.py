"""The models the agent console reads, loaded once per store: customer-service intent, message tone,
purchase propensity and per-turn dialogue intent.

Each is loaded from a trained artefact under the index's models folder when there is one, otherwise
trained from built-in data (or shared with the assistant's own insight models). Knows models and where
their files are; knows nothing about conversations, replies or the UI.
"""
from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from retrieval.store import Store

log = logging.getLogger(__name__)


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
                 sentiment_fn=None, propensity=None, dialogue_intent=None, with_propensity: bool = True):
        """cs_intent, sentiment_fn (texts -> scores), propensity and dialogue_intent replace the loaded
        models (tests, callers that already hold them); with_propensity=False skips that model (evaluations
        of intent and replies)."""
        self.store, self.insights = store, insights
        self.artefacts = find_artefacts(models_dir)
        self._cs, self._sentiment_fn, self._prop = cs_intent, sentiment_fn, propensity
        self._dialogue = dialogue_intent
        self._prop_failed = not with_propensity
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

