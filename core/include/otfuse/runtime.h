#pragma once
// Process-wide runtime settings.
#include <atomic>
#include <functional>
#include <string>

namespace otfuse {

/// Call first thing in main(). LibTorch's OpenMP threads spin-wait after each parallel region
/// and then compete with OpenBLAS's own threads for the cores (measured here: the MNIST test
/// pass of MLPNet takes 0.1-0.35 s instead of 0.06 s). libgomp reads OMP_WAIT_POLICY only when
/// it is loaded, so if the variable is unset this sets it to PASSIVE and re-executes the
/// program (Linux /proc/self/exe); if that fails it simply returns.
void preferPassiveOpenMpWait(char** argv);

/// Sets LibTorch's intra-op thread count: OTFUSE_THREADS if set, else the number of cores.
/// Debian's LibTorch starts with one thread; every executable calls this at start-up.
/// Returns the thread count in effect.
int initRuntime();

/// Progress report of a long computation: `done` of `total` units of `stage`.
struct Progress {
  std::string stage;  // e.g. "train epoch 1", "evaluate", "align fc2"
  long long done = 0;
  long long total = 0;
  std::string message;  // optional detail (current loss, ...)
};
using ProgressFn = std::function<void(const Progress&)>;

/// `progress` with every report's stage replaced by `stage` (empty if `progress` is empty).
ProgressFn withStage(const ProgressFn& progress, const std::string& stage);

/// Cooperative cancellation: computations poll the flag between layers and batches and throw
/// otfuse::Cancelled when it is set. May be set from any thread.
using CancelFlag = std::atomic<bool>;

/// Throws Cancelled if `flag` is non-null and set.
void throwIfCancelled(const CancelFlag* flag);

}  // namespace otfuse
