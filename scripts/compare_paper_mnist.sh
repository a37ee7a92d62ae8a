#!/usr/bin/env bash
# Methods side by side on the paper's MNIST pair (issue 11): `otfuse compare` of the two
# released MLPNets (../shared/models/paper-mnist-mlpnet, see ../shared/README.md), model_0
# aligned onto model_1, t = 0.5, 25 values of t per curve, with and without REPAIR (exact;
# MLPNet has no biases, so REPAIR can only rescale its channels). Writes the table and curves
# as CSV and the whole result as JSON to OUT_DIR.
# Usage: scripts/compare_paper_mnist.sh [BUILD_DIR] [OUT_DIR]   Env: REPAIR (exact | closed | none)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
out="${2:-${XDG_CACHE_HOME:-$HOME/.cache}/otfuse/compare-paper-mnist}"
shared="${OTFUSE_SHARED_DIR:-$here/../shared}"
models="$shared/models/paper-mnist-mlpnet"
[[ -f "$models/model_0.pt" ]] || { echo "no $models/model_0.pt (set OTFUSE_SHARED_DIR)" >&2; exit 1; }
mkdir -p "$out"
nice "$build/app/otfuse" compare --dataset mnist --repair "${REPAIR:-exact}" --no-progress \
  --csv "$out/table.csv" --curves-csv "$out/curves.csv" "$models/model_0.pt" "$models/model_1.pt" |
  tee "$out/table.txt"
