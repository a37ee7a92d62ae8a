#!/usr/bin/env bash
# otfuse fuse with N models (issue 9) on small MLPs trained here by otfuse train (1,000 MNIST
# images, one epoch, a few seconds each; no ../shared needed):
#  - three models: the table (a row per parent, ensemble, vanilla, OT fusion) and --json (keys
#    model_0..2, ensemble, vanilla, fused; the parents and the ensemble are what otfuse eval
#    measures; summary models/anchor/weights; plans per model);
#  - N = 2 through the N-model path (--anchor 1, --anchor b.pt, --weights) gives exactly the
#    numbers and the fused tensors of the two-model command, also for --t;
#  - --anchor (index or file name), --weights (1,0,0 gives the anchor itself; 0,1,0 the second
#    model functionally), --sequential (for two models the sequential variant is the fusion),
#    models of different widths (vanilla n/a), --out/--report/--plans-dir with three models;
#  - bad arguments: a clear message, exit 1, no file written.
# Needs the real MNIST files; exits 77 (skipped) without them.
# usage: test_cli_fuse_many.sh OTFUSE_EXECUTABLE WORK_DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
require_mnist
fresh_work cd

# a, b, c: one architecture; d: narrower first layer (fusable, no vanilla average);
# e: one hidden layer fewer (cannot be fused with the others).
for spec in a:mlp:32-16:1 b:mlp:32-16:2 c:mlp:32-16:3 d:mlp:24-16:4 e:mlp:24:5; do
  IFS=: read -r name fam widths seed <<< "$spec"
  "$otfuse" train --arch "$fam:$widths" --dataset mnist --out "$name.pt" --limit 1000 --epochs 1 \
    --lr 0.05 --momentum 0.9 --seed "$seed" --no-progress > "train_$name.txt"
done

# --- three models: table and JSON ----------------------------------------------------------
"$otfuse" fuse --no-progress a.pt b.pt c.pt > table3.txt
cat table3.txt
grep -q "OT fusion of 3 models onto the anchor a.pt (model 0)" table3.txt || fail "table: header"
for row in "model 0 \(anchor\)" "model 1" "model 2" "prediction ensemble" "vanilla average" "OT fusion"; do
  grep -Eq "^$row +[0-9]+\.[0-9]{2}% +[0-9]+\.[0-9]{4}$" table3.txt || fail "table: no row '$row'"
done
grep -q "sequential" table3.txt && fail "table: a sequential row without --sequential"
for m in 1 2; do grep -q "^ model $m (.\.pt) onto the anchor:" table3.txt || fail "table: no layers of model $m"; done

"$otfuse" fuse --no-progress --json a.pt b.pt c.pt > three.json
"$otfuse" eval --json --no-progress a.pt b.pt c.pt > eval3.json

# --- N = 2 through the N-model path: exactly the two-model numbers ---------------------------
"$otfuse" fuse --no-progress --json --out pair.pt a.pt b.pt > pair.json
"$otfuse" fuse --no-progress --json --out pair_anchor1.pt --anchor 1 a.pt b.pt > pair_anchor1.json
"$otfuse" fuse --no-progress --json --out pair_anchorname.pt --anchor b.pt a.pt b.pt > pair_anchorname.json
"$otfuse" fuse --no-progress --json --out pair_weights.pt --weights 0.5,0.5 a.pt b.pt > pair_weights.json
"$otfuse" fuse --no-progress --json --out pair_t.pt --t 0.25 a.pt b.pt > pair_t.json
"$otfuse" fuse --no-progress --json --out pair_t_weights.pt --weights 0.75,0.25 a.pt b.pt > pair_t_weights.json
"$otfuse" fuse --no-progress --json --out pair_t_anchor.pt --anchor 1 --t 0.25 a.pt b.pt > pair_t_anchor.json
"$otfuse" fuse --no-progress --json --sequential a.pt b.pt > pair_seq.json

# --- --anchor, --weights, --sequential, --stream-map ---------------------------------------
"$otfuse" fuse --no-progress --json --anchor 2 a.pt b.pt c.pt > anchor2.json
"$otfuse" fuse --no-progress --json --anchor c.pt a.pt b.pt c.pt > anchorc.json
"$otfuse" fuse --no-progress --json --weights 2,1,1 a.pt b.pt c.pt > w211.json
"$otfuse" fuse --no-progress --json --weights 1,0,0 a.pt b.pt c.pt > w100.json
"$otfuse" fuse --no-progress --json --weights 0,1,0 a.pt b.pt c.pt > w010.json
"$otfuse" fuse --no-progress --json --sequential a.pt b.pt c.pt > seq3.json
"$otfuse" fuse --no-progress --sequential a.pt b.pt c.pt > seq3.txt
"$otfuse" fuse --no-progress --json --stream-map summed a.pt b.pt c.pt > summed.json

# --- different widths: d.pt is narrower ----------------------------------------------------
"$otfuse" fuse --no-progress --json a.pt b.pt d.pt > widths.json
"$otfuse" fuse --no-progress --json --anchor d.pt a.pt b.pt d.pt > widths_d.json
"$otfuse" fuse --no-progress a.pt d.pt b.pt > widths.txt

# --- outputs with three models ---------------------------------------------------------------
"$otfuse" fuse --no-progress --json --out fused3.pt --report report3.json --plans-dir plans3 \
  --anchor 1 a.pt b.pt c.pt > out3.json
"$otfuse" eval --json --no-progress fused3.pt > eval_fused3.json
"$otfuse" info --json fused3.pt > info_fused3.json
find plans3 -type f | sort > plans3.txt

python3 - <<'PY'
import csv, json, re, zipfile

def load(name):
    return json.load(open(name))

def untimed(x):
    """x without its timings (which differ from run to run)."""
    if isinstance(x, dict):
        return {k: untimed(v) for k, v in x.items() if k != "seconds"}
    if isinstance(x, list):
        return [untimed(v) for v in x]
    return x

def tensors(path):
    """The tensor storages of a zip checkpoint, by entry name (metadata left out)."""
    z = zipfile.ZipFile(path)
    return {n.split("/", 1)[1]: z.read(n) for n in z.namelist() if "/data/" in n}

three, ev = load("three.json"), load("eval3.json")
acc, loss = three["accuracy"], three["loss"]
assert set(acc) == {"model_0", "model_1", "model_2", "ensemble", "vanilla", "fused"}, acc
assert set(loss) == set(acc), loss
for k, v in acc.items():
    assert 0.0 < v <= 100.0, (k, v)
s = three["summary"]
assert s["models"] == ["a.pt", "b.pt", "c.pt"] and s["anchor"] == 0, s
assert all(abs(w - 1 / 3) < 1e-15 for w in s["weights"]) and len(s["weights"]) == 3, s
assert abs(s["t"] - 1 / 3) < 1e-15, s  # "t" is the anchor's weight
# The parents and the ensemble of all three are what otfuse eval measures.
for i in range(3):
    assert acc["model_%d" % i] == ev["models"][i]["accuracy"], (i, acc, ev)
    assert loss["model_%d" % i] == ev["models"][i]["loss"], (i, loss, ev)
assert acc["ensemble"] == ev["ensemble"]["accuracy"] and loss["ensemble"] == ev["ensemble"]["loss"]
# Sensible bounds: OT fusion of three MLPs of one task (each about 60 % after one epoch on
# 1,000 images) is far above chance (10 %), above the vanilla average of the unaligned
# models (the paper's point) and no better than a few points above the best parent.
parents = [acc["model_%d" % i] for i in range(3)]
assert acc["fused"] > 30.0 and acc["fused"] > acc["vanilla"], acc
assert acc["fused"] <= max(parents) + 5.0, acc
# Plans: one status per model (the anchor null), every model's layers.
mp = three["model_plans"]
assert len(mp) == 3 and mp[0] is None and all(p["status"] == "ok" for p in mp[1:]), mp
assert mp[1]["solved"] == 2 and three["plans"]["solved"] == 4, (mp, three["plans"])
ml = three["model_layers"]
assert len(ml) == 3 and ml[0] == [] and [l["name"] for l in ml[1]] == ["fc1", "fc2", "fc3"], ml
assert three["layers"] == ml[1], "layers: those of the first model that is not the anchor"
assert three["seconds"]["fusion"] > 0 and "sequential" not in three["seconds"], three["seconds"]

# The table prints the numbers of the JSON.
table = open("table3.txt").read()
labels = {"model_0": r"model 0 \(anchor\)", "model_1": "model 1", "model_2": "model 2",
          "ensemble": "prediction ensemble", "vanilla": "vanilla average", "fused": "OT fusion"}
for key, label in labels.items():
    m = re.search(r"^%s +([0-9.]+)%% +([0-9.]+)$" % label, table, re.M)
    assert m and m.group(1) == "%.2f" % acc[key] and m.group(2) == "%.4f" % loss[key], (key, m)

# N = 2 through fuseMany equals the two-model fusion exactly: every row, every plan's cost,
# every tensor of the written model.
pair = load("pair.json")
assert pair["summary"]["anchor"] == 1 and pair["summary"]["weights"] == [0.5, 0.5], pair["summary"]
assert set(pair["accuracy"]) == {"model_0", "model_1", "ensemble", "vanilla", "fused"}
assert "model_layers" not in pair
def same_fusion(x, y, what):
    assert x["accuracy"] == y["accuracy"], (what, x["accuracy"], y["accuracy"])
    assert x["loss"] == y["loss"], (what, x["loss"], y["loss"])
    cx = [(l["name"], l["ot_cost"], l["rows"], l["cols"]) for l in x["layers"]]
    cy = [(l["name"], l["ot_cost"], l["rows"], l["cols"]) for l in y["layers"]]
    assert cx == cy, (what, cx, cy)
    sx, sy = dict(x["summary"]), dict(y["summary"])
    assert sx == sy, (what, sx, sy)
    assert x["model_plans"] == y["model_plans"], what
for other in ["pair_anchor1", "pair_anchorname", "pair_weights"]:
    same_fusion(pair, load(other + ".json"), other)
    assert tensors("pair.pt") == tensors(other + ".pt"), other
pt = load("pair_t.json")
assert pt["summary"]["weights"] == [0.75, 0.25] and pt["summary"]["t"] == 0.25, pt["summary"]
assert pt["accuracy"]["fused"] != pair["accuracy"]["fused"] or pt["loss"]["fused"] != pair["loss"]["fused"]
for other in ["pair_t_weights", "pair_t_anchor"]:
    same_fusion(pt, load(other + ".json"), other)
    assert tensors("pair_t.pt") == tensors(other + ".pt"), other
# For two models the sequential variant is the fusion itself.
ps = load("pair_seq.json")
assert ps["accuracy"]["sequential"] == ps["accuracy"]["fused"] == pair["accuracy"]["fused"], ps["accuracy"]
assert ps["loss"]["sequential"] == ps["loss"]["fused"] == pair["loss"]["fused"], ps["loss"]

# --anchor by index and by name: the same fusion onto c.pt, a different one from onto a.pt;
# the parents' rows do not depend on the anchor.
a2, ac = load("anchor2.json"), load("anchorc.json")
assert a2["summary"]["anchor"] == 2 and untimed(a2) == untimed(ac), "--anchor 2 and c.pt differ"
assert a2["model_plans"][2] is None and a2["model_layers"][2] == [] and a2["layers"] == a2["model_layers"][0]
for k in ["model_0", "model_1", "model_2", "ensemble"]:
    assert a2["accuracy"][k] == acc[k] and a2["loss"][k] == loss[k], k
assert a2["loss"]["fused"] != loss["fused"], "the anchor changes the fused model"

# --weights: normalized; 1,0,0 gives the anchor itself (fused and vanilla); 0,1,0 gives model
# 1 permuted onto the anchor's neurons (functionally model 1: exact OT between equal widths
# with uniform marginals is a permutation).
w = load("w211.json")
assert w["summary"]["weights"] == [0.5, 0.25, 0.25] and w["summary"]["t"] == 0.5, w["summary"]
assert w["loss"]["fused"] != loss["fused"] and w["loss"]["vanilla"] != loss["vanilla"]
w = load("w100.json")
for k in ["fused", "vanilla"]:
    assert w["accuracy"][k] == acc["model_0"] and w["loss"][k] == loss["model_0"], (k, w)
w = load("w010.json")
assert w["accuracy"]["fused"] == acc["model_1"], (w["accuracy"], acc)
assert abs(w["loss"]["fused"] - loss["model_1"]) < 1e-5 * loss["model_1"], (w["loss"], loss)
assert w["accuracy"]["vanilla"] == acc["model_1"] and w["loss"]["vanilla"] == loss["model_1"]

# --sequential: a row and its time; the other rows unchanged.
sq = load("seq3.json")
assert set(sq["accuracy"]) == set(acc) | {"sequential"}, sq["accuracy"]
assert 0 < sq["accuracy"]["sequential"] <= 100 and sq["seconds"]["sequential"] > 0, sq
for k in acc:
    assert sq["accuracy"][k] == acc[k] and sq["loss"][k] == loss[k], k
m = re.search(r"^sequential fusion +([0-9.]+)% +([0-9.]+)$", open("seq3.txt").read(), re.M)
assert m and m.group(1) == "%.2f" % sq["accuracy"]["sequential"], m

# --stream-map: recorded; an MLP has no residual streams, so nothing else changes.
sm = load("summed.json")
assert sm["summary"]["stream_map"] == "summed" and three["summary"]["stream_map"] == "first"
assert sm["accuracy"] == acc and sm["loss"] == loss

# Different widths: no vanilla row; the anchor sets the fused widths; plans are rectangular.
wd = load("widths.json")
assert set(wd["accuracy"]) == {"model_0", "model_1", "model_2", "ensemble", "fused"}, wd["accuracy"]
fc1 = [l for l in wd["model_layers"][2] if l["name"] == "fc1"][0]
assert (fc1["rows"], fc1["cols"]) == (24, 32), fc1
assert 30.0 < wd["accuracy"]["fused"] <= max(wd["accuracy"]["model_%d" % i] for i in range(3)) + 5.0
wdd = load("widths_d.json")
assert wdd["summary"]["anchor"] == 2 and wdd["summary"]["architecture"] == "mlp:24-16", wdd["summary"]
fc1 = [l for l in wdd["model_layers"][0] if l["name"] == "fc1"][0]
assert (fc1["rows"], fc1["cols"]) == (32, 24), fc1
assert re.search(r"^vanilla average +n/a +n/a$", open("widths.txt").read(), re.M), "vanilla n/a"

# --out/--report/--plans-dir with three models, anchor b.pt.
o = load("out3.json")
fe = load("eval_fused3.json")["models"][0]
assert fe["accuracy"] == o["accuracy"]["fused"] and fe["loss"] == o["loss"]["fused"], (fe, o["accuracy"])
assert o["out"]["model"] == "fused", o["out"]
md = load("info_fused3.json")["metadata"]
assert md["anchor"] == "1" and md["fusion_model"] == "fused", md
assert md["fused_from"] == "a.pt, c.pt (aligned) onto b.pt (anchor)", md
assert [float(x) for x in md["weights"].split(",")] == o["summary"]["weights"], md
rep = load("report3.json")
assert rep["accuracy"] == o["accuracy"] and rep["summary"] == o["summary"]
assert rep["model_layers"][1] == [] and len(rep["model_layers"]) == 3
files = open("plans3.txt").read().split()
assert files == ["plans3/model_%d/%d_%s_plan.csv" % (i, k, n) for i in (0, 2)
                 for k, n in ((1, "fc1"), (2, "fc2"), (3, "fc3"))], files
for i in (0, 2):
    for f, l in zip(files[(i // 2) * 3:(i // 2) * 3 + 3], rep["model_layers"][i]):
        plan = [[float(x) for x in row] for row in csv.reader(open(f))]
        assert plan == l["plan"], f
        for r, mu in zip(plan, l["mu"]):
            assert abs(sum(r) - mu) < 1e-12, f
print("fuse-many output checks passed")
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
bad "--anchor 3 is out of range: 3 model files were given (indices 0..2)" --anchor 3 a.pt b.pt c.pt
bad "--anchor -1 is out of range" --anchor -1 a.pt b.pt c.pt
bad "--anchor 'x.pt' is neither an index (0..2) nor one of the model files (a.pt, b.pt, c.pt)" \
  --anchor x.pt a.pt b.pt c.pt
bad "--anchor 'a.pt' names more than one of the model files" --anchor a.pt a.pt b.pt a.pt
bad "--weights gives 2 weights for 3 model files" --weights 1,2 a.pt b.pt c.pt
bad "--weights gives 4 weights for 3 model files" --weights 1,1,1,1 a.pt b.pt c.pt
bad "--weights: the weight of model 1 (b.pt) must be a non-negative number, got -0.5" \
  --weights 1,-0.5,1 a.pt b.pt c.pt
bad "--weights expects numbers separated by commas" --weights 1,x,1 a.pt b.pt c.pt
bad "--weights expects numbers separated by commas" --weights 1,,1 a.pt b.pt c.pt
bad "--weights: at least one weight must be positive" --weights 0,0,0 a.pt b.pt c.pt
bad "--t is the anchor's weight for two models; for 3 models give --weights" --t 0.3 a.pt b.pt c.pt
bad "give either --t (two models) or --weights, not both" --t 0.3 --weights 1,1 a.pt b.pt
bad "unknown stream map" --stream-map sideways a.pt b.pt c.pt
bad "--out-model sequential writes the sequential fusion; give --sequential too" \
  --out-model sequential a.pt b.pt c.pt
bad "cannot fuse model 2 (e.pt) onto the anchor, model 0 (a.pt)" a.pt b.pt e.pt
grep -qE "layer fc[0-9]" bad_err.txt || fail "incompatible: message names no layer: $(cat bad_err.txt)"
bad "cannot fuse model 0 (a.pt) onto the anchor, model 2 (e.pt)" --anchor e.pt a.pt b.pt e.pt
bad "missing.pt" a.pt b.pt missing.pt
echo "PASS"
