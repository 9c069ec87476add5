"""Writes one demo review from a product's latent aspect qualities.

A reviewer remarks on 0-3 aspects, the ones that stand out most likely; each remark is positive or negative
with a probability set by the aspect's latent quality, and strong or mild. Stars follow the remarks (and the
product's overall quality), so text and stars agree: a product with a bad battery gets mostly negative battery
remarks and lower stars. Knows nothing about users, dates or ids; the caller decides who writes and when.
"""
from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass

from retrieval.demo_review_words import (
    CATEGORY_CLAUSES, CLAUSES, CLOSERS, INTENSIFIERS, JOIN_CONTRAST, JOIN_SAME, NEG_INTENSIFIERS, OPENERS,
    SUBJECT_TEMPLATES, SUBJECTS, TITLES,
)


@dataclass(frozen=True)
class WrittenReview:
    stars: int
    title: str
    text: str
    mentions: tuple[tuple[str, int], ...]  # (aspect, strength): +2 strongly positive .. -2 strongly negative


def _pick_aspects(rng: random.Random, qualities: dict[str, float], n: int) -> list[str]:
    """n distinct aspects; the extreme ones (very good or very bad) are the ones people talk about."""
    pool = list(qualities)
    weights = [0.4 + abs(qualities[a]) for a in pool]
    chosen: list[str] = []
    for _ in range(min(n, len(pool))):
        i = rng.choices(range(len(pool)), weights)[0]
        chosen.append(pool.pop(i))
        weights.pop(i)
    return chosen


def _strength(rng: random.Random, q: float) -> int:
    positive = rng.random() < 1 / (1 + math.exp(-4.5 * q))
    strong = rng.random() < min(0.95, 0.3 + 0.7 * abs(q))
    return (2 if strong else 1) * (1 if positive else -1)


def _stars(rng: random.Random, strengths: list[int], overall: float) -> int:
    """Stars from the remarks (complaints weigh more than praise) and the product's overall quality."""
    if strengths:
        weights = [1.5 if s < 0 else 1.0 for s in strengths]
        remarks = sum(s * w for s, w in zip(strengths, weights)) / (2 * sum(weights))
        score = 0.75 * remarks + 0.25 * overall + 0.15 + rng.gauss(0, 0.22)
    else:
        score = overall + 0.3 + rng.gauss(0, 0.35)
    stars = max(1, min(5, round(3 + 2.5 * score)))
    if strengths and all(s < 0 for s in strengths):
        stars = min(stars, 3 if min(strengths) == -1 else 2)
    if strengths and all(s > 0 for s in strengths):
        stars = max(stars, 3 if max(strengths) == 1 else 4)
    if strengths and all(abs(s) == 1 for s in strengths):  # lukewarm words, lukewarm stars
        stars = max(2, min(4, stars))
    return stars


def _clause(rng: random.Random, lang: str, category: str, aspect: str, strength: int) -> str:
    if abs(strength) == 2 and rng.random() < 0.6:
        bank = CATEGORY_CLAUSES.get((lang, aspect, category)) or CLAUSES[(lang, aspect)]
        return rng.choice(bank[0 if strength > 0 else 1])
    template = rng.choice(SUBJECT_TEMPLATES[lang][strength])
    intensifier = rng.choice((INTENSIFIERS if strength > 0 else NEG_INTENSIFIERS)[lang])
    return template.format(s=rng.choice(SUBJECTS[lang][aspect]), i=intensifier)


def _capitalize(text: str) -> str:
    return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


def _body(rng: random.Random, lang: str, category: str, mentions: tuple[tuple[str, int], ...]) -> str:
    clauses = [_clause(rng, lang, category, a, s) for a, s in mentions]
    body, used = clauses[0], set()
    for (_, prev), (_, cur), clause in zip(mentions, mentions[1:], clauses[1:]):
        if (prev > 0) != (cur > 0):
            joiners = JOIN_CONTRAST[(lang, "pos" if cur > 0 else "neg")]
        else:
            joiners = JOIN_SAME[lang]
        joiner = rng.choice([j for j in joiners if j not in used] or joiners)
        used.add(joiner)
        body += joiner + clause
    loud = max(abs(s) for _, s in mentions) == 2 and rng.random() < 0.3
    if lang == "zh":
        return body + ("！" if loud else "。")
    return _capitalize(body + ("!" if loud else "."))


def _text(rng: random.Random, lang: str, category: str, mentions: tuple[tuple[str, int], ...], stars: int) -> str:
    parts = []
    if mentions and rng.random() < 0.25:
        parts.append(rng.choice(OPENERS[lang]))
    if mentions:
        parts.append(_body(rng, lang, category, mentions))
    if not mentions or rng.random() < 0.5:
        parts.append(rng.choice(CLOSERS[lang][stars]))
    text = ("" if lang == "zh" else " ").join(parts)
    if lang == "en" and rng.random() < 0.08:  # some people type in lower case
        text = text.lower()
    return text


def write_review(rng: random.Random, qualities: dict[str, float], category: str, lang: str,
                 mood: float = 0.0) -> WrittenReview:
    """A review of a product with these latent qualities; mood shifts the reviewer (negative: grumpier)."""
    n_aspects = rng.choices((0, 1, 2, 3), (0.12, 0.33, 0.38, 0.17))[0]
    aspects = _pick_aspects(rng, qualities, n_aspects)
    mentions = tuple((a, _strength(rng, qualities[a] + mood)) for a in aspects)
    core = [q for a, q in qualities.items() if a != "delivery"]
    stars = _stars(rng, [s for _, s in mentions], sum(core) / len(core) + mood)
    title = rng.choice(TITLES[lang][stars])
    return WrittenReview(stars, title, _text(rng, lang, category, mentions, stars), mentions)
