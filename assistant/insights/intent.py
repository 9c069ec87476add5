"""Intent models, by what each knows (this module only re-exports them, so older imports keep working):

- text_classifier.py `TextClassifier`: word + character TF-IDF (or e5) into a calibrated linear SVM.
- service_intent.py `CSIntentClassifier`: customer-service intents with a confidence (agent console).
- dialogue_intent.py `DialogueIntentClassifier`: browse | compare | purchase | support | chitchat per turn.
- propensity_features.py: the UCI Online Shoppers + conversation feature space.
- propensity.py `PurchasePropensityModel`: calibrated gradient-boosted trees with TreeSHAP factors.
- session_signals.py `SessionSignals`: a live session mapped into that feature space.
- propensity_training.py: training sets from the store's own sessions or the UCI data, `train_propensity`.
- seed_tables.py: the seed utterances and slot values, TSV files in assistant/insights/seeds/.

`_best_f1_threshold` is the old name of `best_f1_threshold`. TextClassifier artefacts saved before the split
pickle their tokenizer as `assistant.insights.intent._words`: it stays importable from here.
"""
from __future__ import annotations

from assistant.insights.dialogue_intent import (
    DIALOGUE_INTENTS, RULE_BONUS, DialogueIntentClassifier, dialogue_seed_data,
)
from assistant.insights.model_meta import MODEL_VERSION
from assistant.insights.propensity import Factor, Propensity, PurchasePropensityModel, best_f1_threshold
from assistant.insights.propensity_features import (
    BASE_FEATURES, CONVERSATION, FEATURE_TEXT, MONTHS, UCI_CATEGORICAL, UCI_NUMERIC, VISITOR, uci_features,
    with_engineered,
)
from assistant.insights.propensity_training import SESSION_GAP_S, store_sessions, train_propensity
from assistant.insights.service_intent import (
    CSIntentClassifier, CSPrediction, cs_seed_data, read_labelled_file,
)
from assistant.insights.session_signals import SessionSignals
from assistant.insights.text_classifier import TextClassifier, _words

__all__ = [
    "BASE_FEATURES", "CONVERSATION", "CSIntentClassifier", "CSPrediction", "DIALOGUE_INTENTS",
    "DialogueIntentClassifier", "FEATURE_TEXT", "Factor", "MODEL_VERSION", "MONTHS", "Propensity",
    "PurchasePropensityModel", "RULE_BONUS", "SESSION_GAP_S", "SessionSignals", "TextClassifier", "UCI_CATEGORICAL",
    "UCI_NUMERIC", "VISITOR", "_best_f1_threshold", "best_f1_threshold", "_words", "cs_seed_data", "dialogue_seed_data",
    "read_labelled_file", "store_sessions", "train_propensity", "uci_features", "with_engineered",
]

_best_f1_threshold = best_f1_threshold
