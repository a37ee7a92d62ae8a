#!/usr/bin/env bash
# otfuse sweep / collect / scenario table-one (issue 10, sections 4 and 5) on small MLPs
# trained here (mlp:32 on 2,000 MNIST images, one epoch, seconds; no ../shared needed):
#  - point enumeration: modes x solvers x eps (Sinkhorn only) x t x seeds, stable file names,
#    --pairs, one emitted command per point, the Slurm script's array size;
#  - the emitted file run through GNU parallel gives exactly the table of the local run
#    (collect --json compared byte for byte: every number equal);
#  - collect rejects a corrupt JSON and a JSON that is no fuse result, naming the file, and
#    refuses the same run twice;
#  - a cancelled sweep (SIGTERM) exits 130 and leaves only complete result files; --resume
#    finishes it with the same table as an uninterrupted run;
#  - scenario table-one with K = 2: four parents cached, two fusions per mode, one
#    configuration per mode with 2 runs and the five Table-1 rows; a rerun trains nothing.
# Needs the real MNIST files (exit 77 without them) and GNU parallel (Debian package
# `parallel`, installed by run.sh; exit 77 without it).
# usage: test_cli_sweep.sh OTFUSE_EXECUTABLE WORK_DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
require_mnist
if ! parallel --version 2>/dev/null | grep -q "GNU parallel"; then
  echo "SKIP: GNU parallel not installed (Debian package parallel; run.sh installs it)"
  exit 77
fi
fresh_work cd

for s in 0 1 2 3; do
  "$otfuse" train --arch mlp:32 --dataset mnist --out "m$s.pt" --limit 2000 --epochs 1 \
    --lr 0.05 --momentum 0.9 --seed "$s" --no-progress > /dev/null
done

# --- enumeration ---------------------------------------------------------------------------
axes=(--modes weights,activations --solvers exact,sinkhorn --eps 0.01,0.05 --t 0.5 --seeds 0,1
      --samples 50)
"$otfuse" sweep m0.pt m1.pt "${axes[@]}" --out-dir par --emit-jobs jobs.txt > emit.txt
# 2 modes x (exact + sinkhorn x 2 eps) x 1 t x 2 seeds = 12 points
[[ $(wc -l < jobs.txt) -eq 12 ]] || fail "expected 12 emitted commands, got $(wc -l < jobs.txt)"
[[ $(grep -c -- "--solver exact" jobs.txt) -eq 4 ]] || fail "eps must not multiply exact points"
grep -q -- "--json-out $work/par/m0--m1_activations_sinkhorn_eps0.05_t0.5_seed1.json $work/m0.pt $work/m1.pt\$" jobs.txt ||
  fail "point file names / absolute paths"
grep -q "^OTFUSE_THREADS=1 " jobs.txt || fail "jobs must run LibTorch on one thread"
[[ $(sort -u jobs.txt | wc -l) -eq 12 ]] || fail "duplicate commands"
grep -q "^#SBATCH --array=1-12$" jobs.txt.sbatch || fail "sbatch array size"
grep -q 'SLURM_ARRAY_TASK_ID' jobs.txt.sbatch || fail "sbatch runs no line"
printf 'm0.pt m1.pt\n# comment\n\nm2.pt m3.pt  # second pair\n' > pairs.txt
"$otfuse" sweep --pairs pairs.txt --modes weights --seeds 0-2 --out-dir pp --emit-jobs pjobs.txt > /dev/null
[[ $(wc -l < pjobs.txt) -eq 6 ]] || fail "2 pairs x 3 seeds should be 6 commands"
grep -q "pair1_m2--m3_weights_exact_t0.5_seed2.json" pjobs.txt || fail "pair names"
printf 'm0.pt\n' > badpairs.txt
if "$otfuse" sweep --pairs badpairs.txt --out-dir x 2> err.txt; then fail "a one-word pairs line was accepted"; fi
grep -q "badpairs.txt.*line 1" err.txt || fail "pairs file error must name file and line: $(cat err.txt)"

# --- local run == GNU parallel run, number for number --------------------------------------
# (8 points: each emitted job is a process that loads MNIST, seconds each)
axes=(--modes weights,activations --solvers exact,sinkhorn --eps 0.05 --seeds 0,1 --samples 50)
rm -rf par
"$otfuse" sweep m0.pt m1.pt "${axes[@]}" --out-dir par --emit-jobs jobs.txt > emit.txt
"$otfuse" sweep m0.pt m1.pt "${axes[@]}" --out-dir local --workers 2 --no-progress > local_table.txt
[[ $(ls local/*.json | wc -l) -eq 8 ]] || fail "local run: expected 8 results"
parallel --jobs 2 < jobs.txt > parallel_log.txt 2>&1 || fail "parallel failed: $(tail parallel_log.txt)"
[[ $(ls par/*.json | wc -l) -eq 8 ]] || fail "parallel run: expected 8 results"
"$otfuse" collect --json local > local.json 2> /dev/null
"$otfuse" collect --json par > par.json
cmp local.json par.json || fail "the parallel table differs from the local one"
"$otfuse" collect par > par_table.txt
cmp local_table.txt par_table.txt || fail "collect and the local sweep print different tables"
[[ $(grep -c "mean ± std" par_table.txt) -eq 4 ]] || fail "expected 4 configurations"
for row in "model A" "model B" "prediction ensemble" "vanilla average" "OT fusion"; do
  [[ $(grep -Ec "^  $row +[0-9]+\.[0-9]{2} ± +[0-9]+\.[0-9]{2} " par_table.txt) -eq 4 ]] ||
    fail "row '$row' missing or malformed"
done
"$otfuse" collect par --csv par.csv > /dev/null
[[ $(wc -l < par.csv) -eq $((1 + 4 * 5)) ]] || fail "CSV: header + 4 configurations x 5 rows"

# --- collect: bad files --------------------------------------------------------------------
mkdir bad
cp par/*.json bad/
head -c 300 par/m0--m1_weights_exact_t0.5_seed0.json > bad/m0--m1_weights_exact_t0.5_seed0.json
if "$otfuse" collect bad > /dev/null 2> err.txt; then fail "a truncated JSON was accepted"; fi
grep -q "bad/m0--m1_weights_exact_t0.5_seed0.json.*not valid JSON" err.txt || fail "corrupt JSON message: $(cat err.txt)"
echo '{"hello": 1}' > bad/m0--m1_weights_exact_t0.5_seed0.json
if "$otfuse" collect bad > /dev/null 2> err.txt; then fail "a non-result JSON was accepted"; fi
grep -q "m0--m1_weights_exact_t0.5_seed0.json.*not an otfuse fuse result" err.txt || fail "non-result message: $(cat err.txt)"
cp par/m0--m1_weights_exact_t0.5_seed0.json bad/m0--m1_weights_exact_t0.5_seed0.json
cp par/m0--m1_weights_exact_t0.5_seed0.json bad/copy.json
if "$otfuse" collect bad > /dev/null 2> err.txt; then fail "a duplicated run was accepted"; fi
grep -q "repeats the run of" err.txt || fail "duplicate message: $(cat err.txt)"

# --- cancel: only complete files; --resume finishes with the same table --------------------
cancel_axes=(--modes activations --solvers sinkhorn --eps 0.01 --samples 50 --seeds 0-29)
"$otfuse" sweep m0.pt m1.pt "${cancel_axes[@]}" --out-dir cancel --workers 2 --no-progress \
  > cancel_out.txt 2> cancel_err.txt &
pid=$!
for _ in $(seq 1 600); do
  [[ -d cancel ]] && (($(ls cancel | wc -l) >= 2)) && break
  sleep 0.1
done
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[[ $rc -eq 130 ]] || fail "a cancelled sweep must exit 130, got $rc: $(cat cancel_err.txt)"
grep -q "no partial file" cancel_err.txt || fail "cancel message: $(cat cancel_err.txt)"
have=$(ls cancel | wc -l)
((have < 30)) || fail "the sweep finished before it was cancelled; nothing tested"
[[ -z $(ls -A cancel | grep -v '\.json$' || true) ]] || fail "non-result files left: $(ls -A cancel)"
for f in cancel/*.json; do
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$f" || fail "$f is not complete JSON"
done
[[ ! -e cancel/table.txt ]] || fail "a cancelled sweep wrote a table"
"$otfuse" sweep m0.pt m1.pt "${cancel_axes[@]}" --out-dir cancel --resume --no-progress > resumed.txt 2> resume_err.txt
grep -q "kept $have existing results" resume_err.txt || fail "--resume kept $(cat resume_err.txt)"
"$otfuse" sweep m0.pt m1.pt "${cancel_axes[@]}" --out-dir full --no-progress > full.txt
cmp resumed.txt full.txt || fail "cancelled + resumed differs from an uninterrupted sweep"

# --- scenario table-one, K = 2 -------------------------------------------------------------
t1=(scenario table-one --seeds 2 --arch mlp:32 --epochs 1 --limit 2000 --samples 50 --out-dir t1)
"$otfuse" "${t1[@]}" --no-progress > t1.txt
cat t1.txt
[[ $(ls t1/parents/*.pt | wc -l) -eq 4 ]] || fail "table-one: 4 parents expected"
[[ $(ls t1/results/*.json | wc -l) -eq 4 ]] || fail "table-one: 2 pairs x 2 modes = 4 fusions"
grep -q "Table 1 over 2 pairs of mlp:32 parents" t1.txt || fail "table-one header"
[[ $(grep -c "2 model pairs" t1.txt) -eq 2 ]] || fail "table-one: one configuration per mode over 2 pairs"
[[ $(grep -c "2 runs, seeds 0,1" t1.txt) -eq 2 ]] || fail "table-one: pair k samples with seed k"
for row in "model A" "model B" "prediction ensemble" "vanilla average" "OT fusion"; do
  [[ $(grep -Ec "^  $row +[0-9]+\.[0-9]{2} ± +[0-9]+\.[0-9]{2} " t1.txt) -eq 2 ]] || fail "table-one row '$row'"
done
# parents differ across pairs, so model A has a spread
grep -Eq "^  model A +[0-9.]+ ± +0\.00 " t1.txt && fail "table-one: model A identical over pairs"
"$otfuse" "${t1[@]}" > t1_again.txt 2> t1_again_err.txt
grep -q "train epoch" t1_again_err.txt && fail "table-one rerun trained again"
cmp t1.txt t1_again.txt || fail "table-one rerun printed another table"
"$otfuse" collect --across-pairs t1/results > t1_collect.txt
tail -n +3 t1.txt | cmp - t1_collect.txt || fail "table-one and collect --across-pairs differ"
echo "PASS"
