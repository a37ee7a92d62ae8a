#!/usr/bin/env bash
# Fine-tuning after fusion (issue 10, section 1) on MNIST MLPNet: OT fusion and vanilla
# averaging of the same two parents, both fine-tuned with the same budget (epochs, learning
# rate, momentum, seed and so the same batches in the same order), test accuracy per epoch
# (epoch 0 = before fine-tuning), the parents and their ensemble as reference lines.
# Parents: the paper's two MNIST MLPNets from ../shared/models/paper-mnist-mlpnet when present
# (OTFUSE_SHARED_DIR overrides ../shared), else two MLPNets trained here by otfuse train (seeds
# 0 and 1, 1 epoch each, kept in OUT_DIR). Prints each mode's table and whether OT fusion is
# at or above vanilla averaging at every epoch; the CSV and JSON of every point stay in OUT_DIR.
# Usage: scripts/finetune_experiment.sh [BUILD_DIR] [OUT_DIR]
# Env: EPOCHS (default 5), LR (0.01), MOMENTUM (0.5), BATCH (64), SEED (0), LIMIT (training
#      images, default all 60000), MODES ("weights activations").
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
out="${2:-${XDG_CACHE_HOME:-$HOME/.cache}/otfuse/finetune-experiment}"
epochs="${EPOCHS:-5}"
lr="${LR:-0.01}"
momentum="${MOMENTUM:-0.5}"
batch="${BATCH:-64}"
seed="${SEED:-0}"
limit="${LIMIT:-0}"
modes="${MODES:-weights activations}"
otfuse="$build/app/otfuse"
shared="${OTFUSE_SHARED_DIR:-$here/../shared}"
mkdir -p "$out"

paper="$shared/models/paper-mnist-mlpnet"
if [[ -f "$paper/model_0.pt" && -f "$paper/model_1.pt" ]]; then
  a="$paper/model_0.pt"
  b="$paper/model_1.pt"
  echo "parents: the paper's MNIST MLPNets ($paper)"
else
  echo "parents: ../shared/models/paper-mnist-mlpnet not found; training two MLPNets (1 epoch each)"
  for s in 0 1; do
    [[ -f "$out/mlpnet_seed$s.pt" ]] ||
      "$otfuse" train --arch mlpnet --dataset mnist --epochs 1 --seed "$s" --no-progress \
        --out "$out/mlpnet_seed$s.pt"
  done
  a="$out/mlpnet_seed0.pt"
  b="$out/mlpnet_seed1.pt"
fi

verdicts=()
for mode in $modes; do
  echo
  echo "== $mode mode: OT fusion vs vanilla averaging, fine-tuned $epochs epochs (lr $lr, momentum $momentum, batch $batch, seed $seed)"
  "$otfuse" fuse --dataset mnist --mode "$mode" --no-progress "$a" "$b" \
    --finetune-epochs "$epochs" --finetune-lr "$lr" --finetune-momentum "$momentum" \
    --finetune-batch-size "$batch" --finetune-seed "$seed" --finetune-limit "$limit" \
    --finetune-csv "$out/finetune_$mode.csv" | tee "$out/finetune_$mode.txt"
  verdicts+=("$mode: $(grep -E '^OT fusion is (at or above|below)' "$out/finetune_$mode.txt")")
done
echo
echo "== summary"
printf '%s\n' "${verdicts[@]}"
echo "CSV files (every point): $out/finetune_*.csv"
