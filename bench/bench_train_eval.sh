#!/usr/bin/env bash
# Benchmark (not a test): MLPNet evaluation on the 10,000 MNIST test images and one training
# epoch (batch 64, SGD lr 0.01, momentum 0.5), and (with CIFAR-10 installed) 20 training steps
# of a VGG11 with every width halved (vgg:32,M,64,M,128,128,M,256,256,M,256,256,M,bn) on 128-image CIFAR-10 batches and its evaluation on the test set, by otfuse (C++) and by PyTorch from Python
# (python3-torch) with the same thread count, in one run; otfuse runs twice, the second time
# with OTFUSE_KEEP_HEAP=0 (glibc's default of giving freed memory back to the kernel). Prints
# all and the ratios PyTorch time / otfuse time (> 1 means otfuse is faster).
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
# The same again with glibc's default behaviour of returning freed memory to the kernel.
ours_plain_heap=$(OTFUSE_KEEP_HEAP=0 OTFUSE_THREADS=$threads "$bench" --data-dir "$data_dir" --repeats "$repeats")
theirs=$("$python" "$here/bench_train_eval.py" "$data_dir/mnist" "$threads" "$repeats" \
  "$data_dir/cifar10/cifar-10-batches-bin")
echo "$ours"
echo "$ours_plain_heap"
echo "$theirs"
"$python" - "$ours" "$theirs" "$ours_plain_heap" <<'PY'
import json, sys
ours, theirs, plain = (json.loads(a) for a in sys.argv[1:4])
print("threads %d | evaluation (10,000 images): otfuse %.3f s, PyTorch %.3f s, ratio %.2fx"
      % (ours["threads"], ours["eval_s"], theirs["eval_s"], theirs["eval_s"] / ours["eval_s"]))
print("threads %d | training epoch (60,000 images, batch 64): otfuse %.3f s, PyTorch %.3f s, ratio %.2fx"
      % (ours["threads"], ours["train_epoch_s"], theirs["train_epoch_s"],
         theirs["train_epoch_s"] / ours["train_epoch_s"]))
if ours["vgg_train_s"] > 0 and theirs["vgg_train_s"] > 0:
    print("threads %d | VGG11 halved (vgg:32,M,...,bn), 20 training steps of 128 CIFAR-10 images: otfuse %.3f s, "
          "PyTorch %.3f s, ratio %.2fx (otfuse with OTFUSE_KEEP_HEAP=0: %.3f s, ratio %.2fx)"
          % (ours["threads"], ours["vgg_train_s"], theirs["vgg_train_s"],
             theirs["vgg_train_s"] / ours["vgg_train_s"], plain["vgg_train_s"],
             theirs["vgg_train_s"] / plain["vgg_train_s"]))
    print("threads %d | VGG11 halved (vgg:32,M,...,bn) evaluation, 10,000 CIFAR-10 test images in batches of 1,000: "
          "otfuse %.3f s, PyTorch %.3f s, ratio %.2fx (otfuse with OTFUSE_KEEP_HEAP=0: %.3f s, "
          "ratio %.2fx)"
          % (ours["threads"], ours["vgg_eval_s"], theirs["vgg_eval_s"],
             theirs["vgg_eval_s"] / ours["vgg_eval_s"], plain["vgg_eval_s"],
             theirs["vgg_eval_s"] / plain["vgg_eval_s"]))
else:
    print("VGG rows skipped: CIFAR-10 not installed (otfuse data import cifar10 ...)")
PY
