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


# the sections a question is about, from its words (English, Chinese, Hinglish)
_TOPICS = {
    "Returns": r"return|send (?:it )?back|exchange|replace|broke|damaged|defective|wrong item|退货|退|换货|换|坏|破损|"
               r"发错|wapas",
    "Refunds": r"refund|money back|paid|cash on delivery|\bcod\b|bank transfer|退款|到账|退钱|paise",
    "Shipping": r"ship|deliver|express|courier|free shipping|cash on delivery|\bcod\b|运费|配送|发货|包邮|加急|货到付款|"
                r"快递|delivery charge",
    "Warranty": r"warranty|guarantee|保修|质保",
    "Cancellations": r"cancel|取消",
}
_SYNONYMS = {r"\bcod\b": "cash on delivery 货到付款", r"money back": "refund refunded", r"how long": "days",
             r"\bfree\b": "free", r"express": "express", r"skincare|sunscreen|face wash|moisturi[sz]er|防晒|护肤|面霜": "skincare 护肤品",
             r"charger|cable|power bank|充电": "chargers cables 充电器", r"shoe|bag|backpack|鞋|包": "shoes bags 鞋、包"}
_DAMAGE = re.compile(r"broke|broken|damaged|defective|not working|stopped working|wrong item|坏|破损|故障|发错", re.I)


def relevant_lines(lines: list[PolicyLine], question: str, lang: str, n: int = 2) -> list[PolicyLine]:
    """The policy sentences that answer a question: those of the sections its words name (a damaged item's
    rule first), ranked by the words they share with it; in the shopper's language where the policy has it."""
    q = question.lower()
    for word, meaning in _SYNONYMS.items():
        q = re.sub(word, lambda m: f"{m.group(0)} {meaning}", q)
    sections = [s for s, rx in _TOPICS.items() if re.search(rx, q)]
    words = set(re.findall(r"[a-z]{3,}|[\u4e00-\u9fff]{2}", q)) - {"the", "and", "can", "you", "for", "what", "how"}
    pool = [ln for ln in lines if ln.lang == lang] or [ln for ln in lines if ln.lang == "en"] or lines

    def score(ln: PolicyLine) -> tuple:
        text = ln.text.lower()
        damage = bool(_DAMAGE.search(q) and _DAMAGE.search(text))
        overlap = sum(w in text for w in words)
        return (damage, overlap + 2 * (ln.section in sections), overlap)

    ranked = sorted(pool, key=score, reverse=True)
    return [ln for ln in ranked if ln.section in sections or score(ln)[2] >= 2][:n]
