"""Regenerate the screenshots of the README and docs/UI.md by driving the app in headless Chromium.

    .venv/bin/python docs/make_screenshots.py [--index DIR] [--out docs/screenshots]

Serves the app (`shopassist serve --backend none`: templated replies, so the pictures do not depend on a
model) over the small demo index the tests use (or --index), walks through the shopper chat, the cart,
a Chinese-speaking shopper and the agent console, and writes shopper.png, cart.png, chinese.png and
agent_console.png. The tests never write these files; this script is the only thing that does.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser_app import ARGS, App, ask, chromium_path, new_page, open_conversation, pick_persona  # noqa: E402


def shopper_and_cart(page, out: Path) -> None:
    ask(page, "power bank", ".sa-card")
    page.wait_for_function("() => [...document.querySelectorAll('.sa-card img')].every(i => i.complete)")
    page.screenshot(path=str(out / "shopper.png"), full_page=True)
    page.locator(".sa-add").first.click()
    page.wait_for_function("() => document.querySelector('#cart-panel').innerText.includes('(1)')")
    page.locator(".sa-add").nth(1).click()
    page.wait_for_function("() => document.querySelector('#cart-panel').innerText.includes('(2)')")
    page.screenshot(path=str(out / "cart.png"), full_page=True)


def chinese(page, store, out: Path) -> None:
    zh_user = next(u for u in sorted(store.users.values(), key=lambda u: u.user_id) if u.lang == "zh")
    pick_persona(page, zh_user.user_id)
    ask(page, "推荐一款充电宝", ".sa-card")
    page.screenshot(path=str(out / "chinese.png"), full_page=True)


def agent_console(page, store, out: Path) -> None:
    conv = next(c for c in store.conversations if c["topic"] == "order_tracking" and c["lang"] == "en")
    open_conversation(page, conv["conversation_id"])
    page.click("#insert-0")
    page.wait_for_function("() => document.querySelector('#agent-reply textarea').value.length > 20")
    page.screenshot(path=str(out / "agent_console.png"), full_page=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index", help="index folder (default: the small demo index of the tests, built if missing)")
    p.add_argument("--out", default=str(ROOT / "docs" / "screenshots"), help="folder for the PNG files")
    args = p.parse_args(argv)
    chromium = chromium_path()
    if chromium is None:
        print("error: Debian's chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    from retrieval.store import Store
    from tests.test_api import demo_index_dir

    index = Path(args.index) if args.index else demo_index_dir()
    store = Store.load(index / "store")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    app = App(index, "--backend", "none")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
            for step in (lambda pg: shopper_and_cart(pg, out), lambda pg: chinese(pg, store, out),
                         lambda pg: agent_console(pg, store, out)):
                page = new_page(browser, app.url, timeout_ms=300_000)
                step(page)
                page.context.close()
            browser.close()
    finally:
        app.close()
    print(f"wrote {', '.join(sorted(p.name for p in out.glob('*.png')))} in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
