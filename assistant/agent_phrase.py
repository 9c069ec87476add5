"""Optional LLM phrasing of reply drafts, under one time limit for all of them.

A rewording is kept only when it has exactly the draft's ids, dates and numbers (and is not much longer);
otherwise, on any backend error, and for every draft not reworded when the time limit passes, the
templated draft stays: it is always a valid answer. The backend runs in a worker thread so that the
caller gets its answer at the limit even when a local model is still evaluating a long prompt.

Knows backends and suggestions; knows nothing about conversations or the UI.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, replace

from assistant.agent_replies import Suggestion

log = logging.getLogger(__name__)
PHRASE_LIMIT_S = 30.0  # all three suggestions together
_FACT_TOKEN = re.compile(r"[A-Z]{1,3}\d{3,}|\d{4}-\d{2}-\d{2}|\d+(?:[.,]\d+)*")
_INSTRUCTION = {
    "zh": "把下面的客服回复改写得更自然、更有礼貌。必须保留所有数字、日期、编号和政策内容，不要添加新的事实。只输出改写后的回复。",
    "en": "Rewrite this customer-service reply to sound warm and natural. Keep every number, date, id and policy "
          "statement exactly; add no new facts. Output only the reply.",
}


def phrase(s: Suggestion, backend, lang: str, timeout_s: float = 30.0) -> Suggestion:
    """An LLM rewording of a draft; kept only if it has exactly the draft's ids, dates and numbers."""
    instruction = _INSTRUCTION["zh" if lang == "zh" else "en"]
    try:
        gen = backend.generate([{"role": "user", "content": f"{instruction}\n\n{s.text}"}], max_tokens=220,
                               timeout_s=timeout_s)
        text = (gen.text if hasattr(gen, "text") else str(gen)).strip()
    except Exception as e:  # the template is always a valid answer
        log.warning("phrasing a suggestion failed: %s", e)
        return s
    if not text or set(_FACT_TOKEN.findall(text)) != set(_FACT_TOKEN.findall(s.text)) or len(text) > 3 * len(s.text):
        return s
    return replace(s, text=text, phrased=True)


@dataclass
class Phrasing:
    """The suggestions after phrasing, how many the LLM reworded, and whether the time limit cut it short."""

    suggestions: list[Suggestion]
    phrased: int
    timed_out: bool
    seconds: float
    limit_s: float

    def note(self) -> str:
        if self.timed_out:
            return (f"The LLM did not finish within {self.limit_s:.0f} s: {self.phrased} of "
                    f"{len(self.suggestions)} reworded, the rest are the templated drafts.")
        return (f"LLM phrasing took {self.seconds:.1f} s: {self.phrased} of {len(self.suggestions)} reworded "
                "(a rewording that changed a fact was discarded).")


def phrase_all(suggestions: list[Suggestion], backend, lang: str, limit_s: float = PHRASE_LIMIT_S) -> Phrasing:
    """Reword the drafts one by one until `limit_s` has passed; what is not done by then stays templated."""
    t0 = time.monotonic()
    deadline = t0 + limit_s
    out = list(suggestions)
    lock, done = threading.Lock(), threading.Event()

    def work() -> None:
        try:
            for i, s in enumerate(suggestions):
                left = deadline - time.monotonic()
                if left <= 0.2:
                    return
                reworded = phrase(s, backend, lang, timeout_s=left)
                with lock:
                    if time.monotonic() <= deadline:
                        out[i] = reworded
        finally:
            done.set()

    threading.Thread(target=work, name="phrase-suggestions", daemon=True).start()
    finished = done.wait(limit_s)
    with lock:
        result = list(out)
    return Phrasing(result, sum(s.phrased for s in result), not finished, round(time.monotonic() - t0, 2), limit_s)
