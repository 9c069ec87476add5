"""What the screens print, without a browser: untrusted text stays text, titles are cut at a word, counts
agree with their noun, the header names the model file."""
from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.titles import clip
from ui import components as C
from ui.markup import fenced_json, md_text


def rendered(markdown: str) -> str:
    """What a Markdown renderer (markdown-it, CommonMark + HTML, as Gradio's marked) makes of the text."""
    mdit = pytest.importorskip("markdown_it")
    return mdit.MarkdownIt("commonmark").render(markdown)


@pytest.mark.parametrize("text", ["<b>bold</b> and <img src=http://x/p.png>", "![pixel](http://x/p.png)",
                                  "[link](http://x) **strong** _em_ `code` ~~gone~~ a|b", "a \\<b> c"])
def test_untrusted_text_renders_as_the_same_characters(text):
    html = rendered(md_text(text))
    assert "<img" not in html and "<b>" not in html and "<a " not in html and "<strong>" not in html
    assert "<em>" not in html and "<code>" not in html
    from html import unescape

    assert unescape(re.sub(r"<[^>]+>", "", html)).strip() == text


def test_escaping_streamed_pieces_one_by_one_equals_escaping_the_whole():
    text = "Aqua <b>Bold</b> *Bottle* ![x](http://y) & co"
    assert "".join(md_text(ch) for ch in text) == md_text(text)


def test_json_in_a_fence_cannot_close_it():
    html = rendered(fenced_json({"query": "```\n<img src=http://x/p.png>"}))
    assert "<img" not in html and html.count("<pre>") == 1


def test_titles_are_cut_after_a_word_and_marked():
    cable = "boAt Laptop, Smartphone Type-C USB Cable with 3A Fast Charging"
    assert clip(cable, 41) == "boAt Laptop, Smartphone Type-C USB Cable…"
    assert clip("Voltix Nova 9 Power Bank (20W fast charging, 10000mAh capacity, Black)", 48) == \
        "Voltix Nova 9 Power Bank…"
    assert clip("Short title", 48) == "Short title"
    for title in (cable, "Pixora Z4 Max Camera Phone (12GB RAM, 128GB storage)", "Wirecraft Go 6 Pro Lightning Cable"):
        for limit in range(12, len(title)):
            shown = clip(title, limit)
            assert len(shown) <= limit and shown.endswith("…")
            head = shown[:-1]
            assert title.startswith(head) and not title[len(head)].isalnum(), (title, limit, shown)


def test_counts_agree_with_their_noun():
    assert C.counted(1, "en", "reviews") == "1 review" and C.counted(2, "en", "reviews") == "2 reviews"
    assert C.counted(1, "en", "ratings") == "1 rating" and C.counted(1_200, "en", "ratings") == "1,200 ratings"
    assert C.counted(1, "en", "orders") == "1 order" and C.counted(1, "zh", "reviews") == "1 条评价"
    summary = C.review_summary({"product_id": "P1", "n_reviews": 1, "positive": 1, "aspects": []}, "en")
    assert "1 review " in summary and "1 reviews" not in summary


def test_tool_steps_show_catalog_html_as_text():
    call = {"name": "get_product", "arguments": {"product_id": "B0HTML0001"},
            "result": {"title": "Aqua <b>Bold</b>", "description": "cold <img src='http://x/p.png'> water"}}
    html = rendered(C.tool_body(call)) + rendered(C.tool_title({**call, "arguments": {"query": "<b>x</b>"}}))
    assert "<img" not in html and "<b>" not in html and "&lt;img" in html


def test_the_notice_of_a_message_over_the_limit_names_both_lengths():
    notice = C.label("en", "too_long").format(n=4_321, limit=4_000)
    status = C.turn_status(3, None, notice)
    assert "4,321" in status and "4,000" in status and 'data-turn="3"' in status and "sa-notice" in status


def test_the_header_names_the_model_file_not_its_alias():
    gguf = SimpleNamespace(name="llamacpp", model_id="qwen0.5b",
                           model_path=Path("/m/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"))
    assert C.model_label(gguf) == "Qwen2.5-Coder-0.5B-Instruct Q4_K_M"
    assert C.model_label(SimpleNamespace(model_path=Path("/m/SmolLM2-135M-Instruct.Q4_1.gguf"))) == \
        "SmolLM2-135M-Instruct Q4_1"
    assert C.model_label(SimpleNamespace(name="openai", model_id="Qwen/Qwen2.5-7B-Instruct")) == \
        "Qwen/Qwen2.5-7B-Instruct"


def test_served_commands_log_our_lines_and_only_warnings_from_libraries(monkeypatch):
    import logging

    from ui.logs import library_noise, setup_logging

    def record(name: str, level: int) -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, "message", None, None)

    assert library_noise(record("faiss.loader", logging.INFO)) and library_noise(record("bm25s", logging.DEBUG))
    assert not library_noise(record("bm25s", logging.WARNING)) and not library_noise(record("ui.api", logging.INFO))
    monkeypatch.setenv("SHOPASSIST_LOG", "loud")
    with pytest.raises(ValueError, match="SHOPASSIST_LOG"):
        setup_logging()


def test_a_finished_tool_call_replaces_its_running_step():
    """The engine sends each tool event with its own copy of the call: the chat still shows one step per call."""
    from assistant.engine import ToolEvent
    from ui.shopper import Shopper

    messages = [{"role": "user", "content": "power bank"}]
    for done in (False, True):
        Shopper._show(ToolEvent({"name": "search_products", "arguments": {"query": "power bank"},
                                 **({"result": {"products": []}, "ms": 12.0} if done else {})}, done), messages)
    Shopper._show(ToolEvent({"name": "get_product", "arguments": {"product_id": "P1"}}, False), messages)
    steps = [m["metadata"] for m in messages if m.get("metadata")]
    assert [s["status"] for s in steps] == ["done", "pending"] and "search\\_products" in steps[0]["title"]
