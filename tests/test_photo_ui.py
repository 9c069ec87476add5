"""Photos through the three front doors: the OpenAI-compatible API (image_url content parts, with the
official `openai` client against a real server), the terminal chat (`/photo PATH`) and the shopper chat in
a real browser (an attached image gets the right product card). The OCR is the real PP-OCRv4 model."""
from __future__ import annotations

import base64
import os
import random
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.test_api import ROOT, Server, demo_index_dir

pytest.importorskip("rapidocr_onnxruntime", reason="the OCR extra is not installed: pip install -e '.[ocr]'")


@pytest.fixture(scope="module")
def index_dir() -> Path:
    return demo_index_dir()


@pytest.fixture(scope="module")
def product(index_dir):
    from retrieval.store import Store

    store = Store.load(index_dir / "store")
    return next(p for p in sorted(store.products.values(), key=lambda p: p.product_id) if p.lang == "en")


def box_jpeg(p, level: str = "clean", seed: int = 0) -> bytes:
    from eval.photo_render import damage, render_box

    rng = random.Random(seed)
    return damage(render_box(p, rng), rng, level)[0]


@pytest.fixture(scope="module")
def base_url(index_dir):
    from assistant.app import load_assistant
    from ui.api import create_app

    with Server(create_app(load_assistant(index_dir, backend="none"), model_name="shopassist-test")) as url:
        yield url


def _image_message(data: bytes, text: str = "") -> dict:
    url = "data:image/jpeg;base64," + base64.b64encode(data).decode()
    return {"role": "user", "content": [{"type": "text", "text": text},
                                        {"type": "image_url", "image_url": {"url": url}}]}


# ---- the API: fast refusals --------------------------------------------------------------------------

@pytest.mark.parametrize("url, status, code", [
    ("https://example.com/box.jpg", 400, "remote_image_url"),
    ("file:///etc/passwd", 400, "remote_image_url"),
    ("data:image/jpeg;base64,@@@not base64@@@", 400, "invalid_image_url"),
    ("data:text/plain,hello", 400, "invalid_image_url"),
])
def test_api_refuses_remote_and_malformed_image_urls(base_url, url, status, code):
    body = {"model": "shopassist", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "find this"}, {"type": "image_url", "image_url": {"url": url}}]}]}
    r = httpx.post(base_url + "/v1/chat/completions", json=body, timeout=30)
    assert r.status_code == status and r.json()["error"]["code"] == code, r.text
    assert "Traceback" not in r.text


def test_api_body_limits_with_and_without_an_image(base_url):
    big_text = {"model": "shopassist", "messages": [{"role": "user", "content": "a" * 3000}] * 40}  # ~120 KB, no image
    r = httpx.post(base_url + "/v1/chat/completions", json=big_text, timeout=30)
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"
    two = {"model": "shopassist", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}] * 2}]}
    r = httpx.post(base_url + "/v1/chat/completions", json=two, timeout=30)
    assert r.status_code == 400 and r.json()["error"]["code"] == "too_many_images"


def test_api_not_an_image_gets_a_clear_reply(base_url):
    body = {"model": "shopassist", "messages": [_image_message(b"GIF89 this is no picture")]}
    r = httpx.post(base_url + "/v1/chat/completions", json=body, timeout=60)
    assert r.status_code == 200, r.text
    assert "not an image" in r.json()["choices"][0]["message"]["content"]
    assert r.json()["shopassist"]["products"] == []


# ---- the API and the terminal with the real OCR (slow) ---------------------------------------------------

@pytest.mark.slow
def test_openai_client_sends_a_photo_and_gets_the_product(base_url, product):
    from openai import OpenAI

    client = OpenAI(base_url=base_url + "/v1", api_key="unused", max_retries=0, timeout=300)
    r = client.chat.completions.create(model="shopassist", messages=[_image_message(box_jpeg(product, "damaged", 1))])
    ext = r.model_extra["shopassist"]
    assert ext["tool_calls"][0]["name"] == "read_image_text" and not ext["no_match"]
    assert product.product_id in [p["product_id"] for p in ext["products"]][:5]
    assert r.choices[0].message.content.startswith(f"I read '{product.brand}")
    stream = client.chat.completions.create(model="shopassist", stream=True,
                                            messages=[_image_message(box_jpeg(product), "find this")])
    chunks = list(stream)
    tools = [c.model_extra["shopassist"]["tool"]["name"] for c in chunks
             if "tool" in (c.model_extra.get("shopassist") or {})]
    assert tools[:2] == ["read_image_text", "read_image_text"] and "search_products" in tools
    assert product.product_id in [p["product_id"] for p in chunks[-1].model_extra["shopassist"]["products"]]


@pytest.mark.slow
def test_terminal_chat_takes_a_photo_path(index_dir, product, tmp_path):
    photo = tmp_path / "box.jpg"
    photo.write_bytes(box_jpeg(product))
    (tmp_path / "notes.png").write_bytes(b"not a picture")
    lines = f"/photo {photo}\n/photo {tmp_path / 'missing.jpg'}\n{tmp_path / 'notes.png'}\n"
    out = subprocess.run([sys.executable, "-m", "ui.cli", "chat", "--index", str(index_dir), "--backend", "none"],
                         input=lines, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "[tool] read_image_text" in out.stdout and f"[{product.product_id}]" in out.stdout
    assert "cannot read" in out.stdout and "not an image" in out.stdout and "Traceback" not in out.stdout + out.stderr


# ---- the shopper chat in a real browser (slow) -------------------------------------------------------------

@pytest.mark.slow
def test_browser_attach_a_photo_and_get_the_product_card(index_dir, product, tmp_path):
    from playwright.sync_api import sync_playwright

    from tests.browser_app import ARGS, App
    from tests.test_browser import require_chromium

    path = require_chromium()
    photo = tmp_path / "box.jpg"
    photo.write_bytes(box_jpeg(product, "damaged", 2))
    app = App(index_dir, "--backend", "none")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=path, headless=True, args=ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.set_default_timeout(300_000)
            page.goto(app.url)
            page.wait_for_selector("#shopper-input textarea")
            page.set_input_files("#shopper-input input[type=file]", str(photo))
            page.wait_for_selector("#shopper-input img, #shopper-input .thumbnail-item")  # the preview
            page.click("#shopper-send")
            status = page.wait_for_selector("#turn-status .sa-status[data-turn='1']")
            assert product.product_id in (status.get_attribute("data-products") or "").split(","), app.output()
            page.wait_for_selector(f".sa-card[data-product-id='{product.product_id}']")
            chat = page.inner_text("#shopper-chat")
            assert "read_image_text" in chat and f"I read '{product.brand}" in chat
            if os.environ.get("SHOPASSIST_SCREENSHOTS"):  # docs/screenshots/photo.png is made this way
                page.screenshot(path=str(Path(os.environ["SHOPASSIST_SCREENSHOTS"]) / "photo.png"), full_page=True)
            browser.close()
    finally:
        app.close()
