#include <csignal>

#include "commands.h"

namespace otfuse::cli {

namespace {
CancelFlag interrupted{false};
static_assert(CancelFlag::is_always_lock_free, "the signal handler needs a lock-free flag");

extern "C" void onInterrupt(int signal) {
  interrupted.store(true, std::memory_order_relaxed);
  std::signal(signal, SIG_DFL);  // the next one ends the process
}
}  // namespace

const CancelFlag* interruptFlag() { return &interrupted; }

void installInterruptHandler() {
  // A shell starts background jobs with SIGINT ignored; keep it that way for them.
  if (std::signal(SIGINT, SIG_IGN) != SIG_IGN) std::signal(SIGINT, onInterrupt);
  std::signal(SIGTERM, onInterrupt);
}

}  // namespace otfuse::cli
