"""The guard in conftest.py that fails a test module writing into the repository sees every kind of write."""
from __future__ import annotations

import os

from tests.conftest import changed_files, repo_files


def test_created_changed_and_deleted_files_are_named_and_caches_are_not(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "shot.png").write_bytes(b"old")
    (tmp_path / "gone.txt").write_text("x")
    before = repo_files(tmp_path)
    (tmp_path / "docs" / "shot.png").write_bytes(b"new picture")       # changed
    (tmp_path / "gone.txt").unlink()                                     # deleted
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "results.json").write_text("{}")               # created, in an ignored folder too
    for cache in (".git", "__pycache__", ".pytest_cache", "shopassist.egg-info"):
        (tmp_path / cache).mkdir()
        (tmp_path / cache / "f").write_text("tool output")
    assert changed_files(before, repo_files(tmp_path)) == [
        os.path.join("docs", "shot.png"), "gone.txt", os.path.join("runs", "results.json")]


def test_a_rewrite_with_the_same_size_is_seen(tmp_path):
    f = tmp_path / "same.txt"
    f.write_text("aaaa")
    os.utime(f, ns=(1_000_000_000, 1_000_000_000))
    before = repo_files(tmp_path)
    f.write_text("bbbb")
    assert changed_files(before, repo_files(tmp_path)) == ["same.txt"]
