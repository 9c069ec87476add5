"""Aspect summaries: clause splitting, the bilingual lexicon, counts with verbatim quotes, grounded phrasing."""
from __future__ import annotations

import re

import numpy as np
import pytest

from assistant.insights.aspects import (
    ReviewSummary, canonical_aspect, find_aspects, grounded, split_clauses, summarize_reviews,
)
from retrieval.schema import Review

NEG_WORDS = re.compile(r"dies|terrible|late|bad|poor|broke|damaged|太差|很慢|失望|不耐用|破损|不好", re.I)
POS_WORDS = re.compile(r"great|excellent|love|quick|fast|good|很好|不错|满意|很快|耐用", re.I)


class KeywordModel:
    """A stand-in classifier with a known answer: +0.9 for praise words, -0.9 for complaint words."""

    def __init__(self):
        self.seen: list[str] = []

    def polarity(self, texts):
        self.seen += list(texts)
        return np.array([-0.9 if NEG_WORDS.search(t) else 0.9 if POS_WORDS.search(t) else 0.0 for t in texts])


REVIEWS = [
    Review("r1", "p1", rating=5, text="The battery is excellent and the sound is great."),
    Review("r2", "p1", rating=2, text="Sound is great, but the battery dies in two hours. Delivery was late."),
    Review("r3", "p1", rating=4, text="音质很好，但是电池不耐用。"),
    Review("r4", "p1", rating=1, title="Awful", text="Delivery was late and the box was damaged, terrible."),
    Review("r5", "p1", rating=5, text="Love it."),
]


def test_clauses_split_on_punctuation_and_contrast_words():
    assert split_clauses("Sound is great, but the battery dies. Delivery was late!") == \
        ["Sound is great", "but the battery dies", "Delivery was late"]
    assert split_clauses("音质很好，但是电池不耐用。物流很快") == ["音质很好", "但是电池不耐用", "物流很快"]
    assert split_clauses("音质很好不过续航一般") == ["音质很好", "不过续航一般"]
    assert split_clauses("不但便宜而且好用") == ["不但便宜", "而且好用"]  # 不但 is not a contrast
    assert split_clauses("") == []


def test_lexicon_finds_aspects_in_both_languages():
    assert find_aspects("the battery dies fast") == ["battery"]
    assert find_aspects("续航太差了") == ["battery"]
    assert set(find_aspects("great value for money, fast delivery")) == {"value", "delivery"}
    assert find_aspects("屏幕很清晰") == ["display"]
    assert find_aspects("it is fine") == []
    assert find_aspects("the strap is soft", extra="strap") == ["strap"]
    assert find_aspects("batteryless design") == ["design"]  # word boundaries: no 'battery' inside a word


@pytest.mark.parametrize("name,key", [("battery", "battery"), ("电池", "battery"), ("Screen", "display"),
                                      ("屏幕", "display"), ("size", "fit"), ("尺码", "fit"), ("price", "value"),
                                      ("性价比", "value"), ("strap", "strap"), (None, None), ("  ", None)])
def test_canonical_aspect_accepts_keys_names_and_terms(name, key):
    assert canonical_aspect(name) == key


def test_summary_counts_each_review_once_per_aspect_with_verbatim_quotes():
    s = summarize_reviews(REVIEWS, model=KeywordModel(), lang="en")
    stats = {a.aspect: a for a in s.aspects}
    assert (stats["battery"].positive, stats["battery"].negative) == (1, 2)
    assert (stats["sound"].positive, stats["sound"].negative) == (3, 0)
    assert (stats["delivery"].positive, stats["delivery"].negative) == (0, 2)
    texts = {r.review_id: r.text for r in REVIEWS}
    for a in s.aspects:
        for e in a.evidence:
            assert e.quote in texts[e.review_id]
            assert (e.score > 0) == (e.sentiment == "positive")
    assert s.n_reviews == 5 and s.average_rating == 3.4 and s.method == "classifier"
    assert (s.positive, s.negative, s.neutral) == (2, 3, 0)  # whole reviews: a complaint word wins
    assert "5 reviews (average rating 3.4/5): 2 positive, 3 negative, 0 mixed or neutral." in s.summary
    assert "Praised: sound (3 positive, 0 negative" in s.summary and "Criticised:" in s.summary
    assert grounded(s.summary, s)


def test_one_aspect_summary_in_chinese_quotes_both_sides():
    s = summarize_reviews(REVIEWS, aspect="电池", model=KeywordModel(), lang="zh")
    assert s.aspect == "battery" and [a.aspect for a in s.aspects] == ["battery"]
    assert "其中3条提到电池：1条正面，2条负面" in s.summary
    assert "“电池不耐用”" in s.summary or "“但是电池不耐用”" in s.summary
    assert s.to_dict()["aspects"][0]["mentions"] == 3


def test_missing_aspect_and_no_reviews_are_said_plainly():
    s = summarize_reviews(REVIEWS, aspect="camera", model=KeywordModel(), lang="en")
    assert "None of the 5 reviews mention camera." in s.summary
    assert summarize_reviews([], lang="zh").summary == "该商品还没有评价。"
    free = summarize_reviews(REVIEWS, aspect="box", model=KeywordModel(), lang="en")
    assert free.aspects[0].aspect == "box" and free.aspects[0].negative == 1


def test_lexicon_fallback_without_a_model():
    reviews = [Review("a", "p", rating=5, text="The battery is excellent."),
               Review("b", "p", rating=1, text="The battery is terrible and useless."),
               Review("c", "p", rating=1, text="质量太差了，非常失望。")]
    s = summarize_reviews(reviews, lang="en")
    assert s.method == "lexicon"
    stats = {a.aspect: a for a in s.aspects}
    assert (stats["battery"].positive, stats["battery"].negative) == (1, 1)
    assert stats["quality"].negative == 1


def test_phrase_with_keeps_the_template_unless_the_llm_stays_grounded():
    s = summarize_reviews(REVIEWS, model=KeywordModel(), lang="en")
    ok = "Of 5 reviews, 3 are positive; buyers like the sound but 2 complain that \"the battery dies in two hours\"."
    assert s.phrase_with(lambda prompt: ok) == ok
    assert s.phrase_with(lambda prompt: "Of 7 reviews, most love it.") == s.summary      # invented number
    assert s.phrase_with(lambda prompt: 'People say "it is the best phone ever".') == s.summary  # invented quote

    def broken(prompt):
        raise RuntimeError("backend down")

    assert s.phrase_with(broken) == s.summary
    seen = []
    s.phrase_with(lambda prompt: seen.append(prompt) or "")
    assert '"n_reviews": 5' in seen[0] and s.summary in seen[0]


def test_demo_store_summaries_agree_with_the_star_ratings():
    """On the demo store, aspects criticised in 1-2 star reviews outnumber praise, and the reverse at 5 stars."""
    from assistant.insights.sentiment import SentimentConfig, train_from_store
    from retrieval.demo_store import build_demo_store
    from retrieval.store import Store

    store = build_demo_store()
    products = sorted(store.products)
    train = Store(reviews=[r for r in store.reviews if r.product_id in set(products[::2])])
    model = train_from_store(train, config=SentimentConfig(embeddings=False))
    held = [r for r in store.reviews if r.product_id in set(products[1::2])]
    low = summarize_reviews([r for r in held if r.rating <= 2], model=model)
    high = summarize_reviews([r for r in held if r.rating == 5], model=model)
    assert sum(a.negative for a in low.aspects) > 2 * sum(a.positive for a in low.aspects)
    assert sum(a.positive for a in high.aspects) > 5 * sum(a.negative for a in high.aspects)
    assert isinstance(low, ReviewSummary) and low.negative > low.positive and high.positive > 0.9 * high.n_reviews
