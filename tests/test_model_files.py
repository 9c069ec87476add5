"""Model files: assembling split packages, checksums, atomic writes, aliases."""
from __future__ import annotations

import hashlib
import os

import pytest

from assistant.errors import ModelFileError
from assistant.model_files import (SPLIT_MODELS, SplitModel, assemble_parts, models_dir, part_paths, resolve_model,
                                   sha256_file, smollm2_path, verify)


@pytest.fixture
def parts(tmp_path):
    chunks = [b"GGUF" + bytes(range(256)) * 3, b"middle" * 1000, b"end"]
    paths = []
    for i, chunk in enumerate(chunks, 1):
        p = tmp_path / "pkg" / f"part{i:02d}.bin"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(chunk)
        paths.append(p)
    return paths, b"".join(chunks), hashlib.sha256(b"".join(chunks)).hexdigest()


def test_assembles_in_order_and_verifies(parts, tmp_path):
    paths, whole, digest = parts
    dest = assemble_parts(paths, tmp_path / "cache" / "m.gguf", digest)
    assert dest.read_bytes() == whole
    assert sha256_file(dest) == digest
    assert sorted(p.name for p in dest.parent.iterdir()) == ["m.gguf", "m.gguf.verified.json"]


def test_second_call_trusts_the_stamp_and_does_not_rewrite(parts, tmp_path):
    paths, _, digest = parts
    dest = assemble_parts(paths, tmp_path / "m.gguf", digest)
    before = dest.stat().st_mtime_ns
    for p in paths:
        p.unlink()  # would fail if it re-read the parts
    assert assemble_parts(paths, dest, digest) == dest
    assert dest.stat().st_mtime_ns == before


def test_checksum_mismatch_raises_and_leaves_nothing(parts, tmp_path):
    paths, _, _ = parts
    dest = tmp_path / "cache" / "m.gguf"
    with pytest.raises(ModelFileError, match="sha256") as err:
        assemble_parts(paths, dest, "0" * 64, hint="reinstall the parts")
    assert "reinstall the parts" in str(err.value)
    assert list(dest.parent.iterdir()) == []  # no model, no temporary file


def test_corrupted_file_is_rebuilt(parts, tmp_path):
    paths, whole, digest = parts
    dest = assemble_parts(paths, tmp_path / "m.gguf", digest)
    with open(dest, "ab") as f:
        f.write(b"garbage")
    assert assemble_parts(paths, dest, digest).read_bytes() == whole


def test_file_of_the_right_size_but_other_content_is_caught_by_verify(parts, tmp_path):
    paths, whole, digest = parts
    dest = assemble_parts(paths, tmp_path / "m.gguf", digest)
    stamped = dest.stat().st_mtime_ns
    dest.write_bytes(b"X" * len(whole))
    os.utime(dest, ns=(stamped + 10**9, stamped + 10**9))  # a later write, even on a coarse-clock filesystem
    with pytest.raises(ModelFileError, match="does not match"):
        verify(dest, digest)
    # the stamp no longer matches the rewritten file's mtime, so the next resolve rebuilds it
    assert assemble_parts(paths, dest, digest).read_bytes() == whole


def test_missing_part_package_names_the_pip_command():
    spec = SplitModel("ghost", "ghost.gguf", "shopassist_no_such_part", 2, "pip install ghost-part{1..2}", "0" * 64)
    with pytest.raises(ModelFileError, match=r"pip install ghost-part\{1\.\.2\}"):
        part_paths(spec)


def test_aliases_and_paths(tmp_path):
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF")
    assert resolve_model(str(gguf)) == gguf
    with pytest.raises(ModelFileError, match="qwen1.5b, qwen0.5b, smollm2"):
        resolve_model("llama-70b")
    with pytest.raises(ModelFileError, match="no file at"):
        resolve_model(str(tmp_path / "absent.gguf"))


def test_models_dir_follows_shopassist_home(monkeypatch, tmp_path):
    monkeypatch.setenv("SHOPASSIST_HOME", str(tmp_path))
    assert models_dir() == tmp_path / "models"
    monkeypatch.delenv("SHOPASSIST_HOME")
    assert models_dir() == tmp_path.home() / ".cache" / "shopassist" / "models"


def test_smollm2_is_found_inside_its_package():
    path = smollm2_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000
    assert path.read_bytes()[:4] == b"GGUF"


@pytest.mark.slow
def test_real_qwen05b_assembles_with_the_published_checksum(tmp_path):
    """Assembles the real 491 MB file into a fresh directory and checks the sha256 from MODELS.md."""
    spec = SPLIT_MODELS["qwen0.5b"]
    try:
        part_paths(spec)
    except ModelFileError as e:
        pytest.skip(str(e))
    path = resolve_model("qwen0.5b", cache_dir=tmp_path)
    assert path.parent == tmp_path and path.read_bytes()[:4] == b"GGUF"
    assert sha256_file(path) == spec.sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"
