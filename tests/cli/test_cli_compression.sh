#!/usr/bin/env bash
# otfuse scenario compression and otfuse prune end to end on two mlp:64-32 trained on 2,000
# MNIST images: --json structure (every width x method, accuracies in [0, 100]), --csv, --plot
# (when built with the UI), bad widths and incompatible models refused with a clear message
# and no output file, prune writes a narrower model that loads. Skipped (77) without MNIST.
# usage: test_cli_compression.sh OTFUSE_EXECUTABLE WORK_DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
require_mnist
fresh_work

for s in 1 2; do
  "$otfuse" train --arch mlp:64-32 --dataset mnist --out "$work/p$s.pt" --limit 2000 --epochs 2 \
    --lr 0.05 --momentum 0.9 --seed $s --no-progress > /dev/null
done
"$otfuse" train --arch mlp:16 --dataset mnist --out "$work/small.pt" --epochs 1 --limit 200 --no-progress > /dev/null

"$otfuse" scenario --help | grep -q compression || fail "scenario --help lacks compression"
"$otfuse" scenario compression --help | grep -q -- "--finetune-epochs" || fail "help lacks --finetune-epochs"

# Refusals: exit 1, a message naming the problem, no CSV written.
expect_error() {  # expect_error "message part" args...
  local want=$1; shift
  if "$otfuse" "$@" > "$work/out.txt" 2> "$work/err.txt"; then fail "accepted: $*"; fi
  grep -q -- "$want" "$work/err.txt" || { cat "$work/err.txt"; fail "message for '$*' lacks '$want'"; }
}
common=(--limit 2000 --scratch-epochs 1 --no-progress --csv "$work/bad.csv")
expect_error "not a kept fraction in (0, 1]" scenario compression "$work/p1.pt" "$work/p2.pt" --widths 1,0 "${common[@]}"
expect_error "not a kept fraction in (0, 1]" scenario compression "$work/p1.pt" "$work/p2.pt" --widths 1.5 "${common[@]}"
expect_error "'abc' is not a number" scenario compression "$work/p1.pt" "$work/p2.pt" --widths abc "${common[@]}"
expect_error "cannot be fused onto" scenario compression "$work/small.pt" "$work/p2.pt" "${common[@]}"
expect_error "expects two models" scenario compression "$work/p1.pt" "${common[@]}"
[[ ! -e $work/bad.csv ]] || fail "a refused run wrote its CSV"

plot=(--plot "$work/compression.png")
"$otfuse" scenario compression "$work/p1.pt" "$work/p2.pt" --widths 1,0.5,0.25 --limit 2000 \
  --finetune-epochs 1 --scratch-epochs 1 --lr 0.05 --momentum 0.9 --no-progress \
  --csv "$work/c.csv" "${plot[@]}" --json > "$work/c.json" 2> "$work/c.err" || {
  if grep -q "built without the UI" "$work/c.err"; then
    plot=()
    "$otfuse" scenario compression "$work/p1.pt" "$work/p2.pt" --widths 1,0.5,0.25 --limit 2000 \
      --finetune-epochs 1 --scratch-epochs 1 --lr 0.05 --momentum 0.9 --no-progress \
      --csv "$work/c.csv" --json > "$work/c.json"
  else
    cat "$work/c.err"; fail "scenario compression failed"
  fi
}
if [[ ${#plot[@]} -gt 0 ]]; then
  [[ -s $work/compression.png ]] || fail "no plot written"
  head -c 4 "$work/compression.png" | grep -q PNG || fail "the plot is not a PNG"
fi
python3 - "$work" <<'PY'
import csv, json, sys
work = sys.argv[1]
r = json.load(open(work + "/c.json"))
assert set(r) == {"dataset", "a", "b", "finetune_epochs", "scratch_epochs", "widths", "methods",
                  "points", "seconds"}, r.keys()
assert r["dataset"] == "mnist" and r["finetune_epochs"] == 1 and r["scratch_epochs"] == 1
assert r["widths"] == [1, 0.5, 0.25] and r["methods"] == ["fusion", "pruning", "scratch"]
pts = {(p["width"], p["method"]): p for p in r["points"]}
assert len(r["points"]) == 9 and len(pts) == 9
archs = {1: "mlp:64-32", 0.5: "mlp:32-16", 0.25: "mlp:16-8"}
for (w, m), p in pts.items():
    assert set(p) == {"width", "method", "label", "architecture", "parameters", "before", "after", "curve"}, p
    assert p["architecture"] == archs[w], p
    assert 0 <= p["before"] <= 100 and 0 <= p["after"] <= 100, p
    assert len(p["curve"]) == 1 and p["curve"][-1] == p["after"], p
    assert p["before"] != p["after"], p
assert pts[(1, "pruning")]["before"] == r["b"]["accuracy"]
rows = list(csv.DictReader(open(work + "/c.csv")))
assert len(rows) == 9 and set(rows[0]) == {"width", "method", "architecture", "parameters", "before", "after"}
print("compression json/csv ok")
PY

# otfuse prune
"$otfuse" prune "$work/p1.pt" --width 0.5 --out "$work/half.pt" --json > "$work/prune.json"
python3 - "$work/prune.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["architecture"] == "mlp:32-16" and r["from_architecture"] == "mlp:64-32", r
assert [l["kept"] for l in r["layers"]] == [32, 16, 10] and [l["of"] for l in r["layers"]] == [64, 32, 10], r
PY
"$otfuse" info "$work/half.pt" | grep -q "architecture  mlp:32-16" || fail "pruned model does not load as mlp:32-16"
"$otfuse" eval --json --no-progress "$work/half.pt" > /dev/null || fail "pruned model does not evaluate"
expect_error "(0, 1]" prune "$work/p1.pt" --width 0 --out "$work/bad.pt"
expect_error "(0, 1]" prune "$work/p1.pt" --width 1.5 --out "$work/bad.pt"
"$otfuse" train --arch mnistcnn --dataset mnist --out "$work/cnn.pt" --epochs 1 --limit 200 --no-progress > /dev/null
expect_error "fixed widths" prune "$work/cnn.pt" --width 0.5 --out "$work/bad.pt"
[[ ! -e $work/bad.pt ]] || fail "a refused prune wrote its output"
echo "PASS"
