"""Redaction of personal data in records the project writes: logs, traces, eval exports, feedback.

Four kinds, each replaced by a fixed marker: e-mail addresses (`[EMAIL]`), card-like numbers of 13-19
digits that pass the Luhn check (`[CARD]`), phone numbers in international, Indian and Chinese formats
(`[PHONE]`), and street addresses written in the common simple shapes (`[ADDRESS]`: "221B Baker Street",
"Flat 4, 12 MG Road", a PIN/ZIP after a city, "北京市朝阳区建国路88号"). The patterns are deliberately
simple and err towards redacting; they leave the shop's own identifiers alone (order ids like O10001,
product ids like P0190 or B07XYZ1234, tracking numbers, prices, dates).

Redaction happens where a record is written (`assistant.persistence`, `eval.harness.write_results`,
log handlers through `RedactingFilter`); the live conversation in memory keeps the shopper's words.
Knows nothing about sessions, files or models.
"""
from __future__ import annotations

import logging
import re
from typing import Any

EMAIL, PHONE, CARD, ADDRESS = "[EMAIL]", "[PHONE]", "[CARD]", "[ADDRESS]"

# ASCII-only boundaries: in "电话13812345678" the Chinese characters count as \w for Python's re
_A = "A-Za-z0-9_"
_EMAIL = re.compile(rf"(?<![{_A}.+-])[A-Za-z0-9][A-Za-z0-9._%+-]{{0,63}}@[A-Za-z0-9](?:[A-Za-z0-9-]{{0,62}}\.)+"
                    rf"[A-Za-z]{{2,24}}(?![A-Za-z0-9-])")
# 13-19 digits, optionally grouped by single spaces or dashes; checked with Luhn before redacting
_CARD = re.compile(rf"(?<![{_A}.,+])\d(?:[ -]?\d){{12,18}}(?![{_A}]|[.,]\d)")
_END = rf"(?![{_A}]|[.,]\d)"
_PHONES = [
    # international: +CC then groups, e.g. +91 98765 43210, +86 138 1234 5678, +1 (415) 555-2671, +44 20 7946 0958
    re.compile(rf"(?<![{_A}+])\+\d{{1,3}}[ .-]?(?:\(\d{{1,4}}\)[ .-]?)?\d{{1,5}}(?:[ .-]?\d{{2,5}}){{1,4}}{_END}"),
    # 00-prefixed international
    re.compile(rf"(?<![{_A}.,])00\d{{1,3}}[ .-]?\d{{2,5}}(?:[ .-]?\d{{2,5}}){{1,4}}{_END}"),
    # Chinese mobile 1[3-9]x, 11 digits, optionally 3-4-4 grouped
    re.compile(rf"(?<![{_A}.,])1[3-9]\d[ -]?\d{{4}}[ -]?\d{{4}}{_END}"),
    # Indian mobile: 10 digits starting 6-9, optionally 0-prefixed or 5-5 grouped
    re.compile(rf"(?<![{_A}.,])0?[6-9]\d{{4}}[ -]?\d{{5}}{_END}"),
    # landlines with an area code: 010-12345678, 022 2345 6789, 080-41234567
    re.compile(rf"(?<![{_A}.,])0\d{{2,4}}[ -]\d{{3,4}}[ -]?\d{{4}}{_END}"),
    # North American (415) 555-2671, 415-555-2671
    re.compile(rf"(?<![{_A}])(?:\(\d{{3}}\)\s?|\d{{3}}[-.])\d{{3}}[-.]\d{{4}}{_END}"),
]
_STREET = (r"(?i:street|st|road|rd|avenue|ave|lane|ln|drive|boulevard|blvd|nagar|marg|colony|sector|layout|"
           r"highway|hwy|terrace)")
_ADDRESSES = [
    # "221B Baker Street", "12 MG Road", "Flat 4B, 12 Park Lane", "#45 Indira Nagar"
    re.compile(rf"(?:(?i:flat|apt|apartment|house|unit|suite|door)\s*(?:(?i:no)\.?\s*)?[#A-Za-z0-9/-]+,?\s*)?"
               rf"(?<![{_A}])#?\s*\d{{1,5}}[A-Za-z]?(?:/\d{{1,4}})?,?\s+[A-Z][A-Za-z.'-]*\s+(?:[A-Za-z][A-Za-z.'-]*\s+){{0,2}}{_STREET}(?![{_A}])\.?"),
    # a city then an Indian PIN or a US ZIP after a separator: "Bengaluru - 560001", "Mumbai, 400 001",
    # "Springfield, IL 62704", "pincode 560001"
    re.compile(rf"(?<![A-Za-z])[A-Z][a-z]+(?:\s[A-Z][a-z]+)?(?:\s*,\s*|\s+-\s*)(?:\d{{3}}\s?\d{{3}}|[A-Z]{{2}}\s\d{{5}}(?:-\d{{4}})?){_END}"),
    re.compile(rf"(?i:pin\s*code|pin|zip(?:\s*code)?|postal code|邮编)\s*[:：]?\s*\d{{5,6}}{_END}"),
    # Chinese: province/city/district ... road/street ... number
    re.compile(r"[\u4e00-\u9fff]{2,12}(?:省|市|区|县|镇)[\u4e00-\u9fff\d]{0,20}?(?:路|街|道|巷|弄|胡同)"
               r"[\d一二三四五六七八九十百]+号(?:[\d\-]+(?:室|楼|栋|单元))*"),
]


def luhn_ok(digits: str) -> bool:
    total, alt = 0, False
    for ch in reversed(digits):
        d = ord(ch) - 48
        if alt:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
        alt = not alt
    return total % 10 == 0


def _card(m: re.Match) -> str:
    """The run as [CARD] when it, or a run of its space/dash groups, is a Luhn-valid 13-19 digit number."""
    run = m.group(0)
    digits = re.sub(r"\D", "", run)
    if 13 <= len(digits) <= 19 and luhn_ok(digits):
        return CARD
    groups = re.split(r"([ -])", run)  # digits, separator, digits, ...
    words = groups[::2]
    spans = sorted(((i, j) for i in range(len(words)) for j in range(i + 1, len(words) + 1)
                    if 13 <= sum(map(len, words[i:j])) <= 19), key=lambda ij: ij[0] - ij[1])
    for i, j in spans:
        if luhn_ok("".join(words[i:j])):
            return "".join(groups[:2 * i]) + CARD + "".join(groups[2 * j - 1:])
    return run


def redact(text: str) -> str:
    """`text` with e-mails, card numbers, phone numbers and street addresses replaced by markers."""
    if not text or not isinstance(text, str):
        return text
    out = _EMAIL.sub(EMAIL, text)
    out = _CARD.sub(_card, out)
    for rx in _PHONES:
        out = rx.sub(PHONE, out)
    for rx in _ADDRESSES:
        out = rx.sub(ADDRESS, out)
    return out


def redact_obj(obj: Any) -> Any:
    """A copy of a JSON-like value with every string (keys included) redacted; numbers are left alone."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        return {redact(k) if isinstance(k, str) else k: redact_obj(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact_obj(v) for v in obj]
    return obj


def find(text: str) -> list[str]:
    """The raw personal data `redact` would remove from `text` (for audits and tests)."""
    found = [m.group(0) for m in _EMAIL.finditer(text)]
    found += [m.group(0) for m in _CARD.finditer(text) if _card(m) == CARD]
    scrubbed = _CARD.sub(_card, _EMAIL.sub(EMAIL, text))
    for rx in _PHONES:
        found += [m.group(0) for m in rx.finditer(scrubbed)]
        scrubbed = rx.sub(PHONE, scrubbed)
    for rx in _ADDRESSES:
        found += [m.group(0) for m in rx.finditer(scrubbed)]
    return found


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message (and drops the args it was built from)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the raw template
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> RedactingFilter:
    """Attach one `RedactingFilter` to every handler of `logger` (default: the root logger)."""
    logger = logger or logging.getLogger()
    flt = RedactingFilter()
    for handler in logger.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(flt)
    return flt
