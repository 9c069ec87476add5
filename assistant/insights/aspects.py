"""Aspect-level review summaries: which aspects reviewers praise or criticise, with quoted evidence.

Pipeline: split each review into clauses (punctuation and contrast words such as "but" / "但是"), find
aspect terms in each clause from a bilingual lexicon, score each aspect clause with the sentiment
classifier (or, without one, VADER for English and SnowNLP for Chinese), then count per aspect and
keep the strongest clauses as verbatim quotes. The templated summary states only those counts and
quotes; `ReviewSummary.phrase_with(llm)` lets an LLM rephrase it and keeps the template when the
rephrasing adds a number or a quote the facts do not hold.

Knows reviews and the sentiment model; knows nothing about the store, tools or prompts of the dialogue.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np

from assistant.insights.sentiment import is_chinese, lexicon_score, review_text

# aspect key -> (English name, Chinese name, English terms (regex, word-bounded), Chinese terms (substrings))
ASPECTS: dict[str, tuple[str, str, str, str]] = {
    "battery": ("battery", "电池", r"batter(?:y|ies)|battery life|charge[sd]?|charging|recharg\w*|backup",
                "电池|续航|充电|充一次电|待机|电量|没电|掉电"),
    "sound": ("sound", "音质", r"sound\w*|audio|bass|treble|vocals?|volume|noise[- ]cancel\w*|speakers?|mic"
              r"|microphone|hiss|calls?", "音质|声音|音效|低音|高音|降噪|杂音|噪音|麦克风|音量|通话"),
    "comfort": ("comfort", "舒适", r"comfort\w*|uncomfortable|cushion\w*|padded|ear pain|ears hurt|blisters?"
                r"|straps? dig|strain", "舒服|舒适|难受|磨脚|勒肩|夹头|耳朵疼|脚就疼|肩膀疼|不累"),
    "fit": ("size/fit", "尺码", r"sizes?|sizing|fits?|fitting|too (?:tight|loose|small|big)|runs (?:small|large)"
            r"|true to size|width", "尺码|码数|大小|偏大|偏小|合身|合脚|挤脚|宽松|太紧"),
    "quality": ("quality", "质量", r"(?<!photo )(?<!sound )(?<!audio )(?<!camera )(?<!screen )(?<!display )"
                r"(?<!picture )(?<!call )(?<!image )(?<!video )quality|build|built|"
                r"material|sturdy|durable|flimsy|broke|broken|defective"
                r"|stitching|zips?|zippers?|fabric|plastic|peeling|tore|worn out|sole",
                "质量|做工|用料|品质|结实|耐用|坏了|破了|开胶|开线|粗糙|质感|廉价|拉链|走线|面料"),
    "delivery": ("delivery", "物流", r"deliver\w*|shipping|shipped|arriv\w*|courier|packag\w*|packed|parcel",
                 "物流|快递|发货|送货|配送|包装|到货|外箱"),
    "value": ("price/value", "性价比", r"price[sd]?|overpriced|value|worth|money|expensive|cheaper|costs?|rupees?"
              r"|bucks|a steal", "性价比|价格|价钱|太贵|便宜|不值|很值|划算|实惠|物有所值|买贵"),
    "performance": ("performance", "性能", r"performance|lags?|laggy|hangs?|crash\w*|freez\w*|speed|processor"
                    r"|responsive|multitask\w*|heats? up|overheat\w*|motor|boots?",
                    "性能|速度|运行|卡顿|很卡|不卡|流畅|死机|闪退|发热|电机|反应慢"),
    "camera": ("camera", "拍照", r"cameras?|photos?|selfies?|lens|zoom|night shots?|portrait mode",
               "拍照|相机|摄像头|像素|自拍|夜景|夜拍|对焦"),
    "display": ("screen", "屏幕", r"display|screens?|resolution|brightness|pixels?", "屏幕|显示|分辨率|亮度|坏点"),
    "design": ("design", "外观", r"design|looks?|colou?rs?|style|stylish|appearance|compliments",
               "外观|颜值|设计|颜色|样子|好看|漂亮|丑"),
    "effect": ("effect", "效果", r"skin|acne|hydrat\w*|moistur\w*|greas\w*|oily|white cast|irritation|redness",
               "皮肤|保湿|痘|过敏|油腻|搓泥|效果"),
    "service": ("customer service", "客服", r"customer (?:service|support|care)|support|seller|warranty|refund",
                "客服|售后|卖家|商家|服务态度|退款"),
    "taste": ("taste", "口味", r"tastes?|tasty|flavou?r\w*|delicious", "味道|口感|好吃|难吃|口味|新鲜"),
}

_EN_PATTERNS = {k: re.compile(rf"\b(?:{v[2]})\b", re.I) for k, v in ASPECTS.items()}
_ZH_PATTERNS = {k: re.compile(v[3]) for k, v in ASPECTS.items()}
_CLAUSE_END = re.compile(r"[。！？!?；;\n]+|[,，、]\s*|(?<=[a-z0-9)])\.(?:\s+|$)|\s+-\s+", re.I)
_EN_CONTRAST = re.compile(r"\s+(?=(?:but|however|although|though|except|whereas|while|yet)\b)"
                          r"|\s+and\s+(?=(?:the|it|its|it's|my|this|i)\b)", re.I)
_ZH_CONTRAST = re.compile(r"(?=(?<!不)但是|(?<![不但])但(?!是)|不过|可是|然而|就是|只是|唯一不足|好在|还好|而且)")
POLARITY_THRESHOLD = {"model": 0.2, "en": 0.05, "zh": 0.3}
MAX_QUOTES = 2
MAX_QUOTE_CHARS = 120


def canonical_aspect(name: str | None) -> str | None:
    """An aspect key for a key, display name or term in either language ('screen', '屏幕' -> 'display').

    Unknown names come back unchanged (matched literally in the reviews)."""
    if not name or not name.strip():
        return None
    text = name.strip()
    low = text.lower()
    for key, (en, zh, _, _) in ASPECTS.items():
        if low in (key, en.lower(), zh) or low in en.lower().split("/"):
            return key
    for key in ASPECTS:
        if (_ZH_PATTERNS[key].fullmatch(text) or _EN_PATTERNS[key].fullmatch(low)):
            return key
    return text


def aspect_name(key: str, lang: str) -> str:
    if key in ASPECTS:
        return ASPECTS[key][1 if lang == "zh" else 0]
    return key


def split_clauses(text: str) -> list[str]:
    """Clauses of a review: split at sentence punctuation, commas and contrast words ('but', '但是')."""
    out = []
    for piece in _CLAUSE_END.split(text or ""):
        splitter = _ZH_CONTRAST if is_chinese(piece) else _EN_CONTRAST
        out += [p.strip(" \t,，.") for p in splitter.split(piece)]
    return [c for c in out if c and not re.fullmatch(r"\W+", c)]


def find_aspects(clause: str, extra: str | None = None) -> list[str]:
    """Aspect keys mentioned in a clause; `extra` is a free-text aspect matched literally."""
    found = [k for k in ASPECTS if _EN_PATTERNS[k].search(clause) or _ZH_PATTERNS[k].search(clause)]
    if extra and extra not in ASPECTS and extra.lower() in clause.lower():
        found.append(extra)
    return found


@dataclass
class Evidence:
    review_id: str
    quote: str          # verbatim from the review text
    sentiment: str      # positive | negative
    score: float        # polarity in [-1, 1]


@dataclass
class AspectStat:
    aspect: str
    name: str
    positive: int = 0
    negative: int = 0
    neutral: int = 0
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def mentions(self) -> int:
        return self.positive + self.negative + self.neutral


@dataclass
class ReviewSummary:
    product_id: str | None
    aspect: str | None
    lang: str
    n_reviews: int
    positive: int
    negative: int
    neutral: int
    overall_score: float            # mean review polarity in [-1, 1]
    average_rating: float | None
    aspects: list[AspectStat]
    method: str                     # "classifier" | "lexicon"
    summary: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        for a, stat in zip(d["aspects"], self.aspects):
            a["mentions"] = stat.mentions
        return d

    def facts(self) -> dict:
        """What the summary may state: the counts and the quotes, nothing else."""
        d = self.to_dict()
        d.pop("summary")
        return d

    def phrase_with(self, llm: Callable[[str], str]) -> str:
        """Let an LLM rephrase the templated summary; keep the template if the result is not grounded."""
        prompt = PHRASE_PROMPT.format(lang="Chinese" if self.lang == "zh" else "English",
                                      facts=json.dumps(self.facts(), ensure_ascii=False), summary=self.summary)
        try:
            text = (llm(prompt) or "").strip()
        except Exception:  # the LLM layer failing must not lose the grounded summary
            return self.summary
        return text if text and grounded(text, self) else self.summary


PHRASE_PROMPT = (
    "Rewrite this review summary as one short, natural paragraph in {lang}. Use only the facts below: "
    "do not add numbers, quotes, aspects or opinions that are not in them, and keep quotes verbatim.\n"
    "Facts (JSON): {facts}\nSummary to rewrite: {summary}\nParagraph:")


def grounded(text: str, summary: ReviewSummary) -> bool:
    """Every number in `text` is one of the summary's numbers and every quote is a verbatim evidence quote."""
    allowed = _numbers_of(summary)
    for num in re.findall(r"\d+(?:\.\d+)?", text):
        if float(num) not in allowed:
            return False
    quotes = [e.quote for a in summary.aspects for e in a.evidence]
    for q in re.findall(r"[\"“「『]([^\"”」』]{4,})[\"”」』]", text):
        if not any(q.strip() in full or full in q for full in quotes):
            return False
    return True


def _numbers_of(s: ReviewSummary) -> set[float]:
    nums = {float(s.n_reviews), float(s.positive), float(s.negative), float(s.neutral), 5.0}
    if s.average_rating is not None:
        nums |= {round(s.average_rating, 1), round(s.average_rating, 2)}
    for a in s.aspects:
        nums |= {float(a.positive), float(a.negative), float(a.neutral), float(a.mentions)}
        nums |= {float(x) for e in a.evidence for x in re.findall(r"\d+(?:\.\d+)?", e.quote)}
    return nums


# ---- scoring ---------------------------------------------------------------------------------------

class _Scorer:
    """Polarity in [-1, 1] from the classifier when there is one, else from the lexicons."""

    def __init__(self, model=None):
        self.model = model
        self.method = "classifier" if model is not None else "lexicon"

    def polarity(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        if self.model is not None:
            return np.asarray(self.model.polarity(list(texts)), dtype=float)
        return np.array([lexicon_score(t) for t in texts], dtype=float)

    def label(self, text: str, score: float) -> str:
        th = POLARITY_THRESHOLD["model" if self.model is not None else ("zh" if is_chinese(text) else "en")]
        return "positive" if score > th else "negative" if score < -th else "neutral"


_LEADING_JOINER = re.compile(r"^(?:(?:but|however|although|though|and|also|plus|still|sadly|while)\b[\s,]*"
                             r"|(?:但是|但|不过|可是|然而|就是|只是|而且|还有|另外|好在|还好|唯一不足的是)[，,\s]*)", re.I)


def _quote(clause: str, review_text_: str) -> str:
    """The clause without a leading 'but' / '但是', verbatim; a long one is cut at a word or comma boundary."""
    quote = _LEADING_JOINER.sub("", clause).strip() or clause
    if len(quote) <= MAX_QUOTE_CHARS:
        return quote
    cut = quote[:MAX_QUOTE_CHARS]
    space = max(cut.rfind(" "), cut.rfind("，"), cut.rfind(","))
    return cut[:space] if space > MAX_QUOTE_CHARS // 2 else cut


def summarize_reviews(reviews: Sequence, aspect: str | None = None, model=None, lang: str = "en",
                      product_id: str | None = None) -> ReviewSummary:
    """Per-aspect positive/negative counts with quotes, an overall score, and a templated summary.

    `model` is a trained SentimentModel (any object with `polarity(texts)`); None uses the lexicons.
    `aspect` narrows the summary to one aspect: a key, a display name or a term in either language.
    """
    scorer = _Scorer(model)
    key = canonical_aspect(aspect)
    reviews = [r for r in reviews if (r.text or r.title)]
    review_scores = scorer.polarity([review_text(r) for r in reviews])
    labels = [scorer.label(review_text(r), s) for r, s in zip(reviews, review_scores)]
    stats = _aspect_stats(reviews, scorer, key, lang)
    ratings = [r.rating for r in reviews if r.rating is not None]
    summary = ReviewSummary(
        product_id=product_id or (reviews[0].product_id if reviews else None), aspect=key, lang=lang,
        n_reviews=len(reviews), positive=labels.count("positive"), negative=labels.count("negative"),
        neutral=labels.count("neutral"),
        overall_score=round(float(np.mean(review_scores)), 3) if len(reviews) else 0.0,
        average_rating=round(float(np.mean(ratings)), 2) if ratings else None,
        aspects=stats, method=scorer.method)
    summary.summary = render_summary(summary)
    return summary


def _aspect_stats(reviews: Sequence, scorer: _Scorer, only: str | None, lang: str) -> list[AspectStat]:
    mentions = []  # (review, clause, aspect key)
    for r in reviews:
        body = review_text(r)
        for clause in split_clauses(body):
            for k in find_aspects(clause, extra=only):
                if only is None or k == only:
                    mentions.append((r, body, clause, k))
    scores = scorer.polarity(list(dict.fromkeys(c for _, _, c, _ in mentions)))
    score_of = dict(zip(dict.fromkeys(c for _, _, c, _ in mentions), scores))
    stats: dict[str, AspectStat] = {}
    counted: set[tuple[str, str]] = set()  # one vote per review and aspect: its strongest clause
    for r, body, clause, k in sorted(mentions, key=lambda m: -abs(score_of[m[2]])):
        if (r.review_id, k) in counted:
            continue
        counted.add((r.review_id, k))
        stat = stats.setdefault(k, AspectStat(k, aspect_name(k, lang)))
        s = float(score_of[clause])
        label = scorer.label(clause, s)
        setattr(stat, label, getattr(stat, label) + 1)
        if label != "neutral" and sum(e.sentiment == label for e in stat.evidence) < MAX_QUOTES:
            stat.evidence.append(Evidence(r.review_id, _quote(clause, body), label, round(s, 3)))
    if only is not None and only not in stats:
        stats[only] = AspectStat(only, aspect_name(only, lang))
    return sorted(stats.values(), key=lambda a: (-a.mentions, a.aspect))


# ---- templates -------------------------------------------------------------------------------------

def render_summary(s: ReviewSummary) -> str:
    """One paragraph in s.lang stating only the counts and quotes of `s`."""
    zh = s.lang == "zh"
    if s.n_reviews == 0:
        return "该商品还没有评价。" if zh else "This product has no reviews yet."
    head = _head_zh(s) if zh else _head_en(s)
    if s.aspect is not None:
        stat = next((a for a in s.aspects if a.aspect == s.aspect), None)
        return head + " " + (_one_aspect_zh(s, stat) if zh else _one_aspect_en(s, stat))
    praised = [a for a in s.aspects if a.positive > a.negative][:3]
    criticised = [a for a in s.aspects if a.negative > a.positive][:3]
    parts = [head]
    if praised:
        parts.append(("好评集中在：" if zh else "Praised: ") + _list(praised, "positive", zh))
    if criticised:
        parts.append(("差评集中在：" if zh else "Criticised: ") + _list(criticised, "negative", zh))
    if not praised and not criticised:
        parts.append("评价中没有明显的好评或差评点。" if zh else "No aspect stands out as praised or criticised.")
    return ("" if zh else " ").join(p if zh or p.endswith(".") else p + "." for p in parts)


def _head_en(s: ReviewSummary) -> str:
    rating = f" (average rating {s.average_rating:.1f}/5)" if s.average_rating is not None else ""
    return (f"{s.n_reviews} review{'s' if s.n_reviews != 1 else ''}{rating}: {s.positive} positive, "
            f"{s.negative} negative, {s.neutral} mixed or neutral.")


def _head_zh(s: ReviewSummary) -> str:
    rating = f"（平均{s.average_rating:.1f}星）" if s.average_rating is not None else ""
    return f"共{s.n_reviews}条评价{rating}：{s.positive}条好评，{s.negative}条差评，{s.neutral}条中性或褒贬不一。"


def _example(stat: AspectStat, sentiment: str, zh: bool) -> str:
    ev = next((e for e in stat.evidence if e.sentiment == sentiment), None)
    if ev is None:
        return ""
    return f"，如“{ev.quote}”" if zh else f', e.g. "{ev.quote}"'


def _list(stats: Iterable[AspectStat], sentiment: str, zh: bool) -> str:
    items = []
    for a in stats:
        if zh:
            items.append(f"{a.name}（{a.positive}条正面、{a.negative}条负面{_example(a, sentiment, True)}）")
        else:
            items.append(f"{a.name} ({a.positive} positive, {a.negative} negative{_example(a, sentiment, False)})")
    return ("；" if zh else "; ").join(items) + ("。" if zh else "")


def _one_aspect_en(s: ReviewSummary, a: AspectStat | None) -> str:
    if a is None or a.mentions == 0:
        return f"None of the {s.n_reviews} reviews mention {aspect_name(s.aspect, 'en')}."
    text = (f"{a.mentions} of them mention {a.name}: {a.positive} positive, {a.negative} negative, "
            f"{a.neutral} neutral.")
    for sentiment, word in (("positive", "Positive"), ("negative", "Negative")):
        quotes = [f'"{e.quote}"' for e in a.evidence if e.sentiment == sentiment]
        if quotes:
            text += f" {word}: {'; '.join(quotes)}."
    return text


def _one_aspect_zh(s: ReviewSummary, a: AspectStat | None) -> str:
    if a is None or a.mentions == 0:
        return f"{s.n_reviews}条评价中没有提到{aspect_name(s.aspect, 'zh')}。"
    text = f"其中{a.mentions}条提到{a.name}：{a.positive}条正面，{a.negative}条负面，{a.neutral}条中性。"
    for sentiment, word in (("positive", "正面"), ("negative", "负面")):
        quotes = [f"“{e.quote}”" for e in a.evidence if e.sentiment == sentiment]
        if quotes:
            text += f"{word}：{'；'.join(quotes)}。"
    return text
