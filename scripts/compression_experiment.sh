#!/usr/bin/env bash
# Compression vs pruning on MNIST MLPNet (issue 10, section 3): the paper's two released
# MLPNets (../shared/models/paper-mnist-mlpnet, 10 epochs each) are compressed to 100, 75, 50
# and 25 % of every hidden layer by OT fusion (A aligned onto the pruned B), by magnitude
# pruning of B and by training the narrow MLP from scratch for the parents' 10 epochs; every
# model is then fine-tuned FT_EPOCHS epochs (default 2) and the table printed. Writes
# OUT_DIR/compression.{json,csv} (and .png when otfuse was built with the UI).
# About 25 min on 2 busy cores (the scratch training dominates).
# Usage: scripts/compression_experiment.sh [BUILD_DIR] [OUT_DIR]
# Env: MODE (weights | activations, default weights), FT_EPOCHS (2), WIDTHS (1,0.75,0.5,0.25),
#      SHARED (default ../shared next to the checkout), A / B (other parent files).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
out="${2:-${XDG_CACHE_HOME:-$HOME/.cache}/otfuse/compression}"
shared="${SHARED:-${OTFUSE_SHARED_DIR:-$here/../shared}}"
a="${A:-$shared/models/paper-mnist-mlpnet/legacy/model_0/final.checkpoint}"
b="${B:-$shared/models/paper-mnist-mlpnet/legacy/model_1/final.checkpoint}"
mode="${MODE:-weights}"
otfuse="$build/app/otfuse"
mkdir -p "$out"
plot=()
if [[ -x "$build/app/otfuse-studio" ]]; then  # otfuse links the Qt plots with the UI build
  plot=(--plot "$out/compression_$mode.png")
fi
echo "== compression: $a and $b, $mode mode, fine-tuning ${FT_EPOCHS:-2} epochs"
"$otfuse" scenario compression "$a" "$b" --widths "${WIDTHS:-1,0.75,0.5,0.25}" \
  --finetune-epochs "${FT_EPOCHS:-2}" --mode "$mode" --no-progress \
  --csv "$out/compression_$mode.csv" "${plot[@]}" --json > "$out/compression_$mode.json"
# The table, from the JSON (python3 only formats it).
python3 - "$out/compression_$mode.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"A {r['a']['accuracy']:.2f} %, B {r['b']['accuracy']:.2f} %; fine-tuning {r['finetune_epochs']} "
      f"epochs, scratch {r['scratch_epochs']} epochs, {r['seconds']:.0f} s")
print(f"{'width':>6}  {'method':<13} {'architecture':<16} {'params':>7}  {'before':>7}  {'after':>7}")
for p in r["points"]:
    print(f"{100*p['width']:5.0f}%  {p['label']:<13} {p['architecture']:<16} {p['parameters']:>7}  "
          f"{p['before']:6.2f}%  {p['after']:6.2f}%")
PY
