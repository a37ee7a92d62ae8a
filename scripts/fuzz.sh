#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang + ASan + UBSan in their own build dir and
# runs each for a number of executions or seconds, then prints one summary line per target.
#
#   scripts/fuzz.sh [--runs N] [--time SECONDS] [--build-dir DIR] [--no-build] [TARGET...]
#
# A target stops after N executions or SECONDS, whichever comes first (--runs 0 / --time 0: no
# such limit). Defaults: --runs 1000000 --time 1800, every target, build dir build-fuzz. Each target starts from its seed
# corpus tests/fuzz/corpus/TARGET (never written) plus a working corpus DIR/fuzz-corpus/TARGET
# that keeps what earlier runs found; crash, timeout and out-of-memory inputs go to
# DIR/fuzz-artifacts/TARGET/, the log to DIR/fuzz-logs/TARGET.log. Exit status 1 if any target
# crashed. Runs under `nice`; run two at a time at most on a small machine.
# Reproduce a finding: DIR/tests/fuzz/TARGET DIR/fuzz-artifacts/TARGET/crash-...
set -euo pipefail
# Everything runs from main, read whole before it starts: editing this file during a run is safe.
main() {
local here runs seconds build_dir build
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs=1000000
seconds=1800
build_dir="$here/build-fuzz"
build=1
targets=()
while (($#)); do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --time) seconds="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
all_targets=(fuzz_pickle fuzz_checkpoint_zip fuzz_checkpoint_legacy fuzz_torchscript
             fuzz_idx fuzz_cifar fuzz_tar fuzz_image fuzz_session)
((${#targets[@]})) || targets=("${all_targets[@]}")

# Largest input per target (bytes): room for a few records / members / images of the seeds.
max_len() {
  case "$1" in
    fuzz_pickle|fuzz_checkpoint_legacy|fuzz_idx) echo 4096 ;;
    fuzz_checkpoint_zip|fuzz_torchscript|fuzz_session) echo 8192 ;;
    *) echo 16384 ;;
  esac
}

log() { printf '[fuzz.sh] %s\n' "$*" >&2; }

if ((build)); then
  # Debian's clang and its sanitizer/libFuzzer runtimes.
  if ! command -v clang++ >/dev/null 2>&1 || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
    log "installing clang and libclang-rt-dev"
    sudo_cmd=()
    [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends clang libclang-rt-dev
  fi
  if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
    launcher=()
    command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    CC=clang CXX=clang++ cmake -S "$here" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DOTFUSE_BUILD_FUZZ=ON -DOTFUSE_BUILD_UI=OFF -DOTFUSE_BUILD_TESTS=OFF -DOTFUSE_BUILD_BENCH=OFF \
      "${launcher[@]}" >/dev/null
  fi
  log "building ${targets[*]}"
  nice cmake --build "$build_dir" --parallel "${OTFUSE_FUZZ_BUILD_JOBS:-2}" --target "${targets[@]}" >/dev/null
fi

status=0
summary=()
for t in "${targets[@]}"; do
  exe="$build_dir/tests/fuzz/$t"
  [[ -x "$exe" ]] || { log "$t: not built ($exe)"; status=1; continue; }
  work="$build_dir/fuzz-corpus/$t"
  artifacts="$build_dir/fuzz-artifacts/$t"
  logfile="$build_dir/fuzz-logs/$t.log"
  mkdir -p "$work" "$artifacts" "$(dirname "$logfile")"
  limit=()
  ((runs > 0)) && limit+=(-runs="$runs")
  ((seconds > 0)) && limit+=(-max_total_time="$seconds")
  log "$t: running (at most $runs executions, $seconds s), log $logfile"
  before=$(ls "$artifacts" | wc -l)
  start=$(date +%s)
  # -timeout: an input slower than 10 s is a hang; -rss_limit_mb / -malloc_limit_mb: a reader
  # that allocates far more than a 16 KB input holds is a bug (LibTorch alone uses ~350 MB).
  set +e
  # A smaller quarantine than ASan's 256 MB default: use-after-free is still caught, and the
  # large buffers of zlib and LibTorch are not kept around between inputs.
  lsan=""
  [[ $t == fuzz_torchscript || $t == fuzz_checkpoint_zip ]] && lsan="suppressions=$here/tests/fuzz/lsan_libtorch.supp"
  ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=32}" LSAN_OPTIONS="${LSAN_OPTIONS:-$lsan}" \
    nice "$exe" "${limit[@]}" -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=512 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$work" "$here/tests/fuzz/corpus/$t" >"$logfile" 2>&1
  rc=$?
  set -e
  elapsed=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logfile" | tail -1)
  [[ -n "$execs" ]] || execs=$(grep -oE '^#[0-9]+' "$logfile" | tail -1 | tr -d '#')
  last=$(grep -E '^#[0-9]+.*cov: ' "$logfile" | tail -1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  crashes=$(( $(ls "$artifacts" | wc -l) - before ))
  # 72: interrupted (Ctrl-C, SIGTERM) with nothing found; other non-zero exits without an
  # artifact still count as a failure.
  if ((rc != 0 && rc != 72)) && ((crashes == 0)); then crashes=1; fi
  ((crashes == 0)) || status=1
  line=$(printf '%-24s executions %9s  crashes %d  cov %5s  ft %6s  time %5ss' \
    "$t" "${execs:-?}" "$crashes" "${cov:-?}" "${ft:-?}" "$elapsed")
  ((crashes == 0)) || line+="  (exit $rc; see $logfile, inputs in $artifacts)"
  summary+=("$line")
  echo "$line"
done
echo
echo "fuzz summary:"
printf '%s\n' "${summary[@]}"
exit $status
}
main "$@"
