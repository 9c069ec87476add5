"""Weak sentiment labels from star ratings (1-2 negative, 3 neutral, 4-5 positive) and the text a review
is classified on.

Knows reviews and ratings; knows nothing about classifiers.
"""
from __future__ import annotations

from typing import Iterable

from assistant.insights.lexicon import is_chinese

NEGATIVE, NEUTRAL, POSITIVE = "negative", "neutral", "positive"


def star_label(rating: float | None, neutral: bool = False) -> str | None:
    """1-2 stars negative, 4-5 positive, 3 neutral (or None when the model is 2-way); None when unrated."""
    if rating is None:
        return None
    if rating <= 2:
        return NEGATIVE
    if rating >= 4:
        return POSITIVE
    return NEUTRAL if neutral else None


def review_text(review) -> str:
    """The text a review is classified on: its title (when it adds something) and body."""
    title, text = (review.title or "").strip(), (review.text or "").strip()
    if not title or title in text:
        return text
    zh = is_chinese(title)
    if title[-1] in ".!?。！？":
        return f"{title}{'' if zh else ' '}{text}".strip()
    return f"{title}{'。' if zh else '. '}{text}".strip()


def weak_labels(reviews: Iterable, neutral: bool = False) -> tuple[list[str], list[str]]:
    """(texts, labels) from star ratings; reviews without text or a usable rating are skipped."""
    texts, labels = [], []
    for r in reviews:
        label, text = star_label(r.rating, neutral), review_text(r)
        if label is not None and text:
            texts.append(text)
            labels.append(label)
    return texts, labels
