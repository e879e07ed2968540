#!/usr/bin/env bash
# Installs the keel Python package into a virtual environment under the build
# directory (the one `make test` uses), reusing that build's compiled module:
#   python/install.sh [build dir (default build)]   -> <build>/pyenv/bin/python
# The venv sees Debian's site packages (numpy, torch, pytest); no network is used.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(realpath "${1:-build}")
PY=${KEEL_PYTHON:-/usr/bin/python3}
VENV=$BUILD/pyenv
# --without-pip: Debian's pip, visible through the system site packages, installs into the venv.
[ -x "$VENV/bin/python" ] || "$PY" -m venv --system-site-packages --without-pip "$VENV"
KEEL_BUILD_DIR=$BUILD "$VENV/bin/python" -m pip install --no-build-isolation --no-deps --no-index \
  --disable-pip-version-check -q ./python
"$VENV/bin/python" -c "import keel; print('keel', keel.__version__, 'installed in $VENV')"
