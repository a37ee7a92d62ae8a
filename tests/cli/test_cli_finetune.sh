#!/usr/bin/env bash
# otfuse finetune and otfuse fuse --finetune-epochs / --seeds (issue 10) end to end on two tiny
# MLPs trained here (2,000 MNIST images, one epoch): points per epoch in --json (epoch 0
# included), the per-epoch checkpoints, the input file untouched, the output written
# atomically (nothing on a bad argument or on Ctrl-C), the comparison's JSON and CSV (epoch 0
# = the table's rows), and --seeds K: K per-seed values per row whose mean and sample std are
# what the table and JSON say, each equal to a run with that --seed. Exits 77 without MNIST.
# usage: test_cli_finetune.sh OTFUSE_EXECUTABLE WORK_DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
require_mnist
fresh_work cd

for s in 1 2; do
  "$otfuse" train --arch mlp:32 --dataset mnist --out "m$s.pt" --limit 2000 --epochs 1 \
    --seed "$s" --no-progress > "train_$s.txt"
done
sum_before=$(md5sum m1.pt | cut -d' ' -f1)

# --- otfuse finetune ------------------------------------------------------------------------
"$otfuse" finetune m1.pt --epochs 2 --limit 2000 --lr 0.02 --json --no-progress --out ft.pt \
  --checkpoint-every-epoch ck > ft.json
[[ $(md5sum m1.pt | cut -d' ' -f1) == "$sum_before" ]] || fail "finetune changed its input file"
[[ -s ft.pt && -s ck/epoch_1.pt && -s ck/epoch_2.pt ]] || fail "finetune: missing output files"
"$otfuse" eval --json --no-progress ft.pt ck/epoch_2.pt m1.pt > eval_ft.json
python3 - <<'PY'
import json
ft = json.load(open("ft.json"))
ev = json.load(open("eval_ft.json"))
pts = ft["points"]
assert [p["epoch"] for p in pts] == [0, 1, 2], pts
assert pts[0]["train_loss"] is None and pts[1]["train_loss"] is not None, pts
assert all(p["lr"] == 0.02 for p in pts[1:]), pts
assert ft["checkpoints"] == ["ck/epoch_1.pt", "ck/epoch_2.pt"], ft["checkpoints"]
models = {m["path"]: m for m in ev["models"]} if "models" in ev else None
def acc(path):
    for m in ev["models"]:
        if m["path"] == path:
            return m["accuracy"]
    raise SystemExit("FAIL: eval lacks " + path)
# Epoch 0 is the input, the last point the written model (and the last checkpoint).
assert abs(acc("m1.pt") - pts[0]["test_accuracy"]) < 1e-9, (acc("m1.pt"), pts[0])
assert abs(acc("ft.pt") - pts[-1]["test_accuracy"]) < 1e-9, (acc("ft.pt"), pts[-1])
assert abs(acc("ck/epoch_2.pt") - pts[-1]["test_accuracy"]) < 1e-9
print("finetune json ok:", [p["test_accuracy"] for p in pts])
PY

# Same options, same result (the data order comes from --seed).
"$otfuse" finetune m1.pt --epochs 1 --limit 500 --seed 5 --no-progress --out r1.pt > /dev/null
"$otfuse" finetune m1.pt --epochs 1 --limit 500 --seed 5 --no-progress --out r2.pt > /dev/null
cmp -s r1.pt r2.pt || fail "finetune: the same seed gave different files"

# Bad arguments: exit 1, a message naming the option, nothing written.
expect_error() {  # expect_error PATTERN ARGS...
  local pattern=$1
  shift
  rm -f bad.pt
  if "$otfuse" "$@" > out.txt 2> err.txt; then fail "accepted: $*"; fi
  grep -q -- "$pattern" err.txt || fail "message for '$*': $(cat err.txt)"
  [[ ! -e bad.pt ]] || fail "wrote bad.pt for: $*"
}
expect_error "--epochs must be between" finetune m1.pt --epochs 0 --out bad.pt
expect_error "--lr" finetune m1.pt --lr -0.1 --out bad.pt
expect_error "--lr expects a number" finetune m1.pt --lr fast --out bad.pt
expect_error "zigzag" finetune m1.pt --schedule zigzag --out bad.pt
expect_error "needs --out" finetune m1.pt --epochs 1
expect_error "exactly one model" finetune m1.pt m2.pt --out bad.pt
expect_error "does not exist" finetune m1.pt --out nowhere/bad.pt
expect_error "is the input model" finetune m1.pt --out m1.pt
expect_error "unknown option --frobnicate" finetune m1.pt --frobnicate 1 --out bad.pt
expect_error "missing.pt" finetune missing.pt --out bad.pt
[[ $(md5sum m1.pt | cut -d' ' -f1) == "$sum_before" ]] || fail "a bad run changed the input"

# Stopped (SIGTERM; Ctrl-C sends SIGINT to the same handler, but a shell starts background
# jobs with SIGINT ignored): exit 130 and no output file (nor a temporary one) left.
"$otfuse" finetune m1.pt --epochs 200 --limit 2000 --no-progress --out cancelled.pt > cancel.txt 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  grep -q "^epoch   1 " cancel.txt && break
  sleep 0.1
done
grep -q "^epoch   1 " cancel.txt || { kill "$pid"; fail "no epoch finished within 60 s"; }
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[[ $rc == 130 ]] || fail "cancelled finetune exit code $rc (expected 130): $(cat cancel.txt)"
ls | grep -q cancelled && fail "a cancelled run left $(ls | grep cancelled)"

# --- otfuse fuse --finetune-epochs ------------------------------------------------------------
"$otfuse" fuse m1.pt m2.pt --finetune-epochs 2 --finetune-limit 1000 --finetune-csv ft.csv \
  --json --no-progress > fuse_ft.json
"$otfuse" fuse m1.pt m2.pt --finetune-epochs 2 --finetune-limit 1000 --no-progress > fuse_ft.txt
cat fuse_ft.txt
grep -Eq "^OT fusion is (at or above|below) vanilla" fuse_ft.txt || fail "no verdict line"
grep -q "reference lines (not fine-tuned): model A" fuse_ft.txt || fail "no reference lines"
python3 - <<'PY'
import csv, json
j = json.load(open("fuse_ft.json"))
ft = j["finetune"]
for s in ("fused", "vanilla"):
    assert [p["epoch"] for p in ft["series"][s]] == [0, 1, 2], ft["series"][s]
assert ft["start"] == {"fused": "fused", "vanilla": "vanilla"}, ft["start"]
assert set(ft["references"]) == {"model_0", "model_1", "ensemble"}, ft["references"]
acc = j["accuracy"]
assert abs(ft["series"]["fused"][0]["test_accuracy"] - acc["fused"]) < 1e-9
assert abs(ft["series"]["vanilla"][0]["test_accuracy"] - acc["vanilla"]) < 1e-9
assert abs(ft["references"]["ensemble"]["accuracy"] - acc["ensemble"]) < 1e-9
assert ft["options"]["epochs"] == 2 and ft["options"]["limit"] == 1000
rows = list(csv.DictReader(open("ft.csv")))
assert [r["epoch"] for r in rows] == ["0", "1", "2"], rows
for r, f, v in zip(rows, ft["series"]["fused"], ft["series"]["vanilla"]):
    assert abs(float(r["fused_accuracy"]) - f["test_accuracy"]) < 1e-6
    assert abs(float(r["vanilla_accuracy"]) - v["test_accuracy"]) < 1e-6
    assert abs(float(r["model_0_accuracy"]) - acc["model_0"]) < 1e-6
print("fuse --finetune-epochs ok")
PY
rm -f bad.csv
expect_error "give --finetune-epochs N too" fuse m1.pt m2.pt --finetune-lr 0.1
expect_error "--finetune-epochs must be between" fuse m1.pt m2.pt --finetune-epochs 0
expect_error "--finetune-lr expects a number" fuse m1.pt m2.pt --finetune-epochs 1 --finetune-lr x
expect_error "--no-eval" fuse m1.pt m2.pt --finetune-epochs 1 --no-eval
expect_error "does not exist" fuse m1.pt m2.pt --finetune-epochs 1 --finetune-csv nowhere/x.csv
expect_error "--seeds must be between" fuse m1.pt m2.pt --seeds 0

# --- otfuse fuse --seeds ------------------------------------------------------------------------
"$otfuse" fuse m1.pt m2.pt --mode activations --samples 50 --seed 4 --seeds 3 --json --no-progress > seeds.json
"$otfuse" fuse m1.pt m2.pt --mode activations --samples 50 --seed 4 --seeds 3 --no-progress > seeds.txt
grep -q "mean ± std over 3 activation-sampling seeds 4..6 (std: sample standard deviation, n - 1)" seeds.txt \
  || fail "seeds table header: $(cat seeds.txt)"
for s in 4 5 6; do
  "$otfuse" fuse m1.pt m2.pt --mode activations --samples 50 --seed "$s" --json --no-progress > "seed_$s.json"
done
python3 - <<'PY'
import json, statistics
j = json.load(open("seeds.json"))
s = j["seeds"]
assert s["seeds"] == [4, 5, 6], s["seeds"]
singles = [json.load(open(f"seed_{k}.json")) for k in (4, 5, 6)]
assert set(s["rows"]) >= {"model_0", "model_1", "ensemble", "vanilla", "fused"}, s["rows"].keys()
for key, row in s["rows"].items():
    for what in ("accuracy", "loss"):
        vals = row[what]["per_seed"]
        assert len(vals) == 3, (key, vals)
        # Each per-seed value is the run with that --seed on its own.
        for v, single in zip(vals, singles):
            assert abs(v - single[what][key]) < 1e-9, (key, what, v, single[what][key])
        assert abs(row[what]["mean"] - statistics.mean(vals)) < 1e-9
        assert abs(row[what]["std"] - statistics.stdev(vals)) < 1e-9  # sample std (n - 1)
fused = s["rows"]["fused"]["accuracy"]["per_seed"]
assert len(set(fused)) > 1, "the activation samples did not change with the seed: %s" % fused
print("seeds ok:", fused)
PY
"$otfuse" fuse m1.pt m2.pt --seeds 3 --no-progress > seeds_w.txt 2> seeds_w.err
grep -q "weights-mode alignment samples nothing" seeds_w.err || fail "weights mode --seeds: no note"
grep -q "weights-mode alignment samples nothing" seeds_w.txt || fail "weights mode --seeds: no note in the table"
echo "PASS"
