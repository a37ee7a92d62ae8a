#!/usr/bin/env bash
# End to end on small data: otfuse train (2,000 MNIST images, one epoch) -> info -> eval --json
# (one model and an ensemble of two) -> checks on the printed JSON. Needs the real MNIST files
# (run.sh fetches them); exits 77 (skipped) when they are missing.
# usage: test_cli_train_eval.sh OTFUSE_EXECUTABLE WORK_DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
require_mnist
mkdir -p "$work"
rm -f "$work"/cli_a.pt "$work"/cli_b.pt

"$otfuse" train --help | grep -q -- "--schedule" || fail "train --help lacks --schedule"
"$otfuse" eval --help | grep -q -- "--ensemble" || fail "eval --help lacks --ensemble"
"$otfuse" info --help | grep -q -- "--arch" || fail "info --help lacks --arch"

for seed in a:1 b:2; do
  name=${seed%%:*}
  "$otfuse" train --arch mlpnet --dataset mnist --out "$work/cli_$name.pt" --limit 2000 \
    --epochs 1 --lr 0.05 --momentum 0.9 --batch-size 32 --seed "${seed#*:}" --no-progress > "$work/train_$name.txt"
  cat "$work/train_$name.txt"
  grep -q "^epoch   1 .*test accuracy" "$work/train_$name.txt" || fail "no epoch line"
  [[ -s $work/cli_$name.pt ]] || fail "no checkpoint written"
done

"$otfuse" info "$work/cli_a.pt" > "$work/info.txt"
cat "$work/info.txt"
grep -q "architecture  mlpnet" "$work/info.txt" || fail "info: architecture"
grep -q "format        zip" "$work/info.txt" || fail "info: format"
grep -q "total parameters: 414600" "$work/info.txt" || fail "info: parameter count"
grep -q "test_accuracy" "$work/info.txt" || fail "info: metadata"

"$otfuse" eval --json --no-progress "$work/cli_a.pt" > "$work/eval1.json"
"$otfuse" eval --json --no-progress --dataset mnist "$work/cli_a.pt" "$work/cli_b.pt" > "$work/eval2.json"
"$otfuse" info --json "$work/cli_a.pt" > "$work/info.json"
cat "$work/eval1.json" "$work/eval2.json"

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
one = json.load(open(work + "/eval1.json"))
two = json.load(open(work + "/eval2.json"))
info = json.load(open(work + "/info.json"))
assert set(one) == {"dataset", "dataset_source", "classes", "models"}, one
assert set(two) == {"dataset", "dataset_source", "classes", "models", "ensemble"}, two
assert one["classes"] == [str(c) for c in range(10)], one["classes"]
assert one["dataset"] == "mnist" and one["dataset_source"] == "from the checkpoint's metadata", one
assert two["dataset_source"] == "given with --dataset", two
for m in one["models"] + two["models"]:
    assert set(m) == {"path", "accuracy", "loss", "per_class_accuracy", "confusion"}, m
    assert 60.0 < m["accuracy"] <= 100.0 and 0.0 < m["loss"] < 1.5, m
assert set(two["ensemble"]) == {"accuracy", "loss", "per_class_accuracy", "confusion"}
assert 60.0 < two["ensemble"]["accuracy"] <= 100.0
# The accuracy stored at training time is the one eval measures.
stored = float(info["metadata"]["test_accuracy"])
assert abs(stored - one["models"][0]["accuracy"]) < 0.006, (stored, one)
assert one["models"][0] == two["models"][0], (one, two)
assert info["architecture"] == "mlpnet" and info["parameters"] == 414600
assert info["metadata"]["epoch"] == "1" and info["metadata"]["dataset"] == "mnist"
print("json checks passed")
PY

# Bad input: a clear error and a non-zero exit, never a crash.
echo "not a model" > "$work/garbage.pt"
if "$otfuse" eval --no-progress "$work/garbage.pt" 2> "$work/err.txt"; then fail "garbage accepted"; fi
grep -q "garbage.pt" "$work/err.txt" || fail "error does not name the file: $(cat "$work/err.txt")"
if "$otfuse" train --arch mlpnet --dataset mnist --out "$work/x.pt" --schedule zigzag 2> "$work/err.txt"; then
  fail "unknown schedule accepted"
fi
grep -q "zigzag" "$work/err.txt" || fail "schedule error: $(cat "$work/err.txt")"
# Stopped during training (SIGTERM; Ctrl-C sends SIGINT to the same handler): exit 130, a message, and the output file neither written nor changed.
cp "$work/cli_a.pt" "$work/keep.pt"
before=$(md5sum < "$work/keep.pt")
"$otfuse" train --arch mlpnet --dataset mnist --out "$work/keep.pt" --epochs 50 --no-progress \
  > "$work/int_out.txt" 2> "$work/int_err.txt" &
pid=$!
for _ in $(seq 1 300); do  # wait until the first epoch line shows training is under way
  grep -q "^epoch" "$work/int_out.txt" && break
  sleep 0.1
done
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[[ $rc -eq 130 ]] || fail "interrupted train exited with $rc, not 130: $(cat "$work/int_err.txt")"
grep -q "cancelled" "$work/int_err.txt" || fail "no cancellation message: $(cat "$work/int_err.txt")"
[[ $(md5sum < "$work/keep.pt") == "$before" ]] || fail "interrupted train changed the output file"
ls "$work" | grep -q "keep.pt.*tmp\|\.tmp" && fail "a temporary file was left behind: $(ls "$work")"
echo "PASS"
