#!/usr/bin/env bash
# Installs everything keel needs to build, test and benchmark on Debian 12, as root:
# Debian packages (apt), the reference peers (npm, tools/peers), and a checkout of
# the llama.cpp sources that ship inside the node-llama-cpp package (for gguf-py
# and llama.cpp's test vocabularies). Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build ccache git pkg-config
  clang-16 libclang-rt-16-dev            # sanitizers and libFuzzer
  nlohmann-json3-dev libgtest-dev
  libpcre2-dev libutf8proc-dev           # tokenizer: regex (JIT) and Unicode normalization
  libsimdjson-dev                        # tokenizer: tokenizer.json loading
  python3 python3-numpy python3-pytest   # /usr/bin/python3 for the reference tests
  python3-torch python3-onnx             # embeddings: PyTorch reference and its ONNX export
  libopenblas0-pthread                   # PyTorch's BLAS: python3-torch only recommends it, and without it
                                         # torch runs netlib's reference BLAS (baselines ~20x too slow)
  libboost1.81-dev                       # keel serve: Boost.Beast / Asio
  python3-requests                       # keel serve tests: HTTP client
  python3-jinja2                         # chat templates: transformers' renderer where @huggingface/jinja lacks a filter
  python3-fastapi python3-uvicorn wrk    # keel serve benchmark: the Python baseline, load test
  valgrind                               # the C API's leak and memory-error test
  pybind11-dev python3-dev               # the Python package's native module (python/)
  python3-pip python3-setuptools python3-wheel python3-venv  # pip install --no-build-isolation ./python
)
# Node.js may come from elsewhere than Debian (it does on these machines); only
# install Debian's when there is none.
command -v node >/dev/null 2>&1 || APT_PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(npm)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Reference peers from npm, pinned by tools/peers/package-lock.json (npm install, not
# npm ci: node-llama-cpp lists optional platform packages the lock cannot resolve).
stamp=tools/peers/node_modules/.keel-installed
if [ ! -f "$stamp" ] || [ tools/peers/package-lock.json -nt "$stamp" ]; then
  echo "setup: installing npm reference peers"
  (cd tools/peers && npm install --ignore-scripts --omit=optional --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$stamp"
fi

# llama.cpp sources, unpacked from the git bundle that node-llama-cpp ships.
bundle=tools/peers/node_modules/node-llama-cpp/llama/gitRelease.bundle
if [ ! -d third_party/llama.cpp/gguf-py ]; then
  echo "setup: unpacking llama.cpp sources from $bundle"
  rm -rf third_party/llama.cpp
  mkdir -p third_party
  git clone -q "$bundle" third_party/llama.cpp 2>/dev/null
fi
