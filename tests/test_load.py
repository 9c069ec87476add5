"""The load test (benchmarks/load_test.py) on both session stores, at a small size: concurrent sessions over
HTTP, then every acknowledged cart change and answered message checked in the store."""
from __future__ import annotations

import json

import pytest

from tests.test_api import demo_index_dir

pytestmark = pytest.mark.slow


def test_load_test_keeps_every_cart_change_on_both_stores(store_target, tmp_path):
    from benchmarks.load_test import main

    out = tmp_path / "load.json"
    rc = main(["--index", str(demo_index_dir()), "--backend", "scripted", "--sessions", "8", "--turns", "6",
               "--store", store_target, "--max-seconds", "240", "--out", str(out)])
    report = json.loads(out.read_text())
    assert report["store"] == ("postgresql" if store_target.startswith("postgresql") else "sqlite")
    assert rc == 0 and report["errors"] == 0, report["error_examples"]
    assert report["carts"]["sessions_consistent"] == 8 and report["carts"]["acknowledged_items"] > 0
    assert report["carts"]["answered_turns_not_stored"] == 0
