#!/usr/bin/env bash
# The CIFAR-10 check of OT fusion: trains two VGG11s with `otfuse train` (seeds 0 and 1; by
# default 10 epochs on all 50,000 training images, 2.5-5 min per epoch on 2 cores, so
# 50-100 min for both), then fuses them in weights and activations mode and prints the Table-1
# rows (with BatchNorm re-estimated rows for BN models). Trained models are kept in OUT_DIR and
# reused. Numbers on the JPEG copy of CIFAR-10 in ../shared are close to, not identical with,
# those on the official files.
# Usage: scripts/cifar_vgg_experiment.sh [BUILD_DIR] [OUT_DIR]
# Env: ARCH (default vgg11_bn_half), EPOCHS (10), LIMIT (training images, default all),
#      LR (0.05).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
out="${2:-${XDG_CACHE_HOME:-$HOME/.cache}/otfuse/cifar-vgg}"
arch="${ARCH:-vgg11_bn_half}"
epochs="${EPOCHS:-10}"
limit="${LIMIT:-50000}"
lr="${LR:-0.05}"
otfuse="$build/app/otfuse"
mkdir -p "$out"
for seed in 0 1; do
  model="$out/${arch}_seed$seed.pt"
  if [[ ! -f "$model" ]]; then
    echo "== training $arch, seed $seed ($epochs epochs on $limit images)"
    "$otfuse" train --arch "$arch" --dataset cifar10 --epochs "$epochs" --limit "$limit" \
      --lr "$lr" --momentum 0.9 --weight-decay 5e-4 --schedule cosine --batch-size 128 \
      --seed "$seed" --no-progress --out "$model"
  fi
done
for mode in weights activations; do
  echo
  echo "== OT fusion of the two ${arch}s, $mode mode"
  "$otfuse" fuse --dataset cifar10 --mode "$mode" --no-progress \
    --report "$out/report_$mode.json" "$out/${arch}_seed0.pt" "$out/${arch}_seed1.pt"
done
