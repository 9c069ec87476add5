"""Shared test fixtures: where the real data lives and skipping cleanly when it does not; tests stay offline and
never write into the repository (hypothesis keeps its files in a temporary directory)."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SHOPASSIST_SHARED_DATA", ROOT.parent / "shared" / "data"))
# version control, environments and tool caches: not the tests' doing
NOT_WATCHED = {".git", ".venv", "venv", "__pycache__", ".pytest_cache", "node_modules", ".whl", ".gl"}
HYPOTHESIS_HOME = pytest.StashKey[str]()


def shared_data(relative: str) -> Path:
    """Path of a file or folder under ../shared/data, or skip the test with a clear message."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (it lives in ../shared/data beside the project)")
    return path


def repo_files(root: Path = ROOT) -> dict[str, tuple[int, int]]:
    """relative path -> (size, mtime ns) of every file under the repository root, outside NOT_WATCHED."""
    files = {}
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [d for d in subfolders if d not in NOT_WATCHED and not d.endswith(".egg-info")]
        for name in names:
            path = os.path.join(folder, name)
            try:
                stat = os.stat(path)
            except FileNotFoundError:  # removed while we looked
                continue
            files[os.path.relpath(path, root)] = (stat.st_size, stat.st_mtime_ns)
    return files


def changed_files(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> list[str]:
    """Paths created, changed or deleted between two `repo_files` snapshots."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def pytest_configure(config):
    """Hypothesis writes its example database and caches into ./.hypothesis unless told where else, and
    fails an example that takes over 200 ms (a deadline a loaded machine breaks) unless told otherwise."""
    directory = tempfile.mkdtemp(prefix="shopassist-hypothesis-")
    config.stash[HYPOTHESIS_HOME] = directory
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = directory
    try:
        from hypothesis import HealthCheck, configuration, settings
    except ImportError:  # hypothesis (the dev extra) is not installed: nothing to configure
        return
    if hasattr(configuration, "set_hypothesis_home_dir"):  # in case it already read the variable
        configuration.set_hypothesis_home_dir(directory)
    settings.register_profile("shopassist", deadline=None, suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile("shopassist")


def pytest_unconfigure(config):
    shutil.rmtree(config.stash.get(HYPOTHESIS_HOME, ""), ignore_errors=True)


@pytest.fixture(scope="module", autouse=True)
def _repository_untouched(request):
    """Tests never write into the repository: a module that creates, changes or deletes a file there fails."""
    before = repo_files()
    yield
    written = changed_files(before, repo_files())
    if written:
        pytest.fail(f"{request.module.__name__} wrote into the repository {ROOT} (tests write under tmp_path; if "
                    f"you edited files during the run, run again): {', '.join(written[:20])}", pytrace=False)


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    """Tests never reach a model hub."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


from tests.postgres import pg_server, pg_url, store_target  # noqa: E402,F401  (fixtures: a throw-away Postgres)
