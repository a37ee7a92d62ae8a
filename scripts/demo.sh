#!/usr/bin/env bash
# The main job of ./run.sh: the MNIST fusion demo.
# With a display, opens OTFuse Studio in demo mode (it trains or reuses the two demo models,
# fuses them and shows the transport plans). Without one (or with OTFUSE_DEMO=cli), runs the
# same demo on the command line: trains two MLPNets with the app's demo recipe (4 epochs, about
# 98 %, cached), evaluates them and prints the paper's Table-1 row for weights- and
# activations-based fusion.
# DEMO_SPLIT=personal[:CLASS[:PERCENT]] trains the parents on the paper's personal split
# instead (A: every image of digit CLASS plus PERCENT % of the others; B: the rest, no CLASS;
# defaults 4 and 10), the skill-transfer setting: the tables then include per-class accuracy.
set -euo pipefail
build_dir="${1:?usage: demo.sh BUILD_DIR}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/otfuse/demo"
otfuse="$build_dir/app/otfuse"
studio="$build_dir/app/otfuse-studio"
split="${DEMO_SPLIT:-}"

if [[ "${OTFUSE_DEMO:-}" != cli && -x "$studio" && ( -n "${DISPLAY:-}" || -n "${WAYLAND_DISPLAY:-}" ) ]]; then
  exec "$studio" --demo ${split:+--demo-split "$split"}
fi

names=(mlpnet_demo2_seed0.pt mlpnet_demo2_seed1.pt)
split_args=()
if [[ -n "$split" ]]; then
  IFS=: read -r kind special percent extra <<<"$split"
  special="${special:-4}"
  percent="${percent:-10}"
  if [[ "$kind" != personal || -n "${extra:-}" || ! "$special" =~ ^[0-9]$ ||
        ! "$percent" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
    echo "demo.sh: DEMO_SPLIT='$split': expected personal, personal:CLASS or personal:CLASS:PERCENT" >&2
    exit 2
  fi
  fraction="$(awk -v p="$percent" 'BEGIN { if (p > 100) exit 1; printf "%g", p / 100 }')" || {
    echo "demo.sh: DEMO_SPLIT='$split': PERCENT must be at most 100" >&2
    exit 2
  }
  # The app's file names for the same split (core/src/engine/engine.cpp, demoModelFileNames).
  names=("mlpnet_demo2_personal_c${special}_p${fraction}_s0_A.pt"
         "mlpnet_demo2_personal_c${special}_p${fraction}_s0_B.pt")
  split_args=(--split personal --special-class "$special" --fraction "$fraction" --split-seed 0)
fi

mkdir -p "$cache"
for seed in 0 1; do
  model="$cache/${names[$seed]}"
  if [[ ! -f "$model" ]]; then
    part_args=()
    what="MLPNet, MNIST, 4 epochs, seed $seed"
    if [[ -n "$split" ]]; then
      part=$([[ $seed == 0 ]] && echo A || echo B)
      part_args=("${split_args[@]}" --split-part "$part")
      what="$what, part $part of the personal split"
    fi
    echo "== training demo model $((seed + 1))/2 ($what)"
    # The app's demo recipe (core/src/engine/engine.cpp, demoModels).
    "$otfuse" train --arch mlpnet --dataset mnist --epochs 4 --batch-size 128 --lr 0.05 \
      --momentum 0.9 --schedule cosine --weight-decay 5e-4 --seed "$seed" \
      ${part_args[@]+"${part_args[@]}"} --out "$model"
  fi
done
echo
echo "== the two parents and their prediction ensemble"
"$otfuse" eval --dataset mnist ${split:+--per-class} "$cache/${names[0]}" "$cache/${names[1]}"
for mode in weights activations; do
  echo
  echo "== OT fusion, $mode mode"
  "$otfuse" fuse --dataset mnist --mode "$mode" \
    --out "$cache/fused_${split:+split_}$mode.pt" "$cache/${names[0]}" "$cache/${names[1]}"
done
if [[ -n "$split" ]]; then
  echo
  echo "== per class: the parents and both fused models (digit $special is the special class)"
  "$otfuse" eval --dataset mnist --per-class "$cache/${names[0]}" "$cache/${names[1]}" \
    "$cache/fused_split_weights.pt" "$cache/fused_split_activations.pt"
fi
echo
echo "fused models written to $cache"
