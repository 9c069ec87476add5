"""Numbers as shoppers write them, with where they stand in the text.

Digits with Western or Indian grouping ("12,000", "1,39,900"), decimals, multipliers ("9k", "1.5 lakh", "2 cr"),
English number words ("nine hundred", "fifteen hundred", "two thousand five hundred", "a dozen"), Chinese numerals
("三千", "两千五", "1.5万", "一百二十") and romanised Hindi ("do hazaar", "dedh hazaar", "paanch sau", "teen"),
each with a sign when one is written ("-3", "minus four", "负数", "负三"). Each span keeps the text right before and
after it so that callers can read currency, units and direction words around it.

Knows nothing about prices, products or what a number means: `assistant.slots` reads that.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.text import has_cjk

_EN_UNITS = {"zero": 0, "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
             "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
             "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
             "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
             "ninety": 90, "half": 0.5}
_HI_UNITS = {"ek": 1, "do": 2, "teen": 3, "char": 4, "chaar": 4, "paanch": 5, "panch": 5, "chhe": 6, "chhah": 6,
             "saat": 7, "aath": 8, "nau": 9, "das": 10, "dus": 10, "gyarah": 11, "barah": 12, "bees": 20,
             "pachas": 50, "pachaas": 50, "dedh": 1.5, "dhai": 2.5, "sava": 1.25, "dhaai": 2.5}
_SCALES = {"hundred": 100, "thousand": 1000, "grand": 1000, "lakh": 100_000, "lakhs": 100_000, "lac": 100_000,
           "crore": 10_000_000, "million": 1_000_000, "sau": 100, "hazaar": 1000, "hazar": 1000, "hajar": 1000,
           "k": 1000, "cr": 10_000_000, "l": 100_000, "dozen": 12, "pair": 2, "couple": 2}
_ZH_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9, "十": 10, "半": 0.5}
_ZH_SCALES = {"十": 10, "百": 100, "千": 1000, "k": 1000, "万": 10_000, "w": 10_000, "亿": 100_000_000}

# "1,39,900" / "12,000" / "1299.50" / "9k" / "1.5 lakh" / "2cr" / "1.5万" / "3千"
_DIGITS = re.compile(r"(?<![A-Za-z0-9_.])(\d{1,3}(?:,\d{2,3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
                     r"(?:\s?(k|K|lakhs?|lac|L|crore|cr|thousand|hundred|grand|hazaa?r|hajar|sau)\b|\s?(千|万|(?:w|W)(?![A-Za-z])|百|亿)"
                     r"(?:([一二两三四五六七八九])(?![千百十万]))?)?")
_WORD = r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|" \
        r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|couple|pair|dozen|half|" \
        r"ek|do|teen|chaa?r|paa?nch|chhe|chhah|saat|aath|nau|das|dus|gyarah|barah|bees|pachaa?s|dedh|dhaa?i|sava|" \
        r"hundred|thousand|grand|lakhs?|lac|crore|million|sau|hazaa?r|hajar|point|and|a|an)"
# words joined by spaces, or by a hyphen inside a word ("twenty-one"); " - " separates numbers ("two - one each")
_WORDS = re.compile(rf"(?<![\w])(?:{_WORD})(?:(?:[ \t]+|(?<=\w)-(?=\w))(?:{_WORD}))*(?![\w])", re.I)
_ZH = re.compile(r"[零一二两俩三四五六七八九十百千万亿半]+")
_HI_COUNT_AFTER = re.compile(r"\s*(?:chahiye|chaiye|piece|pcs|units?|items?|de do|dedo|dena|le lo|lena|wale|kg)\b", re.I)
# a minus sign written against the digits ("-3", not "two - one"), or a minus word
_MINUS = re.compile(r"(?:(?<![A-Za-z0-9_-])[-−–]|\b(?:minus|negative)\s+|负数?|減|减)$", re.I)


@dataclass
class NumberSpan:
    value: float
    start: int
    end: int
    text: str
    negative: bool = False
    written: str = "digits"  # digits | words | zh

    @property
    def signed(self) -> float:
        return -self.value if self.negative else self.value


def _words_value(tokens: list[str]) -> float | None:
    """English / Hindi number words -> value ("two thousand five hundred", "fifteen hundred", "do hazaar",
    "four point two")."""
    low = [t.lower() for t in tokens]
    if "point" in low:
        i = low.index("point")
        whole, digits = _words_value(tokens[:i]), [_EN_UNITS.get(t) for t in low[i + 1:]]
        if whole is None or not digits or any(d is None or d > 9 for d in digits):
            return None
        return whole + float("0." + "".join(str(int(d)) for d in digits))
    total, current, seen = 0.0, 0.0, False
    for tok in tokens:
        t = tok.lower()
        if t in ("and",):
            continue
        if t in ("a", "an"):
            current = current or 1
            continue
        if t in _EN_UNITS or t in _HI_UNITS:
            current += _EN_UNITS.get(t, _HI_UNITS.get(t, 0))
            seen = True
        elif t in _SCALES:
            scale = _SCALES[t]
            current = (current or 1) * scale
            seen = True
            if scale >= 1000:
                total, current = total + current, 0.0
        else:
            return None
    return total + current if seen else None


def zh_value(text: str) -> float | None:
    """Chinese numerals -> value: "三千" 3000, "两千五" 2500, "一万二" 12000, "一百二十" 120, "十五" 15."""
    if not text or any(ch not in _ZH_DIGITS and ch not in _ZH_SCALES for ch in text):
        return None
    total, section, digit, last_scale = 0.0, 0.0, None, None
    for ch in text:
        if ch in _ZH_SCALES and ch not in ("k", "w"):
            scale = _ZH_SCALES[ch]
            if scale >= 10_000:
                section = (section + (digit or 0)) or 1
                total, section = total + section * scale, 0.0
            else:
                section += (digit if digit is not None else 1) * scale
            digit, last_scale = None, scale
        else:
            digit = _ZH_DIGITS[ch]
    if digit is not None:  # "两千五" = 2500: a trailing digit counts in the next lower place
        section += digit * (last_scale // 10 if last_scale and last_scale >= 100 and len(text) > 1 else 1)
    return total + section


def find_numbers(text: str) -> list[NumberSpan]:
    """Every number written in `text`, left to right, non-overlapping."""
    spans: list[NumberSpan] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    for m in _DIGITS.finditer(text):
        raw = m.group(1)
        value = float(raw.replace(",", ""))
        if m.group(2):
            value *= _SCALES[m.group(2).lower().rstrip("s") if m.group(2).lower() not in _SCALES else m.group(2).lower()]
        elif m.group(3) and m.group(3) in "wW" and not has_cjk(text):
            spans.append(NumberSpan(value, m.start(), m.start(1) + len(raw), raw))  # "65W": watts, not 万
            taken.append((m.start(), m.start(1) + len(raw)))
            continue
        elif m.group(3):
            scale = _ZH_SCALES[m.group(3).lower()]
            value *= scale
            if m.group(4):
                value += _ZH_DIGITS[m.group(4)] * scale / 10
        spans.append(NumberSpan(value, m.start(), m.end(), m.group(0)))
        taken.append((m.start(), m.end()))
    for m in _WORDS.finditer(text):
        tokens = re.split(r"[\s-]+", m.group(0))
        while tokens and tokens[0].lower() in ("and", "a", "an") and len(tokens) > 1 and \
                tokens[1].lower() not in _SCALES:
            tokens = tokens[1:]
        if all(t.lower() in ("a", "an", "and", "do", "half") for t in tokens) and not (
                [t.lower() for t in tokens] == ["do"] and _HI_COUNT_AFTER.match(text[m.end():])):
            continue  # "a", "do" (Hindi two / English verb), "half" alone: too ambiguous without a scale
        value = _words_value(tokens)
        if value is not None and free(m.start(), m.end()):
            spans.append(NumberSpan(value, m.start(), m.end(), m.group(0), written="words"))
            taken.append((m.start(), m.end()))
    for m in _ZH.finditer(text):
        value = zh_value(m.group(0))
        if value is not None and free(m.start(), m.end()) and m.group(0) not in ("半",):
            spans.append(NumberSpan(value, m.start(), m.end(), m.group(0), written="zh"))
            taken.append((m.start(), m.end()))
    spans.sort(key=lambda s: s.start)
    for s in spans:
        s.negative = bool(_MINUS.search(text[max(0, s.start - 10):s.start]))
    return spans
