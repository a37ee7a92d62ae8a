#include "heatmap/plan_preview.h"

#include <chrono>

#include "otfuse/error.h"

namespace otfuse::ui {

PlanPreviewSolver::PlanPreviewSolver(QObject* parent) : QObject(parent) {
  qRegisterMetaType<otfuse::ui::PlanPreviewSolver::Answer>();
  thread_ = std::thread([this] { run(); });
}

PlanPreviewSolver::~PlanPreviewSolver() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    pending_.reset();
    cancel_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

int PlanPreviewSolver::request(std::shared_ptr<const Problem> problem, double epsilon,
                               bool exact) {
  int id;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    id = ++latest_;
    pending_ = Request{id, std::move(problem), epsilon, exact};
    if (running_ != 0) cancel_ = true;  // its answer would be stale
  }
  wake_.notify_all();
  return id;
}

int PlanPreviewSolver::latestRequest() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return latest_;
}
int PlanPreviewSolver::completedSolves() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return completed_;
}
int PlanPreviewSolver::cancelledSolves() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cancelled_;
}

void PlanPreviewSolver::run() {
  // Warm start: the potentials of the last Sinkhorn solve, for the problem they belong to.
  QString warmKey;
  ot::Vector warmU, warmV;
  for (;;) {
    Request req;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stop_ || pending_.has_value(); });
      if (stop_) return;
      req = std::move(*pending_);
      pending_.reset();
      running_ = req.id;
      cancel_ = false;
    }
    Answer answer;
    answer.request = req.id;
    answer.key = req.problem->key;
    answer.exact = req.exact;
    answer.epsilon = req.epsilon;
    bool stopped = false, interrupted = false;
    const auto t0 = std::chrono::steady_clock::now();
    try {
      const Problem& p = *req.problem;
      if (req.exact) {
        ot::ExactOptions o;
        o.cancel = &cancel_;
        answer.result = ot::exact(p.mu, p.nu, p.cost, o);
      } else {
        ot::SinkhornOptions o;
        o.epsilon = req.epsilon;
        o.maxIterations = kMaxIterations;
        o.cancel = &cancel_;
        if (warmKey == p.key && warmU.size() == p.cost.rows() && warmV.size() == p.cost.cols()) {
          o.warmU = warmU;
          o.warmV = warmV;
          answer.warmStarted = true;
        }
        answer.result = ot::sinkhornInSlices(
            p.mu, p.nu, p.cost, o, kSliceSeconds, [&](const ot::Result& r, bool last) {
              if (r.plan.allFinite() && r.u.allFinite() && r.v.allFinite()) {
                warmKey = p.key;
                warmU = r.u;
                warmV = r.v;
              }
              if (last) return true;
              {
                std::lock_guard<std::mutex> lock(mutex_);
                if (stop_ || pending_.has_value()) {  // a newer request waits
                  interrupted = true;
                  return false;
                }
              }
              Answer partial = answer;
              partial.result = r;
              partial.final = false;
              partial.seconds =
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
              QMetaObject::invokeMethod(
                  this, [this, partial] { emit solved(partial); }, Qt::QueuedConnection);
              return true;
            });
        if (interrupted) stopped = true;  // stopped early for a newer request: no final answer
      }
    } catch (const Cancelled&) {
      stopped = true;
    }
    answer.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    bool current;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      running_ = 0;
      if (stopped)
        ++cancelled_;
      else
        ++completed_;
      current = !stopped && req.id == latest_;
    }
    if (current)
      QMetaObject::invokeMethod(this, [this, answer] { emit solved(answer); },
                                Qt::QueuedConnection);
  }
}

}  // namespace otfuse::ui
