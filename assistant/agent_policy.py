"""The store policy as quotable sentences: each bullet of a markdown policy filed under its section
('## Refunds') and language, so a reply can quote the one rule it relies on and cite its section.

Knows the policy's markdown layout; knows nothing about orders or conversations.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

ZH_SECTIONS = {"配送": "Shipping", "退货": "Returns", "退款": "Refunds", "保修": "Warranty", "取消订单": "Cancellations"}


@dataclass
class PolicyLine:
    section: str
    lang: str
    text: str


def policy_lines(policy: str) -> list[PolicyLine]:
    """Sentences of a markdown policy with their section ('## Refunds'); a Chinese section's bullets that
    start with a known topic ('退款：') file under that topic's English section."""
    out, section = [], ""
    for raw in policy.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            section = line.lstrip("#").strip()
            continue
        if not line.startswith("- "):
            continue
        body = line[2:].strip()
        head, sep, rest = body.partition("：")
        if sep and head in ZH_SECTIONS:
            out += [PolicyLine(ZH_SECTIONS[head], "zh", s + "。") for s in re.split(r"。", rest) if s.strip()]
        else:
            zh = bool(re.search(r"[\u4e00-\u9fff]", body))
            out += [PolicyLine(section, "zh" if zh else "en", s.strip()) for s in re.split(r"(?<=\.)\s+", body)
                    if s.strip()]
    return out


def find_policy(lines: list[PolicyLine], section: str, lang: str, *any_of: str) -> PolicyLine | None:
    """The first sentence of the section in that language holding any of the words (any sentence when none)."""
    for line in lines:
        if line.section == section and line.lang == lang and (not any_of or any(w in line.text.lower()
                                                                                for w in any_of)):
            return line
    return None
