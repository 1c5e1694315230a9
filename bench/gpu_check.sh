#!/usr/bin/env bash
# Renderer on CUDA vs CPU (agreement + timings): one short run for a lent GPU machine.
#
#   bash bench/gpu_check.sh [--mp 12] [--tol 4]
#
# Runs bench/gpu_check.py with the first Python that can import torch, numpy, cv2 and PIL, preferring
# one whose torch sees CUDA: $PYTHON, then the repo's .venv, then python3 on PATH. The package is
# imported straight from this checkout (core/ linked as `silverprint` on PYTHONPATH), so the chosen
# Python needs no install of Silverprint itself. Exit status: 0 agree (or no CUDA: CPU part only),
# 1 CUDA and CPU disagree, 2 no usable Python.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHIM="$(mktemp -d)"
trap 'rm -rf "$SHIM"' EXIT
ln -s "$ROOT/core" "$SHIM/silverprint"
export PYTHONPATH="$SHIM${PYTHONPATH:+:$PYTHONPATH}"

probe='import torch, numpy, cv2, PIL; print("cuda" if torch.cuda.is_available() else "cpu")'
chosen=""
for py in ${PYTHON:-} "$ROOT/.venv/bin/python" "$(command -v python3 || true)"; do
    [ -n "$py" ] && [ -x "$py" ] || continue
    kind="$("$py" -c "$probe" 2>/dev/null || true)"
    if [ "$kind" = "cuda" ]; then chosen="$py"; break; fi
    if [ "$kind" = "cpu" ] && [ -z "$chosen" ]; then chosen="$py"; fi
done
if [ -z "$chosen" ]; then
    echo "gpu_check: no Python with torch, numpy, opencv and pillow found" >&2
    exit 2
fi
echo "gpu_check: using $chosen"
cd "$ROOT"
status=0
"$chosen" "$ROOT/bench/gpu_check.py" "$@" || status=$?
# The video path on the same device (needs PyAV and mediapipe in that Python).
if [ "${GPU_CHECK_VIDEO:-1}" = "0" ]; then
    echo "gpu_check: video part skipped (GPU_CHECK_VIDEO=0)"
elif "$chosen" -c "import av, mediapipe" 2>/dev/null; then
    "$chosen" "$ROOT/bench/gpu_video.py" --seconds "${GPU_VIDEO_SECONDS:-4}" || status=$?
else
    echo "gpu_check: video part skipped: this Python lacks PyAV or mediapipe"
fi
exit $status
