#!/usr/bin/env bash
# The paper's skill-transfer experiment (Singh & Jaggi 2020, Section 5.1) on MNIST MLPNets:
# personalised split with the authors' defaults (special class 4, 10 % of the other classes
# for model A), both parents trained with the paper's MNIST SGD settings (lr 0.01, momentum
# 0.5, batch 64), A fused onto B in weights mode at t = 0.5, 0.7, 0.9 (weight of B), plus the
# same in activations mode. Prints both tables and writes the JSON reports.
#
# usage: scripts/skill_transfer_experiment.sh [OUT_DIR]
#   env: OTFUSE (default build/app/otfuse), EPOCHS (default 5), SEEDS (default 1),
#        OTFUSE_THREADS (default 2)
# Trained parents are kept in OUT_DIR/parents and reused by later runs with the same settings.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
otfuse=${OTFUSE:-$here/build/app/otfuse}
out=${1:-$here/runs/skill_transfer}
epochs=${EPOCHS:-5}
seeds=${SEEDS:-1}
export OTFUSE_THREADS=${OTFUSE_THREADS:-2}
mkdir -p "$out"
common=(scenario skill-transfer --arch mlpnet --dataset mnist --special-class 4 --fraction 0.1
        --epochs "$epochs" --seeds "$seeds" --t 0.5,0.7,0.9 --out-dir "$out/parents" --no-progress)
for mode in weights activations; do
  echo "== $mode mode, $epochs epochs, $seeds seed(s) =="
  nice "$otfuse" "${common[@]}" --mode "$mode" --report "$out/skill_transfer_$mode.json" \
    | tee "$out/skill_transfer_$mode.txt"
  echo
done
echo "reports: $out/skill_transfer_{weights,activations}.{json,txt}"
