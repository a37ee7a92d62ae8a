#!/usr/bin/env bash
# otfuse compare (issue 11) on two small MLPs trained here by otfuse train (1,000 MNIST images,
# one epoch): the table has every method with and without REPAIR, --json and --csv agree, the
# agreement matrix has ones on its diagonal, models of different widths leave the matching
# rows "not applicable" (OT still runs), bad arguments give a clear message and exit 1.
# Needs the real MNIST files; exits 77 (skipped) without them.
# usage: test_cli_compare.sh OTFUSE_EXECUTABLE WORK_DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
require_mnist
fresh_work cd
for spec in a:mlp:32-16,bias:1 b:mlp:32-16,bias:2 d:mlp:24-16,bias:4; do
  IFS=: read -r name fam widths seed <<< "$spec"
  "$otfuse" train --arch "$fam:$widths" --dataset mnist --out "$name.pt" --limit 1000 --epochs 1 \
    --lr 0.05 --momentum 0.9 --seed "$seed" --no-progress > "train_$name.txt"
done

"$otfuse" compare --no-progress --points 5 --repair-batches 2 --csv table.csv a.pt b.pt > table.txt
cat table.txt
for row in "Vanilla averaging" "OT exact (weights)" "OT exact (activations)" "OT Sinkhorn (weights)" \
           "Weight matching" "Activation matching"; do
  grep -q "^$row  " table.txt || fail "table: no row $row"
  grep -q "^$row + REPAIR (exact)" table.txt || fail "table: no REPAIR row for $row"
done
grep -q "agreement of the maps" table.txt || fail "table: no agreement matrix"
[[ $(wc -l < table.csv) -eq 13 ]] || fail "csv: expected a header and 12 rows"

"$otfuse" compare --no-progress --points 5 --repair none --json --methods vanilla,weight-matching a.pt b.pt > out.json
python3 - <<'PY' || fail "json"
import json
d = json.load(open("out.json"))
assert [r["label"] for r in d["rows"]] == ["Vanilla averaging", "Weight matching"], d["rows"]
for r in d["rows"]:
    assert len(r["curve"]) == 5
    # t = 0 of a permutation method is model A itself.
    assert abs(r["curve"][0][1] - d["parents"]["a"]["accuracy"]) < 1e-9, r
    assert abs(r["curve"][-1][1] - d["parents"]["b"]["accuracy"]) < 1e-9, r
    barrier = max(l - ((1 - t) * d["parents"]["a"]["loss"] + t * d["parents"]["b"]["loss"]) for t, _, l in r["curve"])
    assert abs(barrier - r["loss_barrier"]) < 1e-6, (barrier, r["loss_barrier"])
m = d["agreement"]["matrix"]
assert m[0][0] == 1 and m[1][1] == 1 and m[0][1] == m[1][0]
PY

# Different widths: no vanilla, no matching; OT rows still computed.
"$otfuse" compare --no-progress --points 3 --repair none --methods vanilla,ot-weights,weight-matching d.pt b.pt > widths.txt
cat widths.txt
grep -q "^Vanilla averaging: not applicable" widths.txt || fail "widths: vanilla should be n/a"
grep -q "^Weight matching: not applicable: .*equal widths" widths.txt || fail "widths: matching should be n/a"
grep -q "^OT exact (weights)  " widths.txt || fail "widths: OT row missing"

# Bad arguments.
set +e
"$otfuse" compare --points 1 a.pt b.pt > /dev/null 2> err1.txt; rc1=$?
"$otfuse" compare --repair sometimes a.pt b.pt > /dev/null 2> err2.txt; rc2=$?
"$otfuse" compare --methods nope a.pt b.pt > /dev/null 2> err3.txt; rc3=$?
"$otfuse" compare a.pt > /dev/null 2> err4.txt; rc4=$?
set -e
[[ $rc1 -eq 1 ]] && grep -q -- "--points" err1.txt || fail "--points 1: $(cat err1.txt)"
[[ $rc2 -eq 1 ]] && grep -q "unknown REPAIR variant 'sometimes'" err2.txt || fail "--repair: $(cat err2.txt)"
[[ $rc3 -eq 1 ]] && grep -q "unknown method 'nope'" err3.txt || fail "--methods: $(cat err3.txt)"
[[ $rc4 -eq 1 ]] && grep -q "two model files" err4.txt || fail "one model: $(cat err4.txt)"
echo "PASS"
