"""Driving the Gradio app in headless Chromium (Python Playwright): shared by the browser tests and by
docs/make_screenshots.py, which regenerates the README's screenshots from the same app.

`App` runs `shopassist serve` in a subprocess on 127.0.0.1; `InProcessApp` serves an app built in this
process (a test that needs a backend of its own). Knows how to start, reach and talk to the app; knows
nothing about what a test expects. Never installs anything: `chromium_path()` says where Debian's
chromium is, or None.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
NOT_LOCAL = re.compile(r"^https?://(?!127\.0\.0\.1)")


def chromium_path() -> str | None:
    """Debian's chromium (install.sh installs it), or None when absent."""
    path = os.environ.get("SHOPASSIST_CHROMIUM", CHROMIUM)
    return path if Path(path).exists() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, timeout_s: float, alive) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        alive()
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"the app did not answer within {timeout_s:.0f} s")


class App:
    """`shopassist serve` in a subprocess, on a free port; its output is kept for failure messages."""

    def __init__(self, index_dir: Path, *backend: str, timeout_s: float = 300):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = tempfile.TemporaryFile("w+")
        env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "serve", "--index", str(index_dir), *backend,
                                      "--host", "127.0.0.1", "--port", str(self.port)], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        try:
            _wait_until_up(self.url, timeout_s, self._alive)
        except RuntimeError as e:
            out = self.output()
            self.close()
            raise RuntimeError(f"{e}:\n{out}") from None

    def _alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"the app exited ({self.proc.returncode}):\n{self.output()}")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-4000:]

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


class InProcessApp:
    """A `ui.shopper.build_app` app served from this process (for a backend a subprocess cannot have)."""

    def __init__(self, blocks, timeout_s: float = 120):
        from ui.shopper import launch

        self.blocks, self.port = blocks, free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        launch(blocks, "127.0.0.1", self.port, prevent_thread_lock=True)
        _wait_until_up(self.url, timeout_s, lambda: None)

    def close(self) -> None:
        self.blocks.close()


def new_page(browser, url: str, timeout_ms: int = 60_000):
    """A fresh tab on the app, 1400x1000; requests off this machine fail (product images: the placeholder)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    page.route(NOT_LOCAL, lambda route: route.abort())
    page.goto(url)
    page.wait_for_selector("#shopper-input textarea")
    return page


def ask(page, text: str, wait_for: str | None = None) -> None:
    """Send a message and wait for the turn to finish and its product cards to render."""
    turn = int(page.get_attribute("#turn-status .sa-status", "data-turn"))
    page.fill("#shopper-input textarea", text)
    page.click("#shopper-send")
    status = page.wait_for_selector(f"#turn-status .sa-status[data-turn='{turn + 1}']")
    shown = status.get_attribute("data-products")
    page.wait_for_function("(ids) => [...document.querySelectorAll('.sa-card')].map(e => e.dataset.productId)"
                           ".join(',') === ids", arg=shown)
    if wait_for:
        page.wait_for_selector(wait_for)


def last_reply(page) -> str:
    return page.locator("#shopper-chat [data-testid='bot']").last.inner_text()


def pick_persona(page, label: str) -> None:
    import json

    page.click("#persona input")
    page.fill("#persona input", label)
    page.get_by_role("option", name=re.compile(re.escape(label))).first.click()
    page.wait_for_function(f"() => document.querySelector('#persona-panel').innerText.includes({json.dumps(label)})")


_SCROLL_QUEUE = """(dy) => document.querySelectorAll('#agent-queue *').forEach(e => {
    if (e.scrollHeight > e.clientHeight + 2 && getComputedStyle(e).overflowY !== 'visible')
        e.scrollTop = dy === 0 ? 0 : e.scrollTop + dy; })"""


def open_conversation(page, conversation_id: str, timeout_ms: int = 300_000) -> None:
    """The agent console's tab, then one conversation of its queue (the table shows the rows in view only:
    it is scrolled from the top until the id shows); waits for the suggestions."""
    page.click("#tab-agent-button")
    cell = page.locator("#agent-queue").get_by_text(conversation_id, exact=True).filter(visible=True)
    page.evaluate(_SCROLL_QUEUE, 0)
    for i in range(600):
        if cell.count():
            break
        page.evaluate(_SCROLL_QUEUE, 0 if i % 40 == 0 else 120)  # down a little at a time, from the top again
        page.wait_for_timeout(100)
    cell.first.click()
    page.wait_for_function("(cid) => document.querySelector('#agent-title').innerText.includes(cid)",
                           arg=conversation_id, timeout=timeout_ms)
    page.wait_for_selector("#suggestion-0 .sa-suggestion", timeout=timeout_ms)
