#!/usr/bin/env bash
# REPAIR's sanity experiment (issue 11): MNIST MLPs without BatchNorm. REPAIR (Jordan et al.
# 2023) reports for such a pair endpoints about 96.5 %, the permuted (aligned) midpoint about
# 71.7 %, and about 83 % after REPAIR. Here: two MLPs (hidden widths 512-512-512, biases, ReLU,
# no BatchNorm) trained by `otfuse train` with seeds 0 and 1, then `otfuse compare` of vanilla
# averaging and weight matching, with exact and with closed-form REPAIR, t = 0.5, 25 points.
# The training recipe is a small fixed one (not tuned to reach the published numbers).
# Trained models are kept in OUT_DIR and reused.
# Usage: scripts/repair_mlp_experiment.sh [BUILD_DIR] [OUT_DIR]
# Env: ARCH (default mlp:512-512-512,bias), EPOCHS (5), LR (0.01), MOMENTUM (0.9).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
out="${2:-${XDG_CACHE_HOME:-$HOME/.cache}/otfuse/repair-mlp}"
arch="${ARCH:-mlp:512-512-512,bias}"
epochs="${EPOCHS:-5}"
lr="${LR:-0.01}"
momentum="${MOMENTUM:-0.9}"
otfuse="$build/app/otfuse"
mkdir -p "$out"
name="$(echo "$arch" | tr ':,' '__')"
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
  nice "$otfuse" compare --dataset mnist --repair "$repair" --no-progress \
    --methods vanilla,weight-matching,activation-matching \
    --csv "$out/compare_$repair.csv" --curves-csv "$out/curves_$repair.csv" \
    "$out/${name}_seed0.pt" "$out/${name}_seed1.pt"
done
