"""The service desk in a real browser: a return proposed as a card, approved, confirmed by the customer.

Builds an index from a tiny tau-bench-shaped folder (`shopassist index --format taubench_retail`), serves it
with templated replies (backend none: the sentences' own action words) and drives headless Chromium.
"""
from __future__ import annotations

import pytest

from tests.service_fixtures import tiny_data
from tests.browser_app import ARGS, App, new_page
from tests.test_browser import require_chromium

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service_index(tmp_path_factory):
    from ui.cli import main

    root = tmp_path_factory.mktemp("service")
    folder = tiny_data().save(root / "tau")
    assert main(["index", "--catalog", str(folder), "--format", "taubench_retail", "--out", str(root / "index"),
                 "--quiet"]) == 0
    return root / "index"


def test_a_return_with_the_confirmation_card(service_index):
    from playwright.sync_api import sync_playwright

    from assistant.service.records import ServiceRecords

    app = App(service_index, "--backend", "none")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=require_chromium(), headless=True, args=ARGS)
            page = new_page(browser, app.url, 120_000)  # offline: requests off this machine fail at once
            page.click("#tab-service-button")
            page.click("#service-new")
            page.fill("#service-customer textarea",
                      "My email is alice@example.com. Please return the t-shirt I received, I want a refund.")
            page.click("#service-customer-send")
            try:
                page.wait_for_selector("#service-proposal .sa-proposal[data-status='draft']")
            except Exception as e:
                raise AssertionError(f"no proposal card: {e}\n{page.inner_text('#service-transcript')}\n"
                                     f"{app.output()}") from None
            card = page.inner_text("#service-proposal")
            assert "Return items" in card and "#W0000002" in card and "1002" in card and "paypal_1" in card
            assert "#W0000002" in page.input_value("#service-reply textarea")  # the suggested reply beside it
            assert "Alice Smith" in page.inner_text("#service-account")
            assert ServiceRecords(service_index / "service" / "records.sqlite").actions() == []

            page.click("#service-approve")
            page.wait_for_selector("#service-proposal .sa-proposal[data-status='sent']")
            assert "Return from delivered order #W0000002" in page.inner_text("#service-transcript")

            page.fill("#service-customer textarea", "Yes.")
            page.click("#service-customer-send")
            page.wait_for_selector("#service-proposal .sa-proposal[data-status='executed']")
            (action,) = ServiceRecords(service_index / "service" / "records.sqlite").actions()
            assert action["name"] == "return_delivered_order_items" and action["owner"] == "alice_1"
            assert action["arguments"]["item_ids"] == ["1002"] and action["confirmed_by"] == "Yes."
            browser.close()
    finally:
        app.close()
