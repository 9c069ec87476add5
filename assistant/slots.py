"""The exact readings of a shopper's words: price limits with their direction, ratings, signed quantities, order
and product ids, currencies, references to what was shown, and aspects.

Exact means: what a rule can read without guessing. A price limit needs a number plus a money sign or a direction
word; its direction comes from the direction word and every negation in front of it ("no more than 900" is a
maximum, "nothing under 4 stars" a minimum), in English, Chinese and romanised Hindi ("1000 ke andar", "2000 se
kam", "4 se zyada"). Where the words are ambiguous a slot is left empty and the model's parse (assistant.parse)
fills it; a direction word that is found always wins over the model. The store's own vocabularies (brands, order
ids, product ids) come in as arguments.

Knows nothing about tools, sessions or models.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from assistant.numbers import NumberSpan, find_numbers

MAX, MIN = "max", "min"
# direction words, each with the direction it states when not negated; longest first at match time
_MAX_CUES = (r"under|below|beneath|less than|lower than|cheaper than|less expensive than|within|up to|upto|at most|"
             r"at the most|max(?:imum)?|"
             r"tops|or less|or under|or below|and under|and below|limit|ceiling|cap|budget|afford|spend|pay|"
             r"se kam|se neeche|ke andar|ke neeche|andar|tak|"
             r"以内|以下|之内|内|不超过|不到|低于|少于|小于|最多|封顶|预算|不高于|控制在|放宽到|提高到|上限|最高")
_MIN_CUES = (r"over|above|more than|higher than|greater than|pricier than|costlier than|more expensive than|at least|"
             r"minimum|min|starting(?: at| from)?|upwards|"
             r"or more|or above|or higher|or better|and above|and up|plus|past|beyond|exceed(?:ing)?|"
             r"se upar|se zyada|se jyada|se zada|se adhik|"
             r"以上|超过|高于|至少|不低于|不少于|起步|起")
_CUE = re.compile(rf"(?:{_MAX_CUES})(?![a-z])|(?:{_MIN_CUES})(?![a-z])|\+", re.I)
_MAX_RX = re.compile(rf"^(?:{_MAX_CUES})$", re.I)
_NEGATION = re.compile(r"(?<![a-z])(?:not|no|never|nothing|nobody|n't|cannot|can't|cant|won't|wont|don't|dont|"
                       r"shouldn't|mustn't|without|nahi|nahin|mat)(?![a-z])|不(?!超过|到|高于|低于|少于)|别|没有|不要|不能", re.I)
# what may stand between a negation and the limit it turns ("can't go past", "don't want anything above", "不要超过");
# "won't break under 900" negates the verb, not the limit
_NEGATION_BRIDGE = re.compile(r"\s*(?:(?:go|going|go up|be|spend|spending|pay|paying|cost|costing|costs|stretch|exceed|"
                              r"cross|run|reach|extend|climb|rise|want|wanna|need|anything|something|stuff|more|"
                              r"priced|is|are|was|it|to|i|me|much|too|even|要|想|能|会)\s*)*", re.I)
_POST_MAX = re.compile(r"^\s*(?:or (?:less|under|below|lower|cheaper)|and (?:under|below)|max(?:imum)?|tops|at most|"
                       r"se kam|ke andar|ke neeche|se neeche|tak|以内|以下|之内|内|封顶|左右以内|块以内|元以内)", re.I)
_POST_MIN = re.compile(r"^\s*(?:\+|or (?:more|above|higher|better|up)|and (?:above|up|more)|plus|upwards|minimum|"
                       r"at least|se upar|se zyada|se jyada|se adhik|以上|起)", re.I)
_AROUND = re.compile(r"(?:around|about|approx(?:imately)?|roughly|close to|near|~|lagbhag|qareeb|大概|大约|差不多)\s*$"
                     r"|^\s*(?:左右|上下|ish\b)", re.I)
_RANGE = re.compile(r"^\s*(?:to|and|-|–|~|到|至|se)\s*$", re.I)
# currencies a shopper may write a price in: ISO code -> how it is written (the more specific first: "A$" before "$")
_CURRENCY_MARKS = {
    "AUD": r"a\$|au\$|aud|澳元", "CAD": r"c\$|ca\$|cad|加元", "SGD": r"s\$|sgd|新加坡元|新币",
    "HKD": r"hk\$|hkd|港币|港元", "NZD": r"nz\$|nzd", "USD": r"us\$|\$|usd|dollars?|bucks|美元|美金",
    "JPY": r"jpy|yen|円|日元", "EUR": r"€|eur|euros?|欧元", "GBP": r"£|gbp|pounds?|quid|英镑",
    "AED": r"aed|dirhams?", "CHF": r"chf|francs?", "KRW": r"₩|krw|won|韩元", "RUB": r"₽|rub|roubles?|rubles?",
    "BDT": r"৳|bdt|taka", "PKR": r"pkr", "LKR": r"lkr", "NPR": r"npr", "THB": r"฿|thb|baht", "MYR": r"myr|ringgit",
    "SAR": r"sar|riyals?", "BRL": r"r\$|brl|reais",
    "CNY": r"元|块钱?|rmb|cny|yuan|¥|￥|人民币",  # last: "日元", "美元" are other currencies
}
_INR_MARKS = r"₹|rs\.?|inr|rupees?|rupaye|rupay|卢比"
_CODES = "|".join(_CURRENCY_MARKS.values())
_MONEY_BEFORE = re.compile(rf"(?<![a-z])(?:{_INR_MARKS}|{_CODES})\s*$", re.I)
_MONEY_AFTER = re.compile(rf"^\s*(?:/-|(?:{_INR_MARKS}|{_CODES})(?![a-z'’])|ka\b|ke\b|wala|waala)", re.I)
_EXPLICIT_CNY = re.compile(r"rmb|cny|yuan|¥|￥|人民币", re.I)
MONEY_MARK = rf"(?<![a-z])(?:{_INR_MARKS}|{_CODES})(?![a-z'’])"  # any currency as written, for stripping it
_FOREIGN = {code: re.compile(rf"(?:^|(?<![a-z]))(?:{marks})(?![a-z'’])", re.I) for code, marks in _CURRENCY_MARKS.items()}
# units after a number make it a size, a count or a rating, not a price ("65W", "128G的", "1.8 litre")
_NOT_MONEY_AFTER = re.compile(r"^\s*(?:(?:mah|w|watts?|v|volts?|gb|g|tb|mb|mp|megapixels?|inch(?:es)?|cm|mm|m|metres?|"
                              r"meters?|ft|feet|hours?|hrs?|h|mins?|minutes?|hz|khz|l|ltrs?|litres?|liters?|ml|kg|grams?|"
                              r"stars?|percent|x|pcs|pieces?|units?|items?|nos|months?|years?|yrs?|days?|weeks?|people|"
                              r"persons?|ports?|pin|cores?|gen|th|st|nd|rd|ratings?|reviews?|rated|mbps|dpi|rpm|db|k|p|fps)"
                              r"(?![a-z])|\"|''|★|/5|%|个|件|台|只|双|份|星|分|颗|寸|英寸|毫安|瓦|年|月|天|小时|米|升|毫升|克|公斤|千克|核|倍)",
                              re.I)
_RATING_WORDS = re.compile(r"stars?|★|ratings?|rated|rating|reviews?|/5|评分|评价|星|分(?!钟)", re.I)
_CLAUSE_BREAK = re.compile(r"[,;!?，。；！？\n]|(?<![Rr][Ss])(?<!\bno)\.(?!\d)|\b(?:but|and then|also|plus)\b", re.I)


@dataclass
class PriceLimit:
    value: float
    direction: str          # max | min
    cue: str                # the words that stated the direction ("" when only a money sign was written)
    currency: str | None    # a foreign currency the amount was written in (USD, CNY, ...), None for the store's
    span: tuple[int, int] = (0, 0)


@dataclass
class Slots:
    """What the words say exactly. Empty fields mean: not stated, or not stated exactly."""

    max_price: float | None = None
    min_price: float | None = None
    min_rating: float | None = None
    limits: list[PriceLimit] = field(default_factory=list)
    quantity: int | None = None            # signed as written; None when no count is stated
    quantity_text: str = ""
    set_quantity: bool = False             # "make it three": the total, not an addition
    quantity_problem: str | None = None    # negative | zero | fraction | huge
    order_ids: list[str] = field(default_factory=list)
    product_ids: list[str] = field(default_factory=list)
    unknown_ids: list[str] = field(default_factory=list)  # shaped like the store's product ids, naming none
    positions: list[int] = field(default_factory=list)    # 0-based positions in the last shown list; -1 last
    relative: str | None = None            # next | previous | other
    pronoun: bool = False
    superlative: str | None = None         # cheapest | priciest | best_rated
    ref_words: list[str] = field(default_factory=list)  # "the Sony one" -> ["Sony"]
    rating_span: tuple[int, int] | None = None
    brand: str | None = None
    category: str | None = None
    foreign_currency: str | None = None    # an amount written in another currency than the store's
    currency_word_only: bool = False       # ... named only by 元/块, the words Chinese uses for money of any kind
    numbers: list[NumberSpan] = field(default_factory=list)


# ---- prices ---------------------------------------------------------------------------------------

def _context(text: str, span: NumberSpan, width: int = 40) -> tuple[str, str]:
    before, after = text[max(0, span.start - width):span.start], text[span.end:span.end + width]
    cut = list(_CLAUSE_BREAK.finditer(before))
    if cut:
        before = before[cut[-1].end():]
    m = _CLAUSE_BREAK.search(after)
    return before, (after[:m.start()] if m else after)


_TYPO_CUES = {"under": MAX, "below": MAX, "within": MAX, "upto": MAX, "above": MIN, "over": MIN, "atleast": MIN,
              "maximum": MAX, "minimum": MIN, "budget": MAX}


def _one_edit(a: str, b: str) -> bool:
    """`a` is `b` with one letter added, dropped or changed ("undr", "bellow", "abov")."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def _typo_cue(before: str) -> tuple[str | None, str]:
    words = re.findall(r"[a-z]+", before.lower())[-2:]
    for w in reversed(words):
        if len(w) >= 4:
            hit = next((c for c in _TYPO_CUES if _one_edit(w, c)), None)
            if hit:
                direction = _TYPO_CUES[hit]
                if _NEGATION.search(before[:before.lower().rfind(w)][-24:]):
                    direction = MIN if direction == MAX else MAX
                return direction, w
    return None, ""


def _direction_before(before: str) -> tuple[str | None, str]:
    """The direction the words right before a number state, negations applied ("can't go past" -> max); a cue word
    with one typo ("undr 1k") still counts."""
    cues = list(_CUE.finditer(before))
    if not cues:
        return _typo_cue(before)
    cue = cues[-1]
    word = cue.group(0).lower()
    if before[cue.end():].strip(" :=₹$¥€rs.inr").strip() and not re.fullmatch(
            r"\s*(?:(?:of|is|was|be|around|about|only|just|like|rs\.?|inr|₹|\$|the|a|my|me|for|it|to|spend|pay|"
            r"go|more|over|than|ka|ki|hai|是|在|为|要)\s*)*", before[cue.end():], re.I):
        return None, ""  # the cue belongs to an earlier part of the clause ("under the bed 2 units")
    direction = MAX if _MAX_RX.match(word) else MIN
    window = before[:cue.start()][-24:]
    negations = sum(1 for m in _NEGATION.finditer(window) if _NEGATION_BRIDGE.fullmatch(window[m.end():]))
    if negations % 2:
        direction = MIN if direction == MAX else MAX
    return direction, cue.group(0)


def _direction_after(after: str) -> tuple[str | None, str]:
    m = _POST_MAX.match(after)
    if m:
        return MAX, m.group(0).strip()
    m = _POST_MIN.match(after)
    return (MIN, m.group(0).strip()) if m else (None, "")


def _currency(before: str, after: str) -> tuple[bool, str | None]:
    """(written as money, foreign currency code or None for the store's own)."""
    b, a = _MONEY_BEFORE.search(before), _MONEY_AFTER.match(after)
    if not (b or a):
        return False, None
    mark = (b.group(0) if b else "") + " " + (a.group(0) if a else "")
    foreign = next((code for code, rx in _FOREIGN.items() if rx.search(mark)), None)
    return True, foreign


def read_prices(text: str, numbers: list[NumberSpan] | None = None, store_currency: str = "INR",
                rating_max: float = 5.0) -> list[PriceLimit]:
    """Price limits stated in `text`, each with a direction; ranges give one of each."""
    numbers = find_numbers(text) if numbers is None else numbers
    limits: list[PriceLimit] = []
    used: set[int] = set()
    for i, span in enumerate(numbers):
        if i in used or span.value <= 0 or span.negative:
            continue
        before, after = _context(text, span)
        if _NOT_MONEY_AFTER.match(after) and not _MONEY_AFTER.match(after):
            continue
        money, foreign = _currency(before, after)
        if foreign == store_currency:
            foreign = None
        nxt = numbers[i + 1] if i + 1 < len(numbers) else None
        nxt_money = _currency(*_context(text, nxt)) if nxt is not None else (False, None)
        if nxt is not None and _RANGE.match(text[span.end:nxt.start]) and (nxt.value > rating_max or money or
                                                                          nxt_money[0]):
            lo_cur = nxt_money
            limits += [PriceLimit(min(span.value, nxt.value), MIN, "range", foreign or lo_cur[1], (span.start, nxt.end)),
                       PriceLimit(max(span.value, nxt.value), MAX, "range", foreign or lo_cur[1], (span.start, nxt.end))]
            used.add(i + 1)
            continue
        direction, cue = _direction_after(after)
        if direction is None:
            direction, cue = _direction_before(before)
        if direction is None and _AROUND.search(before) or _AROUND.match(after):
            direction, cue = MAX, "around"
        if direction is None and money:
            direction, cue = MAX, ""  # "earbuds 1500 rupees": an amount alone is what they mean to spend
        if direction is None:
            continue
        if not money and (not cue or span.value <= rating_max):
            continue  # "under 4" without a money sign is a rating (assistant.slots.read_rating)
        if not money and _looks_like_model_number(text, span):
            continue
        limits.append(PriceLimit(span.value, direction, cue, foreign, (span.start, span.end)))
    return limits


def _looks_like_model_number(text: str, span: NumberSpan) -> bool:
    """"Airdopes 141", "iPhone 14", "Redmi 10 Prime": a number glued to a product name, not a price."""
    before = text[max(0, span.start - 20):span.start]
    if _CUE.search(before) or _MONEY_BEFORE.search(before):
        return False
    return bool(re.search(r"[A-Za-z][A-Za-z0-9]*\s*$", before)) and span.written == "digits" and span.value < 1000


# ---- ratings --------------------------------------------------------------------------------------

def read_rating(text: str, numbers: list[NumberSpan]) -> float | None:
    """A minimum star rating: a number from 1 to 5 next to a rating word, or with a direction word and no money."""
    span = rating_span(text, numbers)
    return span.value if span is not None else None


def rating_span(text: str, numbers: list[NumberSpan]) -> NumberSpan | None:
    """The number that states a minimum rating (see read_rating)."""
    for span in numbers:
        if not 1 <= span.value <= 5 or span.negative:
            continue
        before, after = _context(text, span, 30)
        if span.written == "words" and span.text.lower() in ("one", "a", "an") and not re.match(r"\s*stars?", after, re.I):
            continue  # "the best rated one": a pronoun, not a rating of 1
        near = _RATING_WORDS.search(after[:14]) or _RATING_WORDS.search(before[-16:])
        direction = _direction_after(after)[0] or _direction_before(before)[0]
        money = _currency(before, after)[0]
        if money:
            continue
        if near and direction != MAX:
            return span
        if direction == MIN:  # "nothing under 4": no price is that low, so a star rating
            return span
    return None


# ---- quantities -----------------------------------------------------------------------------------

MAX_QUANTITY = 20
_QTY_AFTER = re.compile(r"^\s*(?:x\b|pcs\b|pieces?\b|units?\b|items?\b|nos\b|of (?:them|those|these|it|this|that|the)\b|"
                        r"more\b|chahiye|chaiye|dedo|de do|dena|lena|le lo|个|件|台|只|双|份|盒|套|瓶|部)", re.I)
_QTY_BEFORE = re.compile(r"(?:\badd|\bbuy|\bget(?: me)?|\border|\btake|\bneed|\bwant|\bput|\bthrow in|\bmake it|"
                         r"\bmake that|\bchange (?:it|that|the quantity) to|\bincrease (?:it |that )?to|quantity(?: of| to| =|:)?|"
                         r"\bqty:?|\bx|要|来|买|加|拿|订|数量\s*[:：是为]?)\s*(?:another\s*)?$", re.I)
_SET_QTY = re.compile(r"make (?:it|that)|change (?:it|that|the quantity) to|increase (?:it |that )?to|in total|total of|"
                      r"altogether|改成|一共|总共", re.I)
_NEGATIVE_WORDS = re.compile(r"负数|负的|negative (?:number|quantity|amount)|minus quantity|less than zero|below zero", re.I)


def read_quantity(text: str, numbers: list[NumberSpan], taken: set[tuple[int, int]]) -> tuple[int | None, str, str | None, bool]:
    """(quantity as written with its sign, its text, a problem with it, whether it is a total)."""
    if _NEGATIVE_WORDS.search(text):
        return -1, _NEGATIVE_WORDS.search(text).group(0), "negative", False
    for span in numbers:
        if (span.start, span.end) in taken or text[max(0, span.start - 1):span.start] == "第":
            continue
        before, after = text[max(0, span.start - 30):span.start], text[span.end:span.end + 20]
        before = re.sub(r"(?:-|−|minus|negative|负)\s*$", "", before, flags=re.I)
        is_qty = bool(_QTY_AFTER.match(after)) or bool(_QTY_BEFORE.search(before))
        if span.written == "words" and span.text.lower() in ("one", "a pair", "a couple") and not _QTY_BEFORE.search(before):
            is_qty = is_qty and not re.match(r"\s*(?:with|that|which|of the|i|you)\b", after, re.I)
        if not is_qty or (_NOT_MONEY_AFTER.match(after) and not _QTY_AFTER.match(after)):
            continue
        if re.match(r"\s*(?:%|percent|₹|rs|rupees|stars?)", after, re.I) or _MONEY_BEFORE.search(before):
            continue
        value = span.signed
        problem = None
        if value < 0:
            problem = "negative"
        elif value == 0:
            problem = "zero"
        elif value != int(value):
            problem = "fraction"
        elif value > MAX_QUANTITY:
            problem = "huge"
        return (int(value) if value == int(value) else value), span.text, problem, bool(_SET_QTY.search(before))
    return None, "", None, False


# ---- ids -------------------------------------------------------------------------------------------

_GENERIC_ORDER = re.compile(r"(?<![A-Za-z0-9])(\d{3}-\d{7}-\d{7}|#?W\d{7}|OD\d{12,}|O\d{5,})(?![A-Za-z0-9])", re.I)
_ORDER_WORD_ID = re.compile(r"\border\s*(?:no\.?|number|num|id|#)?\s*[:#]?\s*([A-Z0-9][A-Z0-9-]{4,})\b", re.I)


def shape(token: str) -> str:
    """'P0190' -> 'A9999', '#W1234567' -> '#A9999999': the letter/digit pattern of an id."""
    return re.sub(r"[A-Z]", "A", re.sub(r"\d", "9", token.upper()))


def read_order_ids(text: str, store_shapes: Iterable[str] = ()) -> list[str]:
    """Order ids: any token of a shape the store's own order ids have, the common marketplace shapes
    (123-1234567-1234567, #W1234567, OD..., O12345), and an id right after the word "order"."""
    shapes = set(store_shapes)
    found: list[str] = []
    for tok in re.findall(r"#?[A-Za-z0-9][A-Za-z0-9-]{3,}", text):
        if any(ch.isdigit() for ch in tok) and shape(tok) in shapes:
            found.append(tok.upper())
    found += [m.group(1).upper() for m in _GENERIC_ORDER.finditer(text)]
    for m in _ORDER_WORD_ID.finditer(text):
        if any(ch.isdigit() for ch in m.group(1)) and not re.fullmatch(r"\d{1,2}", m.group(1)):
            found.append(m.group(1).upper())
    if shapes and not any(s.startswith("#") for s in shapes):
        found = [f.lstrip("#") for f in found]
    return list(dict.fromkeys(found))


def read_product_ids(text: str, known: set[str], id_shapes: set[str]) -> tuple[list[str], list[str]]:
    """(ids of known products, tokens shaped like the store's product ids that name no product)."""
    toks = re.findall(r"(?<![A-Za-z0-9])[A-Za-z0-9]{4,}(?![A-Za-z0-9])", text)
    ids = [t for t in toks if t in known or t.upper() in known]
    ids = [t if t in known else t.upper() for t in ids]
    unknown = [t for t in toks if t not in known and t.upper() not in known and any(c.isdigit() for c in t)
               and any(c.isalpha() for c in t) and t.isupper() and shape(t) in id_shapes]
    return list(dict.fromkeys(ids)), list(dict.fromkeys(unknown))


# ---- references to what was shown -------------------------------------------------------------------

_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "fifth": 4,
             "5th": 4, "last": -1, "top": 0, "pehla": 0, "pehli": 0, "pehle": 0, "pahla": 0, "doosra": 1, "dusra": 1,
             "doosri": 1, "dusri": 1, "teesra": 2, "tisra": 2, "teesri": 2, "chautha": 3, "aakhri": -1, "akhri": -1}
_ORDINAL_RX = re.compile(r"(?<![a-z])(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|"
                         r"(?<=the )last|last(?= (?:one|item|option|product|result|choice|pick|wala))|"
                         r"(?<=the )top(?= (?:one|item|option|product|result|choice|pick|\w+ result))|pehl[aie]|pahla|"
                         r"doosr[ai]|dusr[ai]|teesr[ai]|tisra|chautha|aakhri|akhri)(?![a-z])"
                         r"(?!\s+(?:time|order|class|hand|name|step|thing|impression|person|priority|place|of all))", re.I)
_NUMBERED = re.compile(r"(?:number|no\.?|#|option|item|result|choice|pick)\s*(\d)(?!\d)|(?<![\d.])(\d)(?:st|nd|rd|th)?\s*"
                       r"(?:one|wala|waala|vala)\b", re.I)
_FIRST_N = re.compile(r"\b(?:first|top|pehle|pahle)\s+(two|three|four|five|2|3|4|5|do|teen|char)\b|前\s*([两二三四五2345])\s*(?:个|款|件)?",
                      re.I)
_N_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "do": 2, "teen": 3, "char": 4, "两": 2, "二": 2, "三": 3, "四": 4,
            "五": 5}
# "the Sony one", "the 65W pair", "JBL wala", "那个小米的": the words that name the product referred to
_REF_WORDS = re.compile(r"\bthe\s+((?:(?!one\b|ones\b)[\w.+-]+\s+){0,2}?(?!one\b|ones\b|other\b|next\b|same\b|first\b|"
                        r"second\b|third\b|last\b|cheaper\b|cheapest\b|best\b|more\b|better\b)[\w.+-]+)\s+"
                        r"(?:one|model|version|pair|variant|edition)\b|"
                        r"\b([\w.+-]+(?:\s+[\w.+-]+)?)\s+(?:wala|waala|vala|wali|waali)\b|(?:那个|这个|那款)([\u4e00-\u9fffA-Za-z0-9]{1,8})的",
                        re.I)
_ZH_ORDINAL = re.compile(r"第\s*([一二三四五12345])\s*(?:个|款|件|种|项|条)?|(最后|最下面)(?:一|那)?(?:个|款)")
_RELATIVE = {"next": r"\bnext one\b|\bthe next\b|\bnext\b(?= (?:pair|item|option|product))|下一个|下一款|agla|agli",
             "previous": r"\bprevious one\b|\bthe previous\b|\bone before\b|上一个|上一款|pichla|pichhla",
             "other": r"\bthe other\b|\bother one\b|\banother one\b(?! like)|另一个|另外一个|另一款"}
_RELATIVE_RX = {k: re.compile(v, re.I) for k, v in _RELATIVE.items()}
_PRONOUN = re.compile(r"(?<![a-z])(?:it|its|it's|this one|that one|this|that|these|those|them|they|both|all of them|"
                      r"the same|ye|yeh|yahi|wo|woh|wohi|isko|usko|ise|use|isme|usme|iska|uska|dono)(?![a-z])|"
                      r"它|这个|那个|这款|那款|这两|那两|这些|那些|两个都|都要|同款", re.I)
_SUPERLATIVE = {"cheapest": r"cheapest|cheaper one|the cheaper(?: of)?|less expensive one|lowest[- ]price[d]?|least expensive|"
                            r"most affordable|"
                            r"sabse sasta|sasta wala|saste wala|最便宜|便宜的那|便宜点的那",
                "priciest": r"most expensive|more expensive one|the (?:pricier|costlier|more expensive)(?: of)?|pricier one|"
                            r"priciest|costlier one|highest[- ]price[d]?|"
                            r"mehenga|mehnga|最贵|贵的那",
                "best_rated": r"best[- ]rated|highest[- ]rated|top[- ]rated|better[- ]rated one|best reviewed|"
                              r"sabse (?:achhi|acchi|achi|badhiya|zyada|jyada) rating|best rating wal[ai]|"
                              r"评分最高|好评最多|评价最好"}
_SUPERLATIVE_RX = {k: re.compile(v, re.I) for k, v in _SUPERLATIVE.items()}
_ANY_SUPERLATIVE = re.compile("|".join(f"(?:{v})" for v in _SUPERLATIVE.values()), re.I)


def strip_superlatives(text: str) -> str:
    """The text without its "highest rated" / "cheapest" phrases: an order to sort by, not words of the need."""
    return _ANY_SUPERLATIVE.sub(" ", text)


def _ordinal(word: str) -> int:
    w = word.lower()
    for prefix, pos in (("pehl", 0), ("pahl", 0), ("doosr", 1), ("dusr", 1), ("teesr", 2), ("tisr", 2)):
        if w.startswith(prefix):
            return pos
    return _ORDINALS[w]


def read_references(text: str) -> tuple[list[int], str | None, bool, str | None]:
    """(positions, relative, pronoun, superlative) as the words state them."""
    positions = [_ordinal(m.group(1)) for m in _ORDINAL_RX.finditer(text)]
    positions += [int(m.group(1) or m.group(2)) - 1 for m in _NUMBERED.finditer(text)]
    for m in _FIRST_N.finditer(text):
        n = m.group(1) or m.group(2)
        positions += list(range(int(n) if n.isdigit() else _N_WORDS.get(n.lower(), 2)))
    for m in _ZH_ORDINAL.finditer(text):
        positions.append(-1 if m.group(2) else "一二三四五".find(m.group(1)) if m.group(1) in "一二三四五"
                         else int(m.group(1)) - 1)
    relative = next((k for k, rx in _RELATIVE_RX.items() if rx.search(text)), None)
    superlative = next((k for k, rx in _SUPERLATIVE_RX.items() if rx.search(text)), None)
    return list(dict.fromkeys(p for p in positions if -1 <= p < 10)), relative, bool(_PRONOUN.search(text)), superlative


# ---- vocabulary -------------------------------------------------------------------------------------

def vocab_match(text: str, names: Iterable[str], min_len: int = 2) -> str | None:
    """The longest store name (brand, category) written in the text, whole words only."""
    low = f" {text.lower()} "
    best = None
    for name in names:
        n = name.lower().strip()
        if len(n) < min_len:
            continue
        hit = re.search(rf"(?<![a-z0-9]){re.escape(n)}(?![a-z0-9])", low) if n.isascii() else n in low
        if hit and (best is None or len(n) > len(best)):
            best = name
    return best


def read(text: str, brands: Iterable[str] = (), categories: Iterable[str] = (), order_shapes: Iterable[str] = (),
         product_ids: set[str] | None = None, product_shapes: set[str] | None = None,
         store_currency: str = "INR") -> Slots:
    """Every exact slot of one message."""
    s = Slots()
    s.numbers = find_numbers(text)
    s.order_ids = read_order_ids(text, order_shapes)
    s.product_ids, s.unknown_ids = read_product_ids(text, product_ids or set(), product_shapes or set())
    id_spans = {(m.start(), m.end()) for tok in s.order_ids + s.product_ids + s.unknown_ids
                for m in re.finditer(re.escape(tok.lstrip("#")), text, re.I)}
    numbers = [n for n in s.numbers if not any(a <= n.start < b for a, b in id_spans)]
    s.limits = read_prices(text, numbers, store_currency)
    for lim in s.limits:
        if lim.currency:
            s.foreign_currency = lim.currency
            s.currency_word_only = lim.currency == "CNY" and not _EXPLICIT_CNY.search(text)
        if lim.direction == MAX:
            s.max_price = lim.value if s.max_price is None else min(s.max_price, lim.value)
        else:
            s.min_price = lim.value if s.min_price is None else max(s.min_price, lim.value)
    if s.max_price is not None and s.min_price is not None and s.min_price > s.max_price:
        s.min_price = None  # "over 500 ... under 300" contradicts itself: keep the ceiling, the safer reading
    rated = rating_span(text, numbers)
    s.min_rating = rated.value if rated else None
    s.rating_span = (rated.start, rated.end) if rated else None
    taken = {lim.span for lim in s.limits} | {(n.start, n.end) for n in numbers if s.min_rating == n.value
                                                 and _RATING_WORDS.search(text[n.end:n.end + 14])}
    s.quantity, s.quantity_text, s.quantity_problem, s.set_quantity = read_quantity(text, numbers, taken)
    s.positions, s.relative, s.pronoun, s.superlative = read_references(text)
    s.ref_words = [next(g for g in m.groups() if g) for m in _REF_WORDS.finditer(text)]
    s.brand = vocab_match(text, brands)
    s.category = vocab_match(text, categories, min_len=3)
    return s
