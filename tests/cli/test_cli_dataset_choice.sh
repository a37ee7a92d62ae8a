#!/usr/bin/env bash
# Issue 8: a model trained on Fashion-MNIST is evaluated on Fashion-MNIST by default (the
# dataset otfuse train stores in the checkpoint), not on MNIST as its 1x28x28 input suggests;
# info, eval and fuse say which dataset and why. Two small MLPs on 1,000 Fashion-MNIST images
# and one on MNIST, a few seconds each. Exits 77 (skipped) without Fashion-MNIST (Debian's
# dataset-fashion-mnist) or MNIST.
# usage: test_cli_dataset_choice.sh OTFUSE_EXECUTABLE WORK_DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
datasets=$("$otfuse" data list 2>&1 || true)
for name in fashion-mnist mnist; do
  if ! grep -Eq "^$name +found " <<< "$datasets"; then
    echo "SKIP: $name not found: $(grep -E "^$name " <<< "$datasets" || echo "$datasets")"
    exit 77
  fi
done
fresh_work cd

for spec in f1:fashion-mnist:1 f2:fashion-mnist:2 m1:mnist:3; do
  IFS=: read -r name dataset seed <<< "$spec"
  "$otfuse" train --arch mlp:32 --dataset "$dataset" --out "$name.pt" --limit 1000 --epochs 1 \
    --lr 0.05 --momentum 0.9 --seed "$seed" --no-progress > "train_$name.txt"
done

"$otfuse" info f1.pt > info.txt
grep -q "^dataset       fashion-mnist (from the checkpoint's metadata)" info.txt ||
  fail "info: $(grep dataset info.txt)"
"$otfuse" info --json f1.pt > info.json

"$otfuse" eval --no-progress f1.pt > eval.txt
cat eval.txt
grep -q "^fashion-mnist test split: 10000 images (dataset from the checkpoint's metadata)" eval.txt ||
  fail "eval does not say fashion-mnist from the metadata: $(head -1 eval.txt)"
"$otfuse" eval --json --no-progress f1.pt > eval_default.json
"$otfuse" eval --json --no-progress --dataset fashion-mnist f1.pt > eval_fashion.json
"$otfuse" eval --json --no-progress --dataset mnist f1.pt > eval_mnist.json
"$otfuse" fuse --json --no-progress f1.pt f2.pt > fuse.json
"$otfuse" fuse --no-progress f1.pt f2.pt > fuse.txt
grep -q "^dataset fashion-mnist (from the checkpoint's metadata of f2.pt)" fuse.txt ||
  fail "fuse does not say fashion-mnist: $(head -3 fuse.txt)"

python3 - <<'PY'
import json
info = json.load(open("info.json"))
default = json.load(open("eval_default.json"))
fashion = json.load(open("eval_fashion.json"))
mnist = json.load(open("eval_mnist.json"))
fuse = json.load(open("fuse.json"))
assert info["dataset"] == "fashion-mnist", info
assert info["dataset_source"] == "from the checkpoint's metadata", info
assert default["dataset"] == "fashion-mnist", default
assert default["dataset_source"] == "from the checkpoint's metadata", default
assert fashion["dataset_source"] == "given with --dataset", fashion
# The default evaluation is the Fashion-MNIST one, to the last digit, and not MNIST's.
assert default["models"] == fashion["models"], (default, fashion)
assert default["models"][0]["loss"] != mnist["models"][0]["loss"], (default, mnist)
# ... and it is what training measured (stored with two decimals).
stored = float(info["metadata"]["test_accuracy"])
assert abs(stored - default["models"][0]["accuracy"]) < 0.006, (stored, default)
assert fuse["summary"]["dataset"] == "fashion-mnist", fuse["summary"]
assert fuse["summary"]["dataset_source"] == "from the checkpoint's metadata of f2.pt", fuse["summary"]
assert fuse["accuracy"]["model_0"] == default["models"][0]["accuracy"], (fuse, default)
print("dataset checks passed")
PY

# Models of different datasets together: a message naming both, asking for --dataset.
rc=0
"$otfuse" eval --no-progress f1.pt m1.pt > mixed.txt 2> mixed_err.txt || rc=$?
[[ $rc -eq 1 ]] || fail "eval of an MNIST and a Fashion-MNIST model exited with $rc"
grep -q "f1.pt is for fashion-mnist" mixed_err.txt && grep -q "m1.pt is for mnist" mixed_err.txt &&
  grep -q -- "--dataset" mixed_err.txt || fail "mixed datasets: $(cat mixed_err.txt)"
"$otfuse" eval --no-progress --dataset mnist f1.pt m1.pt > /dev/null || fail "--dataset does not settle it"
echo "PASS"
