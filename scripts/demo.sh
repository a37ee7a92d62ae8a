#!/usr/bin/env bash
# The main job of ./run.sh: the MNIST fusion demo.
# With a display, opens OTFuse Studio in demo mode (it trains or reuses the two demo models,
# fuses them and shows the transport plans). Without one (or with OTFUSE_DEMO=cli), runs the
# same demo on the command line: trains two MLPNets with the app's demo recipe (4 epochs, about
# 98 %, cached), evaluates them and prints the paper's Table-1 row for weights- and
# activations-based fusion.
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
  model="$cache/mlpnet_demo2_seed$seed.pt"
  if [[ ! -f "$model" ]]; then
    echo "== training demo model $((seed + 1))/2 (MLPNet, MNIST, 4 epochs, seed $seed)"
    # The app's demo recipe (core/src/engine/engine.cpp, demoModels).
    "$otfuse" train --arch mlpnet --dataset mnist --epochs 4 --batch-size 128 --lr 0.05 \
      --momentum 0.9 --schedule cosine --weight-decay 5e-4 --seed "$seed" --out "$model"
  fi
done
echo
echo "== the two parents and their prediction ensemble"
"$otfuse" eval --dataset mnist "$cache/mlpnet_demo2_seed0.pt" "$cache/mlpnet_demo2_seed1.pt"
for mode in weights activations; do
  echo
  echo "== OT fusion, $mode mode"
  "$otfuse" fuse --dataset mnist --mode "$mode" --out "$cache/fused_$mode.pt" \
    "$cache/mlpnet_demo2_seed0.pt" "$cache/mlpnet_demo2_seed1.pt"
done
echo
echo "fused models written to $cache"
