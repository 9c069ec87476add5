"""Lexicon sentiment scores in [-1, 1] (VADER for English, SnowNLP for Chinese) and the language test that
picks between them. They are the fallback when no trained model exists and the baselines it is compared with.

Knows texts and lexicons; knows nothing about stores, labels or trained models.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

import numpy as np

from assistant.insights.text_cache import TextVectorCache

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def is_chinese(text: str) -> bool:
    """A review's language for the lexicons: Chinese when CJK characters outnumber a third of the Latin letters
    (a mixed review counts as Chinese). A shopper's message is read by retrieval.text.detect_lang instead."""
    cjk = len(_CJK.findall(text))
    return cjk > 0 and cjk >= len(_LATIN.findall(text)) / 3


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    return SentimentIntensityAnalyzer()


def vader_score(text: str) -> float:
    """VADER compound score in [-1, 1] (English)."""
    return float(_vader().polarity_scores(text)["compound"])


def snownlp_score(text: str) -> float:
    """SnowNLP positive probability mapped to [-1, 1] (Chinese)."""
    from snownlp import SnowNLP
    return 2.0 * float(SnowNLP(text).sentiments) - 1.0 if text.strip() else 0.0


def lexicon_score(text: str) -> float:
    """Lexicon sentiment in [-1, 1]: SnowNLP for Chinese text, VADER otherwise."""
    return snownlp_score(text) if is_chinese(text) else vader_score(text)


def lexicon_scores(texts: Sequence[str], cache: bool = True, progress: bool = False) -> np.ndarray:
    """Lexicon scores for many texts; SnowNLP is slow (~50 ms a review), so scores are cached on disk."""
    def compute(batch: list[str]) -> np.ndarray:
        return np.array([lexicon_score(t) for t in batch], dtype=np.float32)

    if not cache:
        return compute(list(texts))
    return TextVectorCache("lexicon", "score-v1", compute, progress=progress).get(texts)[:, 0]
