# The start every CLI test shares; sourced right after `set -euo pipefail` with the test's two
# arguments: source "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
#   $otfuse, $work      the otfuse executable and the test's work folder (arguments 1 and 2)
#   fail MESSAGE...     print FAIL: MESSAGE and exit 1
#   require_mnist       exit 77 (CTest: skipped) unless the real MNIST files are installed
#   fresh_work [cd]     empty work folder (removed and created again); with "cd", enter it
otfuse=$1
work=$2
data_dir=${OTFUSE_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/otfuse/datasets}

fail() { echo "FAIL: $*"; exit 1; }

require_mnist() {
  if [[ ! -e $data_dir/mnist/t10k-labels-idx1-ubyte && ! -e $data_dir/mnist/t10k-labels-idx1-ubyte.gz ]]; then
    echo "SKIP: MNIST not found under $data_dir/mnist (run scripts/fetch_mnist.sh)"
    exit 77
  fi
}

fresh_work() {
  rm -rf "$work"
  mkdir -p "$work"
  if [[ "${1:-}" == cd ]]; then cd "$work"; fi
}
