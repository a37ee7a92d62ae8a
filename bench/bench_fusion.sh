#!/usr/bin/env bash
# Benchmark: full OT fusion of the paper's MNIST MLPNet pair (alignment + averaging + one
# test-set evaluation of the fused model), weights and activations mode, against the time the
# authors' implementation takes on this machine class (shared/reference/*/summary.json:
# 4.2-5.0 s weights, 2.6-3.2 s activations; PyTorch 1.13, OpenBLAS, 2 threads).
# Usage: bench/bench_fusion.sh [BUILD_DIR] [REPEATS]   (needs ../shared and MNIST)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
repeats="${2:-5}"
models="${OTFUSE_SHARED_DIR:-$here/../shared}/models/paper-mnist-mlpnet"
[[ -f "$models/model_0.pt" ]] || { echo "bench_fusion: $models not found" >&2; exit 1; }
/usr/bin/python3 - "$build/app/otfuse" "$models" "$repeats" <<'PY'
import json, subprocess, sys, time, statistics
otfuse, models, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
reference = {"weights": (4.2, 5.0), "activations": (2.6, 3.2)}
print(f"{'mode':<12} {'fusion s':>9} {'eval s':>8} {'total s':>8} {'wall s':>7} {'reference s':>12} {'speed-up':>10}  accuracy")
for mode, (lo, hi) in reference.items():
    totals, fus, ev, walls, acc = [], [], [], [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = subprocess.run([otfuse, "fuse", "--dataset", "mnist", "--mode", mode, "--json",
                              "--no-progress", f"{models}/model_0.pt", f"{models}/model_1.pt"],
                             check=True, capture_output=True, text=True).stdout
        walls.append(time.perf_counter() - t0)
        r = json.loads(out)
        fus.append(r["seconds"]["fusion"]); ev.append(r["seconds"]["evaluation"])
        totals.append(fus[-1] + ev[-1]); acc = r["accuracy"]["fused"]
    m = statistics.median(totals)
    print(f"{mode:<12} {statistics.median(fus):9.3f} {statistics.median(ev):8.3f} {m:8.3f} "
          f"{statistics.median(walls):7.2f} {lo:5.1f}-{hi:<5.1f} {lo/m:5.1f}-{hi/m:<4.1f}x  {acc:.2f} %")
print(f"(median of {repeats} runs; total = fusion + one evaluation of the fused model, timed in "
      "process; wall = the whole command incl. loading models and all Table-1 evaluations)")
PY
