#!/usr/bin/env bash
# Fill bench/wheels with the pure-Python wheels bench/gpu_check.sh installs on a GPU machine
# that has CuPy (and NumPy) but no package index. Run where the index is reachable.
# PLATFORM_PACKAGES (e.g. "scikit-learn matplotlib tqdm") adds binary wheels for PY_VERSION.
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=${WHEELS:-bench/wheels}
PY_VERSION=${PY_VERSION:-3.11}
mkdir -p "$WHEELS"
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$WHEELS" \
    "array-api-compat>=1.11" "array-api-extra>=0.8" "array-api-strict>=2.3" \
    "pytest>=8" pluggy iniconfig packaging "pytest-benchmark>=4" py-cpuinfo \
    "hypothesis>=6.100" attrs sortedcontainers "tqdm>=4.60"
if [ -n "${PLATFORM_PACKAGES:-}" ]; then
    python3 -m pip download --quiet --only-binary=:all: --python-version "$PY_VERSION" \
        --platform manylinux2014_x86_64 -d "$WHEELS" $PLATFORM_PACKAGES
fi
ls "$WHEELS"
