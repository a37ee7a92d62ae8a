#!/usr/bin/env bash
# otfuse fuse end to end (issue 8) on three small MLPs trained here by otfuse train (1,000 MNIST
# images, one epoch, a few seconds each; no ../shared needed): the Table-1 table, --json,
# --out (the written file, evaluated by otfuse eval, gives the table's OT fusion row), --report
# and --plans-dir (plans whose rows and columns sum to the marginals), bad arguments (a clear
# message, exit 1, no file written) and incompatible models (the message names both files and
# the layer). Needs the real MNIST files (run.sh fetches them); exits 77 (skipped) without them.
# usage: test_cli_fuse.sh OTFUSE_EXECUTABLE WORK_DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
require_mnist
fresh_work cd

# A and B: same architecture; C: one hidden layer fewer (cannot be fused with A).
for spec in a:mlp:32-16:1 b:mlp:32-16:2 c:mlp:24:3; do
  IFS=: read -r name fam widths seed <<< "$spec"
  "$otfuse" train --arch "$fam:$widths" --dataset mnist --out "$name.pt" --limit 1000 --epochs 1 \
    --lr 0.05 --momentum 0.9 --seed "$seed" --no-progress > "train_$name.txt"
done

# --- the table ---------------------------------------------------------------------------
"$otfuse" fuse --no-progress a.pt b.pt > table.txt
cat table.txt
for row in "model A" "model B" "prediction ensemble" "vanilla average" "OT fusion"; do
  grep -Eq "^$row +[0-9]+\.[0-9]{2}% +[0-9]+\.[0-9]{4}$" table.txt || fail "table: no row '$row'"
done
grep -q "OT fusion of a.pt (A, aligned) onto b.pt (B, anchor)" table.txt || fail "table: header"
for layer in fc1 fc2 fc3; do grep -Eq "^  $layer " table.txt || fail "table: no layer line $layer"; done

# --- --json, --out, --report, --plans-dir in one run -------------------------------------
"$otfuse" fuse --no-progress --json --out fused.pt --report report.json --plans-dir plans \
  a.pt b.pt > fuse.json
[[ -s fused.pt ]] || fail "--out wrote nothing"
"$otfuse" eval --json --no-progress fused.pt > eval_fused.json
"$otfuse" info --json fused.pt > info_fused.json
"$otfuse" eval --json --no-progress a.pt b.pt > eval_parents.json
ls plans > plans.txt

python3 - <<'PY'
import csv, json, re
fuse = json.load(open("fuse.json"))
report = json.load(open("report.json"))
fused_eval = json.load(open("eval_fused.json"))["models"][0]
parents = json.load(open("eval_parents.json"))
table = open("table.txt").read()

acc = fuse["accuracy"]
assert set(acc) == {"model_0", "model_1", "ensemble", "vanilla", "fused"}, acc
assert set(fuse["loss"]) == set(acc), fuse["loss"]
for k, v in acc.items():
    assert 0.0 < v <= 100.0, (k, v)
assert fuse["summary"]["models"] == ["a.pt", "b.pt"], fuse["summary"]
assert fuse["summary"]["architecture"] == "mlp:32-16" and fuse["summary"]["dataset"] == "mnist"
assert fuse["seconds"]["fusion"] > 0 and fuse["seconds"]["evaluation"] > 0, fuse["seconds"]
assert [l["name"] for l in fuse["layers"]] == ["fc1", "fc2", "fc3"], fuse["layers"]
assert all("plan" not in l for l in fuse["layers"]), "--json must not carry the matrices"

# The table prints the numbers of the JSON (a separate run: evaluation is deterministic).
rows = {"model_0": "model A", "model_1": "model B", "ensemble": "prediction ensemble",
        "vanilla": "vanilla average", "fused": "OT fusion"}
for key, label in rows.items():
    m = re.search(r"^%s +([0-9.]+)%% +([0-9.]+)$" % label, table, re.M)
    assert m and m.group(1) == "%.2f" % acc[key], (key, m and m.group(0), acc[key])
    assert m.group(2) == "%.4f" % fuse["loss"][key], (key, m.group(0), fuse["loss"][key])

# The parents' rows are what otfuse eval measures on its own; the ensemble is eval's too.
assert acc["model_0"] == parents["models"][0]["accuracy"], (acc, parents)
assert acc["model_1"] == parents["models"][1]["accuracy"], (acc, parents)
assert acc["ensemble"] == parents["ensemble"]["accuracy"], (acc, parents)

# --out: the written file is the OT fusion row's model, to the last digit, and says so.
assert fused_eval["accuracy"] == acc["fused"], (fused_eval, acc)
assert fused_eval["loss"] == fuse["loss"]["fused"], (fused_eval, fuse["loss"])
assert fuse["out"] == {"path": "fused.pt", "model": "fused", "accuracy": acc["fused"],
                       "loss": fuse["loss"]["fused"]}, fuse["out"]
md = json.load(open("info_fused.json"))["metadata"]
assert md["fusion_model"] == "fused" and md["dataset"] == "mnist", md
assert float(md["test_accuracy"]) == acc["fused"], md

# --report: the same numbers plus every layer's marginals, cost and plan.
assert report["accuracy"] == acc and report["summary"] == fuse["summary"], report["summary"]
assert [l["name"] for l in report["layers"]] == ["fc1", "fc2", "fc3"]
for l in report["layers"]:
    plan, mu, nu, cost = l["plan"], l["mu"], l["nu"], l["cost"]
    assert len(plan) == l["rows"] == len(mu) == len(cost), l["name"]
    assert all(len(r) == l["cols"] == len(nu) for r in plan + cost), l["name"]
    for i, r in enumerate(plan):
        assert abs(sum(r) - mu[i]) < 1e-9, (l["name"], i, sum(r), mu[i])
    for j in range(l["cols"]):
        assert abs(sum(r[j] for r in plan) - nu[j]) < 1e-9, (l["name"], j)
    assert abs(sum(mu) - 1) < 1e-9 and abs(sum(nu) - 1) < 1e-9

# --plans-dir: one CSV per layer, the report's plan at full precision.
files = open("plans.txt").read().split()
assert files == ["1_fc1_plan.csv", "2_fc2_plan.csv", "3_fc3_plan.csv"], files
for f, l in zip(files, report["layers"]):
    plan = [[float(x) for x in row] for row in csv.reader(open("plans/" + f))]
    assert len(plan) == l["rows"] and all(len(r) == l["cols"] for r in plan), f
    for i, r in enumerate(plan):
        assert abs(sum(r) - l["mu"][i]) < 1e-12, (f, i)
    for j in range(l["cols"]):
        assert abs(sum(r[j] for r in plan) - l["nu"][j]) < 1e-12, (f, j)
    assert plan == l["plan"], f
print("fuse output checks passed")
PY

# --- --repair (issue 11): REPAIR rows, and --out writes the repaired model by default -------
"$otfuse" fuse --no-progress --json --repair exact --repair-batches 4 --out repaired.pt \
  a.pt b.pt > repair.json
"$otfuse" fuse --no-progress --repair closed a.pt b.pt > repair_closed.txt
"$otfuse" eval --json --no-progress repaired.pt > eval_repaired.json
"$otfuse" info --json repaired.pt > info_repaired.json
python3 - <<'PY'
import json, re
r = json.load(open("repair.json"))
plain = json.load(open("fuse.json"))
acc = r["accuracy"]
assert set(acc) == {"model_0", "model_1", "ensemble", "vanilla", "fused", "vanilla_repair",
                    "fused_repair"}, acc
# REPAIR adds rows; the others are the plain run's to the last digit.
for k in plain["accuracy"]:
    assert acc[k] == plain["accuracy"][k], (k, acc[k], plain["accuracy"][k])
assert r["summary"]["repair"] == "exact" and r["summary"]["repair_images"] == 512, r["summary"]
assert set(r["per_class_accuracy"]) == set(acc), r["per_class_accuracy"].keys()
ev = json.load(open("eval_repaired.json"))["models"][0]
assert r["out"]["model"] == "fused_repair" and ev["accuracy"] == acc["fused_repair"], (r["out"], ev)
md = json.load(open("info_repaired.json"))["metadata"]
assert md["fusion_model"] == "fused_repair" and md["repair"] == "exact", md
table = open("repair_closed.txt").read()
for label in ("vanilla \\+ REPAIR", "OT fusion \\+ REPAIR"):
    assert re.search(r"^%s +[0-9.]+%% +[0-9.]+$" % label, table, re.M), (label, table)
print("--repair checks passed")
PY

# --- bad arguments: a message naming the problem, exit code 1, no file written -------------
bad() {  # bad EXPECTED_TEXT ARGS...
  local expect=$1
  shift
  rm -rf out.pt out_report.json out_plans
  local rc=0
  "$otfuse" fuse --no-progress --out out.pt --report out_report.json --plans-dir out_plans "$@" \
    > bad_out.txt 2> bad_err.txt || rc=$?
  [[ $rc -eq 1 ]] || fail "fuse $* exited with $rc, not 1: $(cat bad_err.txt)"
  grep -qF -- "$expect" bad_err.txt || fail "fuse $*: message lacks '$expect': $(cat bad_err.txt)"
  [[ ! -e out.pt && ! -e out_report.json && ! -e out_plans ]] || fail "fuse $* wrote a file"
  ls -a | grep -q "tmp" && fail "fuse $* left a temporary file: $(ls -a)"
  echo "ok: fuse $* -> $(head -c 200 bad_err.txt)"
}
bad "fuse needs at least two model files" a.pt
# Three files are an N-model fusion now (test_cli_fuse_many); c.pt does not fit the anchor a.pt.
bad "cannot fuse model 2 (c.pt) onto the anchor, model 0 (a.pt)" a.pt b.pt c.pt
bad "missing.pt" a.pt missing.pt
bad "unknown option --bogus" --bogus 1 a.pt b.pt
bad "--t" --t 1.5 a.pt b.pt
bad "--t expects a number" --t abc a.pt b.pt
bad "unknown alignment mode 'sideways'" --mode sideways a.pt b.pt
bad "unknown solver" --solver magic a.pt b.pt
bad "--eps" --eps -1 a.pt b.pt
bad "--eps" --solver sinkhorn --eps 0 a.pt b.pt
bad "--samples" --mode activations --samples 0 a.pt b.pt
bad "--seed" --seed -3 a.pt b.pt
bad "--bn-batches" --bn-batches -1 a.pt b.pt
bad "--ensemble" --ensemble median a.pt b.pt
bad "unknown dataset 'nope'" --dataset nope a.pt b.pt
bad "unknown marginals" --marginals l7 a.pt b.pt
# Destinations are checked before any work, so no output is half done.
bad "/nonexistent/r.json" --report /nonexistent/r.json a.pt b.pt
bad "/nonexistent/x.pt" --out /nonexistent/x.pt a.pt b.pt
bad "/nonexistent/plans" --plans-dir /nonexistent/plans a.pt b.pt
echo "I am a file" > not_a_dir
bad "not_a_dir" --plans-dir not_a_dir a.pt b.pt
bad "--out-model expects" --out-model best a.pt b.pt
bad "--repair" --repair sometimes a.pt b.pt
bad "--repair closed is defined for two models" --repair closed a.pt b.pt a.pt
bad "give --repair exact" --out-model fused_repair a.pt b.pt
bad "--repair-batches" --repair exact --repair-batches 0 a.pt b.pt
bad "a.pt has no BatchNorm layers" --out-model fused_bn b.pt a.pt
echo "not a model" > garbage.pt
bad "garbage.pt" a.pt garbage.pt

# --- incompatible models: both files and the layer named ----------------------------------
bad "a.pt" a.pt c.pt
grep -qF "c.pt" bad_err.txt || fail "incompatible: message lacks c.pt: $(cat bad_err.txt)"
grep -qE "layer fc[0-9]" bad_err.txt || fail "incompatible: message names no layer: $(cat bad_err.txt)"
echo "PASS"
