"""`shopassist chat`: the terminal chat, run as a real subprocess with stdin piped (non-interactive)."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.test_api import ROOT, demo_index_dir

# builds the demo index (about 20 s of CPU on a fresh machine) and runs the CLI as subprocesses: .ci/run runs it
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def index_dir():
    return demo_index_dir()


def chat(index_dir, lines: list[str], *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ui.cli", "chat", "--index", str(index_dir), "--backend", "none",
                           *extra], input="\n".join(lines) + "\n", capture_output=True, text=True, cwd=ROOT,
                          timeout=600)


def test_chat_prints_tool_steps_reply_and_products_then_exits_at_end_of_input(index_dir):
    from retrieval.store import Store

    user = next(o.user_id for o in Store.load(index_dir / "store").orders.values())
    out = chat(index_dir, ["power bank", "add the first one to my cart", "/quit", "never read"], "--user", user)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    steps = [ln for ln in lines if ln.startswith("  [tool] ")]
    assert re.match(r"  \[tool\] search_products \{.*\"query\": \"power bank\".*\} \d+ ms$", steps[0])
    assert steps[1].startswith("  [tool] add_to_cart {\"product_id\": \"P")
    replies = [ln for ln in lines if ln.startswith("assistant> ")]
    first = out.stdout.split("assistant> ")[1]  # a reply may list products on the lines after its first
    assert len(replies) == 2 and "Power Bank" in first and "cart" in replies[1].lower()
    first_product = next(ln for ln in lines if ln.startswith("  - [P"))
    assert re.match(r"  - \[P\d{4}\] .+ ₹[\d,]+", first_product)
    added = re.search(r"\"product_id\": \"(P\d{4})\"", steps[1]).group(1)
    assert added in first_product
    assert "never read" not in out.stdout


def test_chat_answers_chinese_in_chinese_and_survives_bad_lines(index_dir):
    out = chat(index_dir, ["", "推荐一款充电宝", "x" * 5000])
    assert out.returncode == 0, out.stderr
    replies = [ln for ln in out.stdout.splitlines() if ln.startswith("assistant> ")]
    assert len(replies) == 2
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in replies[0]) >= 4
    assert "4000" in replies[1]  # too long: told the limit, no traceback
    assert "Traceback" not in out.stderr
