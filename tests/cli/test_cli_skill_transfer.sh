#!/usr/bin/env bash
# Issue 10, skill transfer: otfuse train --split personal (parts A and B, metadata), eval
# --json/--per-class and fuse --json with per-class accuracy and confusion matrices, bad split
# arguments, and a tiny `otfuse scenario skill-transfer` end to end (2 seeds, JSON checked for
# structure and consistency, parents reused from --out-dir). Small MLPs on 3,000 MNIST images;
# exits 77 (skipped) without MNIST.
# usage: test_cli_skill_transfer.sh OTFUSE_EXECUTABLE WORK_DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
require_mnist
fresh_work
common=(--arch mlp:32 --dataset mnist --limit 3000 --epochs 2 --lr 0.05 --momentum 0.9 --no-progress)

"$otfuse" train --help | grep -q -- "--split-part" || fail "train --help lacks --split-part"
"$otfuse" scenario --help | grep -q "skill-transfer" || fail "scenario --help lacks skill-transfer"
"$otfuse" scenario skill-transfer --help | grep -q -- "--fraction" || fail "skill-transfer --help"

# Both parts of one split (same split seed, different training seeds).
for part in A B; do
  "$otfuse" train "${common[@]}" --split personal --special-class 4 --fraction 0.1 \
    --split-part $part --seed $([[ $part == A ]] && echo 1 || echo 2) --out "$work/$part.pt" \
    > "$work/train_$part.txt"
  cat "$work/train_$part.txt"
  grep -q "personal split (special class 4, fraction 0.1, split seed 0): part $part" \
    "$work/train_$part.txt" || fail "no split line for $part"
  "$otfuse" info --json "$work/$part.pt" > "$work/info_$part.json"
done

"$otfuse" eval --json --no-progress "$work/A.pt" "$work/B.pt" > "$work/eval.json"
"$otfuse" eval --per-class --no-progress "$work/A.pt" "$work/B.pt" > "$work/eval.txt"
cat "$work/eval.txt"
grep -q "accuracy per class" "$work/eval.txt" || fail "eval --per-class prints no table"
[[ $(grep -c "^[0-9] " "$work/eval.txt") -eq 10 ]] || fail "eval --per-class: not 10 class rows"
"$otfuse" fuse --json --no-progress "$work/A.pt" "$work/B.pt" > "$work/fuse.json"

python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
ia, ib = (json.load(open(f"{w}/info_{p}.json"))["metadata"] for p in "AB")
for md, part in ((ia, "A"), (ib, "B")):
    assert md["split"] == "personal" and md["split_part"] == part, md
    assert md["special_class"] == "4" and md["split_fraction"] == "0.1" and md["split_seed"] == "0", md
# 3,000 images: A has every class-4 image plus 10 % (rounded per class) of the others.
assert int(ia["train_size"]) + int(ib["train_size"]) == 3000, (ia, ib)
assert 300 < int(ia["train_size"]) < 700, ia

ev = json.load(open(f"{w}/eval.json"))
def check(m):
    pc, cm = m["per_class_accuracy"], m["confusion"]
    assert len(pc) == 10 and len(cm) == 10 and all(len(r) == 10 for r in cm), m
    assert sum(map(sum, cm)) == 10000, "confusion must sum to the test images"
    rows = [sum(r) for r in cm]
    assert abs(100.0 * sum(cm[i][i] for i in range(10)) / 10000 - m["accuracy"]) < 1e-6
    weighted = sum(p * n for p, n in zip(pc, rows)) / sum(rows)
    assert abs(weighted - m["accuracy"]) < 1e-6, (weighted, m["accuracy"])
    for i in range(10):
        assert abs(pc[i] - 100.0 * cm[i][i] / rows[i]) < 1e-6
    return pc
a, b = (check(m) for m in ev["models"])
check(ev["ensemble"])
# The skill is where the data was: B never saw a 4, A saw all of them.
assert b[4] < 5.0 and a[4] > 80.0, (a[4], b[4])
# Per-class rows of the classes are the test set's class sizes (980 zeros in MNIST's test set).
assert sum(ev["models"][0]["confusion"][0]) == 980

fu = json.load(open(f"{w}/fuse.json"))
for key in ("model_0", "model_1", "ensemble", "vanilla", "fused"):
    pc, cm = fu["per_class_accuracy"][key], fu["confusion"][key]
    assert len(pc) == 10 and sum(map(sum, cm)) == 10000, key
    assert abs(100.0 * sum(cm[i][i] for i in range(10)) / 10000 - fu["accuracy"][key]) < 1e-6, key
assert fu["per_class_accuracy"]["model_0"] == a and fu["per_class_accuracy"]["model_1"] == b
print("split/eval/fuse json checks passed")
PY

# Bad split arguments: exit 1 and a message naming the option and the valid range.
expect_error() {  # expect_error PATTERN ARGS...
  local pattern=$1; shift
  if "$otfuse" "$@" > "$work/out.txt" 2> "$work/err.txt"; then fail "accepted: $*"; fi
  grep -q -- "$pattern" "$work/err.txt" || fail "error for '$*' lacks '$pattern': $(cat "$work/err.txt")"
}
expect_error "special-class 10 is out of range" train "${common[@]}" --out "$work/x.pt" --split personal --special-class 10 --split-part A
expect_error "special-class must be" train "${common[@]}" --out "$work/x.pt" --split personal --special-class -1 --split-part A
expect_error "fraction must be in \[0, 1\]" train "${common[@]}" --out "$work/x.pt" --split personal --fraction 1.5 --split-part A
expect_error "fraction must be in \[0, 1\]" train "${common[@]}" --out "$work/x.pt" --split personal --fraction -0.1 --split-part B
expect_error "split-part A or B" train "${common[@]}" --out "$work/x.pt" --split personal
expect_error "split-part A or B" train "${common[@]}" --out "$work/x.pt" --split personal --split-part C
expect_error "needs --split personal" train "${common[@]}" --out "$work/x.pt" --special-class 3
expect_error "expects personal" train "${common[@]}" --out "$work/x.pt" --split iid --split-part A
expect_error "fraction must be in \[0, 1\]" scenario skill-transfer --fraction 2
expect_error "special class 12 is out of range" scenario skill-transfer --special-class 12 --limit 100 --no-progress
expect_error "t values must lie in \[0, 1\]" scenario skill-transfer --t 0.5,1.5
expect_error "unknown scenario 'nope'" scenario nope
[[ ! -e $work/x.pt ]] || fail "a refused train wrote its output"

# The scenario end to end: 2 seeds, 2 weights, parents kept in --out-dir.
scen=(scenario skill-transfer --arch mlp:32 --limit 3000 --epochs 2 --lr 0.05 --momentum 0.9
      --seeds 2 --t 0.5,0.9 --out-dir "$work/parents" --no-progress)
"$otfuse" "${scen[@]}" --json --report "$work/report.json" > "$work/scenario.json"
"$otfuse" "${scen[@]}" > "$work/scenario.txt"   # second run: parents loaded
cat "$work/scenario.txt"
grep -q "parents: 4 loaded" "$work/scenario.txt" || fail "second run did not reuse the parents"
grep -q "OT fusion, t = 0.9" "$work/scenario.txt" || fail "no OT fusion row in the table"
cmp -s "$work/scenario.json" "$work/report.json" || fail "--report differs from --json output"

python3 - "$work" <<'PY'
import json, math, sys
w = sys.argv[1]
s = json.load(open(f"{w}/scenario.json"))
assert s["scenario"] == "skill-transfer"
assert s["settings"]["special_class"] == 4 and s["settings"]["fraction"] == 0.1
assert s["settings"]["t"] == [0.5, 0.9] and s["settings"]["mode"] == "weights"
assert s["seeds"] == [0, 1] and len(s["classes"]) == 10
assert s["train_images"] == 3000 and s["train_size"]["A"] + s["train_size"]["B"] == 3000
assert s["parents"]["trained"] == 4 and s["parents"]["loaded"] == 0
keys = [(r["key"], r["t"]) for r in s["rows"]]
assert keys == [("A", None), ("B", None), ("ensemble", None), ("vanilla", 0.5), ("fused", 0.5),
                ("vanilla", 0.9), ("fused", 0.9)], keys
n4 = s["special_test_images"]
assert n4 == 982, n4
for r in s["rows"]:
    cm = r["confusion"]
    assert sum(map(sum, cm)) == 2 * 10000, r["key"]          # summed over 2 seeds
    assert sum(cm[4]) == 2 * n4
    for what in ("overall", "special", "others"):
        st = r[what]
        v = st["values"]
        assert len(v) == 2
        mean = sum(v) / 2
        std = math.sqrt(sum((x - mean) ** 2 for x in v) / 1)
        assert abs(st["mean"] - mean) < 1e-6 and abs(st["std"] - std) < 1e-6, (r["key"], what, st)
    # The special class's accuracy is the per-class entry; overall = class-weighted per-class.
    assert abs(r["special"]["mean"] - r["per_class"]["mean"][4]) < 1e-6
    rows = [sum(x) for x in cm]
    weighted = sum(p * n for p, n in zip(r["per_class"]["mean"], rows)) / sum(rows)
    assert abs(weighted - r["overall"]["mean"]) < 1e-6, (r["key"], weighted, r["overall"])
    # Summed confusion: its trace is the correct predictions of both seeds.
    assert abs(100.0 * sum(cm[i][i] for i in range(10)) / 20000 - r["overall"]["mean"]) < 1e-6
    assert abs(100.0 * cm[4][4] / (2 * n4) - r["special"]["mean"]) < 1e-6
rows = {(r["key"], r["t"]): r for r in s["rows"]}
assert rows[("B", None)]["special"]["mean"] < 5.0 and rows[("A", None)]["special"]["mean"] > 80.0
print("scenario json checks passed")
PY
echo "PASS"
