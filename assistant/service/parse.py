"""The model's reading of a customer message: one action label per sentence, under a JSON-schema constraint.

Each sentence goes to the backend with the fixed instructions of prompts/service_parse.md and a few fixed
examples (the same prefix every call, so llama.cpp reuses its cache and pays only for the sentence), and
comes back as `{"action": <label>}`, valid by construction. Everything exact in the message (ids, e-mails,
zips, product and option words) is read by code (`extract`, `vocab`), not by the model. A sentence whose
own exact action word decides ("cancel", "return", "exchange"...: see `combine`) and one that only gives a
name, e-mail or zip are not sent to the model; when the backend fails or is absent, the action words label
every sentence, and the parse says which source labelled it.

Knows the labels and the prompt; nothing about orders, customers or rules.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

import prompts
from assistant.errors import BackendError
from assistant.service.extract import sentences

log = logging.getLogger(__name__)
LABELS = ("cancel", "return", "exchange", "address", "payment", "profile_address", "keep", "info", "human", "none")
SCHEMA = {"type": "object", "properties": {"action": {"type": "string", "enum": list(LABELS)}},
          "required": ["action"], "additionalProperties": False}
EXAMPLES = [  # written for the labels, not taken from any evaluation set
    ("I'd like my money back for the lamp, it stopped working.", "return"),
    ("Please stop the order I placed yesterday before it ships.", "cancel"),
    ("Can I get the jacket in medium and in blue instead?", "exchange"),
    ("Could you ship that order to my office at 5 Elm Street, Austin, TX 73301 instead?", "address"),
    ("I want to pay for it with my credit card rather than PayPal.", "payment"),
    ("Please update the home address on my account.", "profile_address"),
    ("Never mind, I will hold on to the chair.", "keep"),
    ("What colors does the backpack come in?", "info"),
    ("I want to talk to your manager about a voucher.", "human"),
    ("Hi, I'm Jane Roe and my zip code is 10001.", "none"),
]
_KEYWORDS = [  # exact action words, most specific first; the model handles paraphrase
    ("keep", r"^(?!.*(?:\bnot\b|\bnever\b|n't\b).{0,20}\bkeep\b).*(?:\bkeep (?:it|them|the|all|everything)\b|"
             r"\bnever ?mind\b)"),
    ("cancel", r"\bcancel"),
    ("profile_address", r"\b(?:default|profile|account|home) address\b"),
    ("address", r"\b(?:shipping |delivery )?address\b|\bship (?:it|them) to\b"),
    ("payment", r"\bpayment method\b|\bchange (?:the )?payment\b|\bpay (?:for it )?(?:with|by|using)\b|"
                r"\bcharge (?:it |them )?(?:to |on )?my\b"),
    ("exchange", r"\bexchange|\bswap|\breplace|\bswitch\b|\binstead\b|\bmodify\b|"
                 r"\bchange (?:it|them|this|that)\b.{0,30}\bto\b"),
    ("return", r"\breturn|\brefund|\bsend (?:it|them|\w+) back\b"),
    ("human", r"\bhuman\b|\bsupervisor\b|\bmanager\b|\bcoupon\b|\breal person\b"),
    ("info", r"\?\s*$"),
]


@dataclass
class SentenceParse:
    text: str
    action: str
    source: str  # llm | keywords | llm+keywords | identity (no model call) | fallback (the backend failed)
    llm: str = ""


_REQUEST_CUE = re.compile(r"\b(?:want|wanna|would like|'d like|need|please|can you|could you|can i|could i|"
                          r"wish|prefer|rather|instead|let me|like to|hoping|hope to|going to|gonna|won't|"
                          r"will not|don't|do not|decide|decided|mind)\b|\?", re.I)
def combine(llm: str, keyword: str, sentence: str) -> tuple[str, str]:
    """The model's label, checked by the sentence's own words. An exact action word decides when the model
    disagrees; an action only the model saw needs the sentence to ask for something (not just describe an
    order); "keep", which drops requests, needs the customer's own words for it."""
    if keyword not in ("none", "info"):
        return keyword, "llm+keywords" if keyword == llm else "keywords"
    if llm == "keep" or (llm not in ("none", "info") and not _REQUEST_CUE.search(sentence)):
        return keyword, "llm+keywords"
    return llm, "llm"


_IDENTITY_WORDS = re.compile(r"\b(?:hi|hello|hey|my|name|is|and|i'm|i|am|it's|its|zip|code|postal|e-?mail|"
                             r"address|the|this|here|are|it|yes|sure|of course|thanks|thank you)\b", re.I)


def _only_identity(sentence: str) -> bool:
    """A sentence that only gives an e-mail, a zip code and a name (what code reads exactly)."""
    from assistant.service import extract

    rest = sentence
    for e in extract.emails(sentence):
        rest = re.sub(re.escape(e), " ", rest, flags=re.I)
    if rest == sentence and not extract.zips(sentence):
        return False
    for first, last in extract.names(sentence)[:1]:
        rest = rest.replace(f"{first} {last}", " ")
    rest = re.sub(r"\d{5}", " ", _IDENTITY_WORDS.sub(" ", rest))
    return not re.sub(r"[\W_]+", "", rest)


def keyword_label(sentence: str) -> str:
    from assistant.service.extract import addresses

    if addresses(sentence) and not re.search(_KEYWORDS[0][1], sentence, re.I):  # a postal address written out
        return "profile_address" if re.search(dict(_KEYWORDS)["profile_address"], sentence, re.I) else "address"
    for label, pattern in _KEYWORDS:
        if re.search(pattern, sentence, re.I):
            return label
    return "none"


class MessageParser:
    """Labels each sentence of a message with the backend (None: action words only)."""

    def __init__(self, backend=None, temperature: float = 0.0, seed: int = 0, timeout_s: float = 60.0):
        self.backend, self.temperature, self.seed, self.timeout_s = backend, temperature, seed, timeout_s
        self.calls = 0
        self.system = prompts.render("service_parse.md")

    def messages(self, sentence: str) -> list[dict[str, str]]:
        examples = "\n".join(f"Sentence: {text}\nAction: {label}\n" for text, label in EXAMPLES)
        return [{"role": "system", "content": self.system},
                {"role": "user", "content": f"Examples:\n{examples}\nNow label this one.\nSentence: {sentence}\n"
                                            f"Action:"}]

    def label(self, sentence: str) -> SentenceParse:
        if _only_identity(sentence):
            return SentenceParse(sentence, "none", "identity")
        keyword = keyword_label(sentence)
        if self.backend is None or keyword not in ("none", "info"):
            return SentenceParse(sentence, keyword, "keywords")  # an exact action word decides (see `combine`)

        try:
            self.calls += 1
            g = self.backend.generate(self.messages(sentence), json_schema=SCHEMA, max_tokens=16,
                                      temperature=self.temperature, seed=self.seed + self.calls,
                                      timeout_s=self.timeout_s)
            action = json.loads(g.text).get("action")
        except (BackendError, ValueError, AttributeError) as e:
            log.warning("service parse fell back to action words: %s", e)
            return SentenceParse(sentence, keyword, "fallback")
        if action not in LABELS:
            return SentenceParse(sentence, keyword, "fallback")
        final, source = combine(action, keyword, sentence)
        return SentenceParse(sentence, final, source, llm=action)

    def parse(self, text: str) -> list[SentenceParse]:
        return [self.label(s) for s in sentences(text)]
