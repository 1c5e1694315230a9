#!/usr/bin/env bash
# bench/service.py on a lent GPU machine: the service on CUDA, then on CPU, same photo, same run.
# Uses the first python3 that imports torch, fastapi, uvicorn and mediapipe; the checkout is put
# on PYTHONPATH through links (core -> silverprint, ...), so nothing needs installing.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHIM="$(mktemp -d)"
trap 'rm -rf "$SHIM"' EXIT
ln -s "$ROOT/core" "$SHIM/silverprint"
ln -s "$ROOT/plugin" "$SHIM/silverprint_plugins"
ln -s "$ROOT/resources" "$SHIM/silverprint_resources"
export PYTHONPATH="$SHIM${PYTHONPATH:+:$PYTHONPATH}"
py=""
for cand in ${PYTHON:-} "$ROOT/.venv/bin/python" "$(command -v python3 || true)"; do
    [ -n "$cand" ] && [ -x "$cand" ] || continue
    if "$cand" -c "import torch, fastapi, uvicorn, mediapipe, cv2, PIL, tifffile" 2>/dev/null; then py="$cand"; break; fi
done
if [ -z "$py" ]; then
    echo "service_gpu: no Python with torch, fastapi, uvicorn, mediapipe, cv2, PIL, tifffile" >&2
    for cand in "$(command -v python3 || true)"; do
        "$cand" -c "import importlib.util as u; print({m: bool(u.find_spec(m)) for m in ['torch','fastapi','uvicorn','mediapipe','cv2','PIL','tifffile','pydantic','starlette']})" 2>&1
    done
    exit 2
fi
"$py" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
for device in cuda cpu; do
    "$py" "$ROOT/bench/service.py" --device "$device" "$@"
done
