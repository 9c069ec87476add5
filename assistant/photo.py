"""Shopping from a photo or a screenshot: one turn whose words come (partly) from an image.

`PhotoSearch.stream(session, text, image_bytes)` yields the engine's own events: a tool step
`read_image_text` (what OCR found and the query read from it), a short sentence saying what was read
("I read 'boAt Airdopes 141' on the image."), then the engine's turn over that query through
`Assistant.stream`, so the same hybrid search, "nothing matches" flag, product cards and grounding
apply. Words the shopper typed with the image are kept ("is this any good?" asks about the product
read). A file that is not a usable image, a photo with no readable text and a missing OCR package
each get a clear reply, never a traceback. The OCR engine loads on the first image.

Knows nothing about Gradio, HTTP or terminals.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from typing import Iterator

from assistant.engine import Assistant, DoneEvent, TextEvent, ToolEvent, TurnResult, detect_lang
from assistant.ocr import OcrUnavailable, load_ocr
from assistant.photo_image import PhotoError, load_picture
from assistant.photo_query import PhotoReader, Reading
from assistant.session import Session

log = logging.getLogger(__name__)
TOOL = "read_image_text"
_DEICTIC = re.compile(r"\b(?:this|that|these|it)(?:\s+(?:one|product|item|thing|photo|picture|image|pic|"
                      r"screenshot))?\b|"
                      r"(?:这个|这款|同款|图中的?|图片里的?|照片里的?|截图里的?)(?:商品|产品|东西)?", re.I)
MESSAGES = {
    "read": ("I read '{q}' on the image.", "我在图片上读到：“{q}”。"),
    "no_text": ("I could not read any text on the image. A closer, sharper photo of the product name or label "
                "helps, or type the product name.", "我没能在图片上读到文字。请拍得更近、更清楚一些（对准商品名称或标签），或者直接输入商品名称。"),
    "no_product": ("I read '{q}' on the image, but none of it names a product or brand we carry. Could you type "
                   "the product name?", "我在图片上读到：“{q}”，但其中没有我们店里的商品或品牌。能直接输入商品名称吗？"),
    "unavailable": ("Photo search is not available on this server (its OCR models are not installed); please "
                    "type the product name.", "此服务器未安装图片识别模型，暂时不能识图搜索，请输入商品名称。"),
    "failed": ("Sorry, I could not read that image. Please try another photo or type the product name.",
               "抱歉，这张图片读取失败。请换一张照片，或直接输入商品名称。"),
}


def message(key: str, lang: str, **kw) -> str:
    en, zh = MESSAGES[key]
    return (zh if lang == "zh" else en).format(**kw)


class PhotoSearch:
    """OCR plus reading for one assistant. `ocr` may be injected (an engine with `read(pixels)`)."""

    def __init__(self, assistant: Assistant, ocr=None, engine: str = "ppocrv4"):
        self.assistant, self.engine = assistant, engine
        u = assistant.understander  # the store's brands, and those that are also ordinary words
        self.reader = PhotoReader.for_index(assistant.index, u.brands, u.word_brands)
        self._ocr, self._load_lock = ocr, threading.Lock()

    def ocr(self):
        with self._load_lock:  # two first photos at once load the models once
            if self._ocr is None:
                self._ocr = load_ocr(self.engine)
            return self._ocr

    def read(self, image_bytes: bytes) -> tuple[Reading, dict]:
        """(reading, tool result) of an image; PhotoError for a bad file, OcrUnavailable without the package."""
        t0 = time.perf_counter()
        picture = load_picture(image_bytes)
        t_decode = time.perf_counter()
        found = self.ocr().read(picture.pixels)
        reading = self.reader.read(found.lines)
        result = {"lines": [{"text": ln.text, "score": round(ln.score, 3)} for ln in found.lines],
                  "query": reading.query, "brand": reading.brand, "models": reading.models,
                  "capacities": reading.capacities, "image": {"format": picture.format, "size": list(picture.size),
                                                              "original_size": list(picture.original_size),
                                                              "exif_rotated": picture.rotated_by_exif},
                  "timings": {"decode_ms": round((t_decode - t0) * 1e3, 1),
                              **{k: round(v, 1) for k, v in found.timings.items()}}}
        return reading, result

    def stream(self, session: Session, text: str, image_bytes: bytes) -> Iterator[ToolEvent | TextEvent | DoneEvent]:
        text = (text or "").strip()
        lang = detect_lang(text) if text else session.lang
        call = {"name": TOOL, "arguments": {"image_bytes": len(image_bytes or b"")}, "source": "photo"}
        yield ToolEvent(call, done=False)
        t0 = time.perf_counter()
        reading, problem = self._read(call, image_bytes, lang)
        call["ms"] = round((time.perf_counter() - t0) * 1e3, 1)
        yield ToolEvent(call, done=True)
        if problem is None and reading is not None and not reading.query:
            raw = " ".join(ln["text"] for ln in call["result"]["lines"])[:80]
            problem = message("no_product", lang, q=raw) if raw else message("no_text", lang)
        if problem is not None:
            yield from self._without_query(session, text, lang, problem, call)
            return
        words = reading.query
        announce = message("read", lang, q=words)
        yield TextEvent(announce + " ")
        if text:  # the shopper's own question about the product on the picture
            yield from self._delegate(session, compose(text, words), announce, call)
        else:  # the picture alone: a product search on exactly the words read, under the brand printed on it
            yield from self._delegate(session, words, announce, call,
                                      search={"query": words, "brand": reading.brand})

    def _read(self, call: dict, image_bytes: bytes, lang: str) -> tuple[Reading | None, str | None]:
        try:
            reading, call["result"] = self.read(image_bytes or b"")
            return reading, None
        except PhotoError as e:
            call["error"] = str(e)
            return None, e.message(lang)
        except OcrUnavailable as e:
            call["error"] = str(e)
            return None, message("unavailable", lang)
        except Exception as e:  # a bug or a model failure: an apology for the shopper, the detail in the log
            log.exception("reading an image failed")
            call["error"] = f"internal error reading the image ({type(e).__name__})"
            return None, message("failed", lang)

    def _without_query(self, session: Session, text: str, lang: str, problem: str, call: dict) -> Iterator:
        """The problem said; the shopper's own words, if any, still get their answer."""
        if text:
            yield TextEvent(problem + " ")
            yield from self._delegate(session, text, problem, call)
            return
        res = TurnResult(text=problem, intent="browse", lang=lang, tool_calls=[call],
                         errors=[f"image: {call.get('error') or 'no product words read'}"])
        res.timings["total_ms"] = res.timings["ttft_ms"] = call.get("ms", 0.0)
        yield TextEvent(problem)
        yield DoneEvent(res)

    def _delegate(self, session: Session, query: str, prefix: str, call: dict, search: dict | None = None) -> Iterator:
        for event in self.assistant.stream(session, query, search=search):
            if isinstance(event, DoneEvent):
                res = event.result
                res.text = f"{prefix} {res.text}".strip()
                res.tool_calls.insert(0, call)
                res.timings["image_ms"] = call.get("ms", 0.0)
            yield event


def compose(text: str, query: str) -> str:
    """The shopper's words with the read product in place of "this" / "这款" (else after them)."""
    if _DEICTIC.search(text):
        return _DEICTIC.sub(lambda m: query, text, count=1)
    return f"{text} {query}"


def stream_with_image(photos: PhotoSearch, session: Session, text: str,
                      image_bytes: bytes) -> Iterator[ToolEvent | TextEvent | DoneEvent]:
    """One turn of `text` plus an image, as the engine's events (the entry point the UI, API and CLI call)."""
    return photos.stream(session, text, image_bytes)
