#!/usr/bin/env bash
# Issue 8, "what is shown is what you get": for BatchNorm models the table's best row is
# "OT fusion + BN re-est.", and that is the model --out writes by default; --out-model fused
# writes the model as averaged. otfuse eval of each written file gives its row's accuracy and
# loss to the last digit, and the file's metadata says which model it is.
# Two vgg11_bn_half models trained here by otfuse train on a small synthetic CIFAR-10 (500
# training and 200 test images of class-coloured blocks written in CIFAR-10's binary format by
# python3), so no download and no ../shared is needed. Exits 77 (skipped) without python3.
# usage: test_cli_fuse_batchnorm.sh OTFUSE_EXECUTABLE WORK_DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
command -v python3 > /dev/null || { echo "SKIP: python3 not found (writes the synthetic data)"; exit 77; }
fresh_work cd

python3 - <<'PY'
import os, random
# Class k: a bright 8x8 block at a class-specific place, in a class-specific colour, on noise.
rng = random.Random(8)
out = "data/cifar10/cifar-10-batches-bin"
os.makedirs(out)
def record():
    k = rng.randrange(10)
    y0, x0 = 4 + (k // 5) * 14, 1 + (k % 5) * 6
    colour = [(k * 37) % 256, (k * 91 + 60) % 256, (k * 53 + 120) % 256]
    planes = []
    for c in range(3):
        plane = bytearray(rng.randrange(0, 80) for _ in range(1024))
        for y in range(y0, y0 + 8):
            for x in range(x0, x0 + 6):
                plane[y * 32 + x] = colour[c]
        planes.append(bytes(plane))
    return bytes([k]) + b"".join(planes)
for name, n in [("data_batch_%d.bin" % i, 100) for i in range(1, 6)] + [("test_batch.bin", 200)]:
    with open(os.path.join(out, name), "wb") as f:
        f.write(b"".join(record() for _ in range(n)))
with open(os.path.join(out, "batches.meta.txt"), "w") as f:
    f.write("\n".join(["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                       "ship", "truck"]) + "\n")
PY

for seed in 1 2; do
  "$otfuse" train --arch vgg11_bn_half --dataset cifar10 --data-dir data --out "m$seed.pt" \
    --epochs 1 --batch-size 50 --lr 0.05 --momentum 0.9 --seed "$seed" --no-progress > "train_$seed.txt"
  cat "train_$seed.txt"
done

# Three runs (each fuses and evaluates VGGs, the slow part): the JSON with the default --out,
# the table with --out-model fused, and --no-eval (the file must still be the re-estimated one).
common=(--data-dir data --no-progress --bn-batches 5)
"$otfuse" fuse "${common[@]}" --json --out default.pt m1.pt m2.pt > default.json
"$otfuse" fuse "${common[@]}" --out plain.pt --out-model fused m1.pt m2.pt > table.txt
cat table.txt
"$otfuse" fuse "${common[@]}" --no-eval --out noeval.pt m1.pt m2.pt > noeval.txt
cat noeval.txt
for f in default plain noeval; do
  "$otfuse" eval --data-dir data --no-progress --json "$f.pt" > "eval_$f.json"
  "$otfuse" info --json "$f.pt" > "info_$f.json"
done

grep -q "^wrote plain.pt: OT fusion as averaged (row \"OT fusion\"), test accuracy" table.txt ||
  fail "the table does not say which model --out wrote: $(grep wrote table.txt)"
grep -q "^wrote noeval.pt: OT fusion with BatchNorm statistics re-estimated (row \"OT fusion + BN re-est.\"); --out-model fused writes the model as averaged" noeval.txt ||
  fail "--no-eval: $(cat noeval.txt)"

python3 - <<'PY'
import json, re
d = json.load(open("default.json"))
ev = {f: json.load(open("eval_%s.json" % f)) for f in ["default", "plain", "noeval"]}
info = {f: json.load(open("info_%s.json" % f)) for f in ["default", "plain", "noeval"]}
acc, loss = d["accuracy"], d["loss"]
assert {"fused", "fused_bn", "vanilla_bn"} <= set(acc), acc
# The re-estimation changes the model, so the two rows (and files) are told apart.
assert loss["fused_bn"] != loss["fused"], loss
assert d["out"] == {"path": "default.pt", "model": "fused_bn",
                    "accuracy": acc["fused_bn"], "loss": loss["fused_bn"]}, d["out"]
# The table (another run of the same fusion) shows the same rows.
table = open("table.txt").read()
for label, key in [("OT fusion", "fused"), (r"OT fusion \+ BN re-est\.", "fused_bn")]:
    m = re.search(r"^%s +([0-9.]+)%% +([0-9.]+)$" % label, table, re.M)
    assert m and m.group(1) == "%.2f" % acc[key] and m.group(2) == "%.4f" % loss[key], (key, m)

# otfuse eval of each file reproduces its row exactly, on the dataset its metadata names.
for f, key in [("default", "fused_bn"), ("noeval", "fused_bn"), ("plain", "fused")]:
    e = ev[f]
    assert e["dataset"] == "cifar10" and e["dataset_source"] == "from the checkpoint's metadata", e
    assert e["models"][0]["accuracy"] == acc[key], (f, key, e, acc)
    assert e["models"][0]["loss"] == loss[key], (f, key, e, loss)
    md = info[f]["metadata"]
    assert md["fusion_model"] == key, (f, md)
    assert md["dataset"] == "cifar10" and md["arch"] == "vgg11_bn_half", md
    assert ("re-estimated on 5 batches" in md["fusion_model_description"]) == (key == "fused_bn"), md
    if f != "noeval":
        assert float(md["test_accuracy"]) == acc[key], (md, acc)
        # (the JSON prints 10 significant digits, the metadata every digit)
        assert abs(float(md["test_loss"]) - loss[key]) < 1e-8 * loss[key], (md, loss)
    else:
        assert "test_accuracy" not in md, md  # not evaluated: no number claimed
print("BatchNorm export checks passed")
PY

# --repair on BatchNorm models: said to be ignored (their correction is the BN re-estimation);
# no REPAIR rows; --out-model fused_repair refused.
"$otfuse" fuse "${common[@]}" --json --repair exact m1.pt m2.pt > repair.json 2> repair_err.txt
grep -q "has BatchNorm layers; --repair is ignored" repair_err.txt || fail "no note: $(cat repair_err.txt)"
python3 -c 'import json,sys; a=json.load(open("repair.json"))["accuracy"]; sys.exit(any("repair" in k for k in a) or "fused_bn" not in a)' \
  || fail "REPAIR rows on a BatchNorm model: $(cat repair.json | head -c 400)"
rc=0
"$otfuse" fuse "${common[@]}" --repair exact --out x.pt --out-model fused_repair m1.pt m2.pt 2> err.txt || rc=$?
[[ $rc -eq 1 && ! -e x.pt ]] && grep -q "REPAIR is for networks without them" err.txt || fail "$(cat err.txt)"

# Bad choices: clear message, exit 1, no file.
rc=0
"$otfuse" fuse "${common[@]}" --out x.pt --out-model sideways m1.pt m2.pt 2> err.txt || rc=$?
[[ $rc -eq 1 && ! -e x.pt ]] && grep -q "out-model expects fused_bn, fused_repair, fused or auto" err.txt || fail "$(cat err.txt)"
rc=0
"$otfuse" fuse "${common[@]}" --out x.pt --out-model fused_bn --bn-batches 0 m1.pt m2.pt 2> err.txt || rc=$?
[[ $rc -eq 1 && ! -e x.pt ]] && grep -q "bn-batches is 0" err.txt || fail "$(cat err.txt)"
rc=0
"$otfuse" fuse "${common[@]}" --out-model fused m1.pt m2.pt 2> err.txt || rc=$?
[[ $rc -eq 1 ]] && grep -q "give --out FILE" err.txt || fail "$(cat err.txt)"

# Fine-tuning after fusion (issue 10) starts BatchNorm models from the re-estimated statistics:
# epoch 0 of each series is the table's *_bn row.
"$otfuse" fuse "${common[@]}" --json --finetune-epochs 1 --finetune-limit 100 --finetune-batch-size 50 \
  m1.pt m2.pt > finetune.json
python3 - <<'PY'
import json
j = json.load(open("finetune.json"))
ft = j["finetune"]
assert ft["start"] == {"fused": "fused_bn", "vanilla": "vanilla_bn"}, ft["start"]
assert ft["series"]["fused"][0]["test_accuracy"] == j["accuracy"]["fused_bn"], (ft["series"]["fused"][0], j["accuracy"])
assert ft["series"]["vanilla"][0]["test_accuracy"] == j["accuracy"]["vanilla_bn"], (ft["series"]["vanilla"][0], j["accuracy"])
assert abs(ft["series"]["fused"][0]["test_loss"] - j["loss"]["fused_bn"]) < 1e-9
assert [p["epoch"] for p in ft["series"]["fused"]] == [0, 1]
print("BatchNorm fine-tuning starts from the re-estimated rows")
PY
echo "PASS"
