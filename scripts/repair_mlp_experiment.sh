#!/usr/bin/env bash
# REPAIR's sanity experiment (issue 11): MNIST MLPs without BatchNorm. REPAIR (Jordan et al.
# 2023) reports for such a pair endpoints about 96.5 %, the permuted (aligned) midpoint about
# 71.7 %, and about 83 % after REPAIR. Here: two MLPs (biases, ReLU, no BatchNorm) trained by
# `otfuse train` with seeds 0 and 1 (SGD, lr 0.01, momentum 0.9, batch 64, all 60,000 images),
# then `otfuse compare` at t = 0.5 with exact and with closed-form REPAIR.
# Default: 8 hidden layers of 128 (3 epochs); the barrier of a shallow wide MLP is small:
#   ARCH=mlp:512-512-512,bias EPOCHS=5 POINTS=25 METHODS=vanilla,weight-matching,activation-matching
# The training recipe is a small fixed one, not tuned to reach the published numbers.
# Trained models are kept in OUT_DIR and reused.
# Usage: scripts/repair_mlp_experiment.sh [BUILD_DIR] [OUT_DIR]
# Env: ARCH (mlp:128-128-128-128-128-128-128-128,bias), EPOCHS (3), LR (0.01), MOMENTUM (0.9),
#      POINTS (5: values of t per curve), METHODS (vanilla,weight-matching).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
out="${2:-${XDG_CACHE_HOME:-$HOME/.cache}/otfuse/repair-mlp}"
arch="${ARCH:-mlp:128-128-128-128-128-128-128-128,bias}"
epochs="${EPOCHS:-3}"
lr="${LR:-0.01}"
momentum="${MOMENTUM:-0.9}"
points="${POINTS:-5}"
methods="${METHODS:-vanilla,weight-matching}"
otfuse="$build/app/otfuse"
mkdir -p "$out"
name="$(echo "$arch" | tr ':,' '__')_e$epochs"
for seed in 0 1; do
  model="$out/${name}_seed$seed.pt"
  if [[ ! -f "$model" ]]; then
    echo "== training $arch, seed $seed ($epochs epochs, lr $lr, momentum $momentum)"
    nice "$otfuse" train --arch "$arch" --dataset mnist --epochs "$epochs" --lr "$lr" \
      --momentum "$momentum" --seed "$seed" --no-progress --out "$model"
  fi
done
for repair in exact closed; do
  echo
  echo "== otfuse compare, REPAIR variant: $repair"
  nice "$otfuse" compare --dataset mnist --repair "$repair" --no-progress --points "$points" \
    --methods "$methods" --csv "$out/${name}_compare_$repair.csv" \
    --curves-csv "$out/${name}_curves_$repair.csv" \
    "$out/${name}_seed0.pt" "$out/${name}_seed1.pt"
done
