#!/usr/bin/env bash
# The one command on a single-GPU machine (H100/H200), from the repository root, after
# bench/gpu/prepare.sh filled .gpu/ on a machine with PyPI:
#   run(command="bash bench/gpu/run.sh", carry=[".gpu"], timeout_s=540)
# Installs the carried wheels under /tmp, sets up the trimmed tritonserver beside the machine's
# own python3 (the one with torch), and runs bench/gpu/triton_vs_torch.py (L=512 and 128,
# ~6 minutes).  Results: $OUT/results.md,
# $OUT/results.json, $OUT/log.txt.  Extra arguments go to the script.
set -euo pipefail
OUT=${OUT:-/tmp/mira-gpu-out}
mkdir -p "$OUT"
[ -d .gpu/whl ] || { echo "no .gpu/: run bench/gpu/prepare.sh first (and carry .gpu)"; exit 2; }
SITE=/tmp/mira-site
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$SITE" \
  .gpu/whl/*.whl
# the trimmed tritonserver goes into a small environment of the machine's own python3 (the one
# with torch): pyvenv.cfg + a .pth naming that python's site-packages, so the python backend's
# stub imports torch and transformers from there; nothing of the machine is modified
PYV=$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
REAL=$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')
VENV=/tmp/mira-tenv
TSITE="$VENV/lib/python$PYV/site-packages"
mkdir -p "$VENV/bin" "$TSITE"
ln -sf "$REAL" "$VENV/bin/python3"
printf 'home = %s\ninclude-system-site-packages = false\n' "$(dirname "$REAL")" > "$VENV/pyvenv.cfg"
python3 -c 'import site; print("\n".join(site.getsitepackages()))' > "$TSITE/mira-host.pth"
python3 -c "import tarfile,sys; tarfile.open('.gpu/tritonserver-min.tar.xz').extractall(sys.argv[1])" "$TSITE"
"$VENV/bin/python3" -c 'import torch, transformers' || { echo "the stub environment lacks torch"; exit 2; }
export PYTHONPATH="$SITE:$PWD" MIRA_TRITON_ENV="$VENV" PYTHONUNBUFFERED=1 \
       TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1
nvidia-smi -L 2>&1 | tee "$OUT/log.txt" || true
python3 bench/gpu/triton_vs_torch.py --out "$OUT" --tokenizer .gpu/model/tokenizer.json \
  --model-config .gpu/model/config.json "$@" 2>&1 | tee -a "$OUT/log.txt"
