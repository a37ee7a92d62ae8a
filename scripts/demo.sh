#!/usr/bin/env bash
# The main job of ./run.sh: the MNIST fusion demo.
# With a display, opens OTFuse Studio in demo mode (it trains or reuses the two demo models,
# fuses them and shows the transport plans). Without one (or with OTFUSE_DEMO=cli), runs the
# same demo on the command line: trains two MLPNets for one epoch each (cached), evaluates them
# and prints the paper's Table-1 row for weights- and activations-based fusion.
set -euo pipefail
build_dir="${1:?usage: demo.sh BUILD_DIR}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/otfuse/demo"
otfuse="$build_dir/app/otfuse"
studio="$build_dir/app/otfuse-studio"

if [[ "${OTFUSE_DEMO:-}" != cli && -x "$studio" && ( -n "${DISPLAY:-}" || -n "${WAYLAND_DISPLAY:-}" ) ]]; then
  exec "$studio" --demo
fi

mkdir -p "$cache"
for seed in 0 1; do
  model="$cache/mlpnet_seed$seed.pt"
  if [[ ! -f "$model" ]]; then
    echo "== training demo model $((seed + 1))/2 (MLPNet, MNIST, 1 epoch, seed $seed)"
    "$otfuse" train --arch mlpnet --dataset mnist --epochs 1 --seed "$seed" --out "$model"
  fi
done
echo
echo "== the two parents and their prediction ensemble"
"$otfuse" eval --dataset mnist "$cache/mlpnet_seed0.pt" "$cache/mlpnet_seed1.pt"
for mode in weights activations; do
  echo
  echo "== OT fusion, $mode mode"
  "$otfuse" fuse --dataset mnist --mode "$mode" --out "$cache/fused_$mode.pt" \
    "$cache/mlpnet_seed0.pt" "$cache/mlpnet_seed1.pt"
done
echo
echo "fused models written to $cache"
