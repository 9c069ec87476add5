"""The Gradio app in a real browser: headless Debian Chromium driven by Python Playwright.

The app runs as `shopassist serve` in a subprocess on 127.0.0.1 (templated replies, backend none) over a
small demo index; one more test runs the real default CPU model end to end (`--backend llamacpp --model
qwen0.5b`). The tests write nothing into the repository: the README's screenshots come from
docs/make_screenshots.py, which drives the same app. Skipped when Debian's chromium is absent.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.browser_app import ARGS, App, ask, chromium_path, last_reply, new_page, open_conversation, pick_persona
from tests.test_api import demo_index_dir

pytestmark = pytest.mark.slow  # a browser and an app server per module: run by .ci/run
CJK = re.compile(r"[\u4e00-\u9fff]")


def require_chromium() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip("Debian's chromium is not installed (install.sh installs it: apt-get install chromium); "
                    "the browser tests need it")
    return path


@pytest.fixture(scope="module")
def index_dir() -> Path:
    return demo_index_dir()


@pytest.fixture(scope="module")
def app(index_dir):
    app = App(index_dir, "--backend", "none")
    yield app
    app.close()


@pytest.fixture(scope="module")
def browser():
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser, app):
    page = new_page(browser, app.url)  # product images live on the internet: they fail, the placeholder shows
    yield page
    page.context.close()


def test_ask_see_cards_add_to_cart_and_rate_the_reply(page, index_dir):
    ask(page, "power bank", ".sa-card")
    chat = page.inner_text("#shopper-chat")
    assert "search_products" in chat and "Power Bank" in chat
    cards = page.locator(".sa-card")
    assert cards.count() >= 2
    first = cards.first.inner_text()
    assert "Power Bank" in first and "₹" in first and re.search(r"\(\d+ ratings\)", first)
    page.wait_for_function("() => [...document.querySelectorAll('.sa-card img')].every(i => i.complete)")
    images = page.eval_on_selector_all(".sa-card img", "els => els.map(e => [e.naturalWidth, e.src.slice(0, 26)])")
    assert all(w > 0 and src.startswith("data:image/svg+xml") for w, src in images), images  # placeholder shown

    pid = page.locator(".sa-card").first.get_attribute("data-product-id")
    page.locator(".sa-add").first.click()
    page.wait_for_selector(f"#cart-panel tr[data-product-id='{pid}']")
    cart = page.inner_text("#cart-panel")
    assert "(1)" in cart and "₹" in cart
    assert "add_to_cart" in page.inner_text("#shopper-chat")
    page.locator(".sa-add").first.click()
    page.wait_for_function("() => document.querySelector('#cart-panel').innerText.includes('(2)')")

    log = index_dir / "feedback.jsonl"
    seen = len(log.read_text().splitlines()) if log.exists() else 0
    page.locator("#shopper-chat button[aria-label='Like']").nth(1).click()  # the reply, after the tool step
    deadline = time.time() + 20
    while time.time() < deadline and (not log.exists() or len(log.read_text().splitlines()) <= seen):
        time.sleep(0.3)
    record = json.loads(log.read_text().splitlines()[-1])
    assert record["feedback"] == 1 and record["user"] == "power bank" and record["turn"] == 0


def test_two_browser_tabs_get_separate_sessions(page, browser, app):
    ask(page, "power bank", ".sa-card")
    page.locator(".sa-add").first.click()
    page.wait_for_function("() => document.querySelector('#cart-panel').innerText.includes('(1)')")
    other = browser.new_context().new_page()
    other.goto(app.url)
    other.wait_for_selector("#shopper-input textarea")
    ask(other, "what's in my cart?")
    assert "empty" in last_reply(other).lower() and "(1)" not in other.inner_text("#cart-panel")
    other.context.close()


def test_comparison_table_and_review_bars(page):
    ask(page, "power bank", ".sa-card")
    ask(page, "compare the first two", ".sa-compare table")
    table = page.inner_text(".sa-compare")
    assert table.count("₹") >= 2 and ("cheapest" in table or "best rated" in table)
    ask(page, "what do reviewers say about the first one?", ".sa-reviews")
    reviews = page.locator(".sa-reviews")
    assert re.search(r"\d+ reviews", reviews.inner_text())
    assert page.locator(".sa-reviews .sa-aspect .sa-bar").count() >= 1
    assert page.locator(".sa-reviews .sa-quote").count() >= 1


def test_chinese_question_gets_a_chinese_reply(page, index_dir):
    from retrieval.store import Store

    store = Store.load(index_dir / "store")
    zh_user = next(u for u in sorted(store.users.values(), key=lambda u: u.user_id) if u.lang == "zh")
    pick_persona(page, zh_user.user_id)
    ask(page, "推荐一款充电宝", ".sa-card")
    reply = last_reply(page)
    assert len(CJK.findall(reply)) >= 4, reply
    assert page.locator(".sa-add").first.inner_text().strip() == "加入购物车"




def test_switching_persona_starts_a_new_session_and_changes_recommendations(page, index_dir):
    from retrieval.store import Store

    store = Store.load(index_dir / "store")
    a, b = [u for u in sorted(store.users.values(), key=lambda u: u.user_id) if u.lang == "en"
            and store.friends_of(u.user_id)][:2]
    pick_persona(page, a.user_id)
    ask(page, "recommend something for me", ".sa-card")
    first = page.eval_on_selector_all(".sa-card", "els => els.map(e => e.dataset.productId)")
    assert "recommend" in page.inner_text("#shopper-chat")
    pick_persona(page, b.user_id)
    page.wait_for_selector("#turn-status .sa-status[data-turn='0']")
    page.wait_for_function("() => !document.querySelector('#shopper-chat').innerText.includes('recommend')")
    assert b.name in page.inner_text("#persona-panel")
    ask(page, "recommend something for me", ".sa-card")
    second = page.eval_on_selector_all(".sa-card", "els => els.map(e => e.dataset.productId)")
    assert first and second and first != second


def test_agent_console_insert_edit_and_send_a_suggestion(page, index_dir):
    from retrieval.store import Store

    store = Store.load(index_dir / "store")
    conv = next(c for c in store.conversations if c["topic"] == "order_tracking" and c["lang"] == "en")
    order = store.orders[conv["order_id"]]
    open_conversation(page, conv["conversation_id"])
    analysis = page.inner_text("#agent-analysis")
    assert "Intent" in analysis and "Sentiment" in analysis and "Purchase propensity" in analysis
    assert order.order_id in page.inner_text("#agent-orders")
    cites = page.inner_text("#suggestion-0") + page.inner_text("#suggestion-1") + page.inner_text("#suggestion-2")
    assert f"order {order.order_id}." in cites and "policy §" in cites
    page.click("#insert-0")
    page.wait_for_function("() => document.querySelector('#agent-reply textarea').value.length > 20")
    inserted = page.input_value("#agent-reply textarea")
    assert order.order_id in inserted
    page.fill("#agent-reply textarea", inserted + " Anything else I can help with?")
    page.click("#agent-send")
    page.wait_for_function("() => document.querySelector('#agent-transcript').innerText.includes('Anything else I can help')")
    assert page.input_value("#agent-reply textarea") == ""


def test_real_cpu_model_end_to_end(browser, index_dir):
    """The default backend (llama.cpp on CPU) with the small Qwen model: one short turn in the browser."""
    app = App(index_dir, "--backend", "llamacpp", "--model", "qwen0.5b", timeout_s=600)
    try:
        page = new_page(browser, app.url, timeout_ms=300_000)
        header = page.inner_text("body")
        assert "LLM: llamacpp" in header and "Warning" not in header, app.output()
        assert "Qwen2.5-Coder-0.5B-Instruct Q4_K_M" in header and "qwen0.5b" not in header  # the file, not the alias
        ask(page, "power bank", ".sa-card")
        tokens = int(page.get_attribute("#turn-status .sa-status", "data-prompt-tokens"))
        assert tokens > 50, "the model was not called"  # the answer prompt went through llama.cpp
        reply = last_reply(page)
        assert reply.strip() and "Traceback" not in reply and "went wrong" not in reply
        assert re.search(r"power bank|₹|\d", reply, re.I), reply
        page.context.close()
    finally:
        app.close()
