#!/usr/bin/env bash
# Methods side by side on a CIFAR-10 VGG pair (issue 11): the two halved VGG11s with BatchNorm
# of scripts/cifar_vgg_experiment.sh (trained first when missing: 10 epochs each, about an hour
# on 2 cores), model 0 aligned onto model 1, t = 0.5, POINTS values of t per curve (default 25,
# as in Git Re-Basin). BatchNorm networks: the "with" rows re-estimate the BatchNorm statistics
# (REPAIR's correction for them). Writes DIR/compare.json (otfuse compare --json; the screenshot
# tool tests/tools/compare_screenshot.cpp reads it), DIR/compare_table.csv and
# DIR/compare_curves.csv, and prints the table.
# Usage: scripts/compare_cifar_vgg.sh [BUILD_DIR] [DIR]   Env: POINTS (25), ARCH (vgg11_bn_half)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
dir="${2:-${XDG_CACHE_HOME:-$HOME/.cache}/otfuse/cifar-vgg}"
arch="${ARCH:-vgg11_bn_half}"
a="$dir/${arch}_seed0.pt"
b="$dir/${arch}_seed1.pt"
if [[ ! -f "$a" || ! -f "$b" ]]; then
  ARCH="$arch" "$here/scripts/cifar_vgg_experiment.sh" "$build" "$dir"
fi
"$build/app/otfuse" compare --dataset cifar10 --points "${POINTS:-25}" --no-progress --json \
  --csv "$dir/compare_table.csv" --curves-csv "$dir/compare_curves.csv" "$a" "$b" \
  > "$dir/compare.json.tmp"
mv "$dir/compare.json.tmp" "$dir/compare.json"
column -s, -t < "$dir/compare_table.csv"
