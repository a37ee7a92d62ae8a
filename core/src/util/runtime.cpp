#include "otfuse/runtime.h"

#include <ATen/Parallel.h>

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>

#include "otfuse/error.h"

namespace otfuse {

int initRuntime() {
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

void throwIfCancelled(const CancelFlag* flag) {
  if (flag && flag->load(std::memory_order_relaxed)) throw Cancelled();
}

}  // namespace otfuse
