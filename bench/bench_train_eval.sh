#!/usr/bin/env bash
# Benchmark (not a test): MLPNet evaluation on the 10,000 MNIST test images and one training
# epoch (batch 64, SGD lr 0.01, momentum 0.5), by otfuse (C++) and by PyTorch from Python
# (python3-torch) with the same thread count, in one run. Prints both and the ratios
# PyTorch time / otfuse time (> 1 means otfuse is faster).
# usage: bench/bench_train_eval.sh [BUILD_DIR] [REPEATS]   (default build dir: ./build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
repeats=${2:-3}
bench=$build/bench/bench_train_eval
[[ -x $bench ]] || { echo "build the target bench_train_eval first ($bench missing)" >&2; exit 1; }
data_dir=${OTFUSE_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/otfuse/datasets}
threads=${OTFUSE_THREADS:-$(nproc)}
python=""
for candidate in /usr/bin/python3 python3; do
  if command -v "$candidate" > /dev/null && "$candidate" -c "import torch" 2> /dev/null; then
    python=$candidate
    break
  fi
done
[[ -n $python ]] || { echo "python3-torch is needed for the baseline" >&2; exit 1; }

ours=$(OTFUSE_THREADS=$threads "$bench" --data-dir "$data_dir" --repeats "$repeats")
theirs=$("$python" "$here/bench_train_eval.py" "$data_dir/mnist" "$threads" "$repeats")
echo "$ours"
echo "$theirs"
"$python" - "$ours" "$theirs" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("threads %d | evaluation (10,000 images): otfuse %.3f s, PyTorch %.3f s, ratio %.2fx"
      % (ours["threads"], ours["eval_s"], theirs["eval_s"], theirs["eval_s"] / ours["eval_s"]))
print("threads %d | training epoch (60,000 images, batch 64): otfuse %.3f s, PyTorch %.3f s, ratio %.2fx"
      % (ours["threads"], ours["train_epoch_s"], theirs["train_epoch_s"],
         theirs["train_epoch_s"] / ours["train_epoch_s"]))
PY
