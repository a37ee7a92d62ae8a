#!/usr/bin/env bash
# Trains a small MLPNet with `otfuse train` and checks it in PyTorch (check_trained_model.py).
# usage: test_trained_model_in_pytorch.sh OTFUSE_EXECUTABLE WORK_DIR
# Exits 77 (skipped) without MNIST or without python3-torch.
set -euo pipefail
otfuse=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
data_dir=${OTFUSE_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/otfuse/datasets}
if [[ ! -e $data_dir/mnist/t10k-labels-idx1-ubyte && ! -e $data_dir/mnist/t10k-labels-idx1-ubyte.gz ]]; then
  echo "SKIP: MNIST not found under $data_dir/mnist"
  exit 77
fi
python=""
for candidate in /usr/bin/python3 python3; do
  if command -v "$candidate" > /dev/null && "$candidate" -c "import torch" 2> /dev/null; then
    python=$candidate
    break
  fi
done
if [[ -z $python ]]; then
  echo "SKIP: no python3 with torch (Debian package python3-torch)"
  exit 77
fi
mkdir -p "$work"
"$otfuse" train --arch mlpnet --dataset mnist --out "$work/py_check.pt" --limit 3000 --epochs 1 \
  --seed 7 --no-progress
"$python" "$here/check_trained_model.py" "$work/py_check.pt" "$data_dir/mnist"
