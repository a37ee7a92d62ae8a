#!/usr/bin/env bash
# The residual-network check of OT fusion on CIFAR-10 (issue 9): two ResNet-18s trained by
# `otfuse train` (seeds 0 and 1), fused model 0 onto model 1 in weights and activations mode
# with every residual stream map (first writer, average, summed cost), exact OT, t = 0.5. The
# Table-1 rows include the BatchNorm re-estimated rows (fused_bn, vanilla_bn).
# On 2 CPU cores a full-width ResNet-18 takes about 45 min per epoch, so the default is the same
# topology at base width 16 (16-32-64-128 channels), 8 epochs on 25,000 training images (about
# 5 min per epoch on a quiet machine). Trained models are kept in OUT_DIR and reused. Numbers
# on the JPEG copy of CIFAR-10 in ../shared are close to, not identical with, the official files.
# Usage: scripts/cifar_resnet_experiment.sh [BUILD_DIR] [OUT_DIR]
# Env: ARCH (default resnet18_w16), EPOCHS (8), LIMIT (25000), LR (0.05).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
out="${2:-${XDG_CACHE_HOME:-$HOME/.cache}/otfuse/cifar-resnet}"
arch="${ARCH:-resnet18_w16}"
epochs="${EPOCHS:-8}"
limit="${LIMIT:-25000}"
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
  for stream in first average summed; do
    echo
    echo "== OT fusion of the two ${arch}s, $mode mode, stream map: $stream"
    "$otfuse" fuse --dataset cifar10 --mode "$mode" --stream-map "$stream" --no-progress \
      --report "$out/report_${mode}_$stream.json" "$out/${arch}_seed0.pt" "$out/${arch}_seed1.pt"
  done
done
