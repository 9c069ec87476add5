"""Shared test fixtures: where the real data lives, and skipping cleanly when it does not."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SHOPASSIST_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared_data(relative: str) -> Path:
    """Path of a file or folder under ../shared/data, or skip the test with a clear message."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (it lives in ../shared/data beside the project)")
    return path


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    """Tests never reach a model hub."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


from tests.postgres import pg_server, pg_url, store_target  # noqa: E402,F401  (fixtures: a throw-away Postgres)
