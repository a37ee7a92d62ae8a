#pragma once
// Process-wide runtime settings.
#include <atomic>
#include <functional>
#include <string>

namespace otfuse {

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

/// Cooperative cancellation: computations poll the flag between layers and batches and throw
/// otfuse::Cancelled when it is set. May be set from any thread.
using CancelFlag = std::atomic<bool>;

/// Throws Cancelled if `flag` is non-null and set.
void throwIfCancelled(const CancelFlag* flag);

}  // namespace otfuse
