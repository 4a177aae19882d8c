#!/usr/bin/env bash
# Certify nnx on a CUDA GPU with the working tree and a folder of wheels only (no index needed).
#
#   bench/gpu_wheels.sh                 # once, on a machine with the package index: fills bench/wheels
#   bench/gpu_check.sh                  # on the GPU machine (CuPy installed): < 8 minutes
#
# Installs what the GPU machine may lack (array-api-compat/-extra/-strict, pytest, hypothesis...)
# from $WHEELS without touching NumPy or CuPy, then runs `python -m nnx selfcheck --backend cupy`
# with PYTHONPATH=. and writes the JSON + Markdown report to bench/results/gpu-<date>/.
# Exit code: 0 PASS, 1 FAIL, 2 cupy unavailable, 124 ran past $LIMIT_S.
set -uo pipefail
cd "$(dirname "$0")/.."
WHEELS=${WHEELS:-bench/wheels}
OUT=${OUT:-bench/results/gpu-$(date -u +%Y-%m-%d)}
LIMIT_S=${LIMIT_S:-470}  # a hard stop; selfcheck itself keeps to --budget 420
PYTHON=${PYTHON:-python3}
SKIP=${SKIP:-}

if [ -d "$WHEELS" ]; then
    names=$(ls "$WHEELS" | sed -E 's/-[0-9][^-]*-.*\.whl$//' | tr '_' '-' | sort -u)
    # --no-index: the wheels in the folder only; pip keeps what is installed and satisfies them
    "$PYTHON" -m pip install --quiet --no-index --find-links "$WHEELS" $names \
        || "$PYTHON" -m pip install --quiet --user --no-index --find-links "$WHEELS" $names \
        || echo "gpu_check: could not install from $WHEELS; continuing with what is installed"
else
    echo "gpu_check: no wheel folder $WHEELS; using what is installed"
fi

export PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}"
"$PYTHON" -m nnx info || true
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null || true
timeout "$LIMIT_S" "$PYTHON" -m nnx selfcheck --backend cupy --budget 420 --out "$OUT" \
    ${SKIP:+--skip "$SKIP"}
status=$?
[ "$status" -eq 124 ] && echo "gpu_check: selfcheck ran past ${LIMIT_S} s"
exit "$status"
