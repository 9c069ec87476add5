"""Deterministic extraction of what is exact in a customer message: ids, e-mails, zips, names, literals.

Order ids (`#W1234567`, also written without `#`), a partial order id ("ends in 66"), e-mail addresses,
5-digit zip codes, payment method ids (`gift_card_123`) and kinds ("store credit" is a gift card), option or
address literals written as Python/JSON dicts (`{'color': 'red'}`), postal addresses in the usual US shape,
candidate (first, last) names, the cancel reason's two fixed phrasings, and sentence splitting.
Everything here either matches exactly or is checked against the records later (a name only counts
together with the zip it was registered with).

Knows text patterns; nothing about records, rules or models.
"""
from __future__ import annotations

import ast
import re
from typing import Any

_ORDER = re.compile(r"(?<![\w])#?\s?(W\d{7})(?!\d)", re.I)
_SUFFIX = re.compile(r"\b(?:end(?:s|ing)?|last (?:\w+ )?digits?(?: are| is)?)\s+(?:in|with|of)?\s*(?:#?W?)(\d{1,6})\b",
                     re.I)
_EMAIL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_ZIP = re.compile(r"(?<![\d#W\w-])(\d{5})(?![\d-])")
_PAYMENT_ID = re.compile(r"\b((?:gift_card|credit_card|paypal)_\d+)\b")
_DICT = re.compile(r"\{[^{}]*\}")
_NAME_INTRO = re.compile(r"\b(?i:my name is|name's|i am|i'm|this is|it's|it is)\s+([A-Z][a-z'-]+)\s+([A-Z][a-z'-]+)")
_CAPITAL_PAIR = re.compile(r"(?=\b([A-Z][a-z-]+(?:'[a-z]{2,})?)\s+([A-Z][a-z-]+(?:'[a-z]{2,})?)\b)")
_STREET = (r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl|Parkway|Pkwy|"
           r"Terrace|Circle|Cir|Highway|Hwy|Trail|Square|Sq)")
# number and street ("580 Broadway", "12 Elm St."), optional suite, city, two-letter state, zip, optional country
_ADDRESS = re.compile(rf"(?<![\w#])(\d{{1,6}}(?:\s+[A-Za-z0-9.'-]+){{1,5}}?(?:\s+{_STREET}\.?)?)\s*,?\s*"
                      rf"((?:Suite|Ste|Apt|Apartment|Unit|#)\.?\s*[\w-]+)?\s*,?\s*([A-Za-z .'-]+?)\s*,\s*"
                      rf"((?-i:[A-Z]{{2}}))\s*,?\s*(\d{{5}})(?:\s*,?\s*(USA|US|United States))?", re.I)
_GIFT = re.compile(r"gift[\s_-]?card|store credit|website credit|site credit|shop credit|\bgc\b|account credit", re.I)
_PAYPAL = re.compile(r"pay\s?pal", re.I)
_CARD = re.compile(r"credit[\s_-]?card|debit card|\bvisa\b|mastercard|master card|\bamex\b|american express|"
                   r"discover card|\bcard ending", re.I)
_ORIGINAL = re.compile(r"original (?:payment|method|card)|same (?:payment|method|card)|"
                       r"(?:method|card|account) (?:i|it was|the order was) paid with|back to (?:my|the) (?:card|account)",
                       re.I)
_LAST_FOUR = re.compile(r"(?:ending|ends|last (?:four|4)(?: digits)?)\s*(?:in|with|:|is|are)?\s*(\d{4})\b", re.I)
_MISTAKE = re.compile(r"mistake|accident|by error|in error|wrong(?:ly)? (?:order|placed)|didn't mean|did not mean|"
                      r"unintentional", re.I)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+(?=[A-Z#'\"(]|$)|\n+")


def order_ids(text: str) -> list[str]:
    return list(dict.fromkeys("#" + m.upper() for m in _ORDER.findall(text)))


def order_suffixes(text: str) -> list[str]:
    return _SUFFIX.findall(text)


def emails(text: str) -> list[str]:
    return list(dict.fromkeys(e.rstrip(".").lower() for e in _EMAIL.findall(text)))


def zips(text: str) -> list[str]:
    """5-digit zip codes, the ones introduced as a zip code first; those inside a postal address are left out
    (they are where something ships, not who the customer is)."""
    text = _ADDRESS.sub(" ", _DICT.sub(" ", text))
    introduced = re.findall(r"\bzip(?: code)?(?: is|:)?\s*(\d{5})\b", text, re.I)
    return list(dict.fromkeys(introduced + _ZIP.findall(text)))


def malformed_zips(text: str) -> list[str]:
    """Numbers introduced as a zip code that are not 5 digits ("my zip code is 1868"): said back, never looked up."""
    return [z for z in re.findall(r"\bzip(?: ?code)?(?: is|:)?\s*(\d{1,12})\b", text, re.I) if len(z) != 5]


def payment_ids(text: str) -> list[str]:
    return list(dict.fromkeys(_PAYMENT_ID.findall(text)))


def payment_kinds(text: str) -> list[str]:
    """Payment kinds named, in order of mention: gift_card, paypal, credit_card, original."""
    found = []
    for kind, rx in (("gift_card", _GIFT), ("paypal", _PAYPAL), ("credit_card", _CARD), ("original", _ORIGINAL)):
        m = rx.search(_PAYMENT_ID.sub(" ", text))
        if m:
            found.append((m.start(), kind))
    return [k for _, k in sorted(found)]


def card_last_four(text: str) -> list[str]:
    return _LAST_FOUR.findall(text)


def dict_literals(text: str) -> list[tuple[int, int, dict[str, Any]]]:
    """(start, end, dict) for each `{...}` literal that parses as a flat dict of strings."""
    out = []
    for m in _DICT.finditer(text):
        try:
            value = ast.literal_eval(m.group(0))
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            out.append((m.start(), m.end(), {k: str(v) for k, v in value.items()}))
    return out


def introduced_names(text: str) -> list[tuple[str, str]]:
    """(first, last) names the customer introduced ("my name is ...", "I'm ...")."""
    intro = [(a, b) for a, b in _NAME_INTRO.findall(text)]
    intro += [(a.capitalize(), b.capitalize()) for a, b in re.findall(r"\bmy name is\s+([a-z'-]+)\s+([a-z'-]+)",
                                                                        text, re.I)]
    return list(dict.fromkeys(intro))


def names(text: str) -> list[tuple[str, str]]:
    """Candidate (first, last) names: introduced ones first, then other capitalised word pairs."""
    return list(dict.fromkeys(introduced_names(text) + _CAPITAL_PAIR.findall(text)))


def addresses(text: str) -> list[dict[str, str]]:
    """Postal addresses: dict literals with address fields, and 'N Street, Suite, City, ST 12345' shapes."""
    out = [_address_from_dict(d) for _, _, d in dict_literals(text) if "address1" in d]
    for m in _ADDRESS.finditer(_DICT.sub(" ", text)):
        out.append({"address1": m.group(1).strip(), "address2": (m.group(2) or "").strip(), "city": m.group(3).strip(),
                    "state": m.group(4).upper(), "country": "USA", "zip": m.group(5)})
    return out


def _address_from_dict(d: dict[str, str]) -> dict[str, str]:
    return {k: d.get(k, "") for k in ("address1", "address2", "city", "state", "country", "zip")}


def cancel_reason(text: str) -> str:
    return "ordered by mistake" if _MISTAKE.search(text) else ""


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]
