#pragma once
// Re-solves one layer's transport problem off the UI thread while the user drags the
// transport-plan view's epsilon slider (issue 11).
//
// Only the newest request matters: a request replaces any request still waiting, and cancels a
// solve in progress whose answer would already be stale, so a fast drag costs one solve at a
// time and the view always ends on the plan of the slider's last position. Sinkhorn solves are
// warm-started from the potentials of the last solve of the same problem (ot::SinkhornOptions
// warmU/warmV), so each step of a drag takes a few iterations. A solve that needs many
// iterations (eps near the plan's phase change) reports its plan every kSliceSeconds
// (ot::sinkhornInSlices): the view draws the plan so far, marked not final, and the solve goes on
// refining it while no newer request arrives. Results arrive as `solved` on the thread
// that owns this object (the UI thread). The worker thread is joined on destruction.
#include <QObject>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "otfuse/ot/ot.h"
#include "otfuse/runtime.h"

namespace otfuse::ui {

class PlanPreviewSolver : public QObject {
  Q_OBJECT
 public:
  /// One layer's problem: cost and marginals as the fusion solved them. `key` names the problem
  /// (a new key drops the warm start).
  struct Problem {
    QString key;
    ot::Matrix cost;
    ot::Vector mu, nu;
  };
  struct Answer {
    int request = 0;
    QString key;
    bool exact = false;
    double epsilon = 0;
    ot::Result result;
    double seconds = 0;  // since the request's solve started
    bool warmStarted = false;
    /// False for the plan after a slice of a solve still running (more answers follow).
    bool final = true;
  };

  explicit PlanPreviewSolver(QObject* parent = nullptr);
  ~PlanPreviewSolver() override;

  /// Queues a solve (Sinkhorn at `epsilon`, or exact OT when `exact`), replacing any waiting
  /// request and cancelling a stale one in progress. Returns the request's number.
  int request(std::shared_ptr<const Problem> problem, double epsilon, bool exact = false);
  /// The number of the newest request (answers to older ones are never emitted).
  int latestRequest() const;
  /// Solves that ran to the end, and solves stopped because a newer request came (tests).
  int completedSolves() const;
  int cancelledSolves() const;
  /// Most Sinkhorn iterations per preview (beyond it the plan is shown as approximate).
  static constexpr int kMaxIterations = 5000;
  /// Time per slice of a long Sinkhorn solve: an answer reaches the view at least this often.
  static constexpr double kSliceSeconds = 0.06;

 signals:
  void solved(const otfuse::ui::PlanPreviewSolver::Answer& answer);

 private:
  struct Request {
    int id = 0;
    std::shared_ptr<const Problem> problem;
    double epsilon = 0;
    bool exact = false;
  };
  void run();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<Request> pending_;
  int latest_ = 0;
  int completed_ = 0, cancelled_ = 0;
  bool stop_ = false;
  CancelFlag cancel_{false};
  int running_ = 0;  // id of the solve in progress, 0 if none
  std::thread thread_;
};

}  // namespace otfuse::ui

Q_DECLARE_METATYPE(otfuse::ui::PlanPreviewSolver::Answer)
