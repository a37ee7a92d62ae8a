#include "otfuse/runtime.h"

#include <ATen/Parallel.h>

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>

#include "otfuse/error.h"

namespace otfuse {

namespace {

// glibc returns freed blocks above its mmap threshold (128 KiB, adapting up to 32 MiB) to the
// kernel, and heap tops above the trim threshold; the next batch faults the same pages back in,
// zero-filled. Evaluating a VGG11 on batches of 1,000 CIFAR-10 images frees and reallocates
// activation tensors of 130 MB per layer, so on 2 cores the kernel time dominated (measured:
// `otfuse eval` of vgg11_bn_half on the test set 28 s with 20 s in the kernel, 7.8 s with 2.4 s
// after this; an `otfuse train` epoch on 5,000 images plus the test pass 39 s -> 16 s). Keeping freed memory in the process costs at most the peak working set, which
// the process reaches anyway. OTFUSE_KEEP_HEAP=0 turns it off (for comparison benchmarks).
void keepFreedMemory() {
  if (const char* env = std::getenv("OTFUSE_KEEP_HEAP"); env && std::string(env) == "0") return;
  mallopt(M_MMAP_THRESHOLD, 512 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
  mallopt(M_TOP_PAD, 64 * 1024 * 1024);
}

}  // namespace

int initRuntime() {
  keepFreedMemory();
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  if (const char* env = std::getenv("OTFUSE_THREADS"); env && *env) {
    try {
      threads = std::stoi(env);
    } catch (const std::exception&) {
      throw Error(std::string("OTFUSE_THREADS must be a positive integer, got '") + env + "'");
    }
    if (threads < 1) throw Error("OTFUSE_THREADS must be a positive integer");
  }
  if (threads < 1) threads = 1;
  at::set_num_threads(threads);
  return at::get_num_threads();
}

void preferPassiveOpenMpWait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || argv == nullptr) return;
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
  execv("/proc/self/exe", argv);
  // Only reached when exec failed: carry on with the policy of the running process.
}

ProgressFn withStage(const ProgressFn& progress, const std::string& stage) {
  if (!progress) return {};
  return [progress, stage](const Progress& p) {
    Progress q = p;
    q.stage = stage;
    progress(q);
  };
}

void throwIfCancelled(const CancelFlag* flag) {
  if (flag && flag->load(std::memory_order_relaxed)) throw Cancelled();
}

}  // namespace otfuse
