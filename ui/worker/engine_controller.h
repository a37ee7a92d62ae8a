#pragma once
// Owns the engine worker thread and hands it jobs; lives on the UI thread.
//
// Every submit* call returns a job id at once and queues the job on the worker thread (jobs
// run one after another, in order). Results come back as this object's signals, delivered on
// the UI thread (queued from the worker). Every job ends with exactly one of (its result
// signal, jobFailed, jobCancelled, jobAbandoned), then jobFinished.
//
// Cancelling: cancelAll() / cancel() store to the jobs' atomic cancellation flags directly (no
// round trip through the worker's event loop) and may be called from any thread: the table of
// flags is guarded by a mutex. A running job stops at the core's next check (between batches
// and layers, inside the OT solvers and while a dataset is read).
//
// Shutdown (closing the window): cancel, quit, and wait a bounded time (kShutdownWaitMs). When
// the running job stops in time, its own jobCancelled arrives before shutdown() returns. When
// it does not (a stretch of work with no cancellation point, e.g. reading a large model file),
// the worker thread is left to finish on its own in the background: its results are dropped,
// jobAbandoned is emitted for the job, and the thread deletes itself when done
// (detachedWorkers() counts such threads; waitForDetachedWorkers() before the process exits).
#include <QHash>
#include <QMutex>
#include <QObject>
#include <QSet>
#include <QStringList>
#include <functional>
#include <utility>

#include "worker/engine_worker.h"

class QThread;

namespace otfuse::ui {

class EngineController : public QObject {
  Q_OBJECT
 public:
  /// The longest shutdown() waits for the running job by default (the app closes within 2 s).
  static constexpr int kShutdownWaitMs = 1000;

  explicit EngineController(QObject* parent = nullptr);
  ~EngineController() override;

  int submitLoad(const QString& path);
  /// `key` identifies the model in the result (its path).
  int submitEvaluate(const QString& key, ModelPtr model, const std::string& dataset,
                     const std::string& dataDir);
  int submitFusion(const FusionRequest& request);
  int submitInterpolation(const FusionRequest& request, int points);
  int submitProgressive(const FusionRequest& request);
  int submitEpsilon(const FusionRequest& request, double from, double to, int points);
  /// Fused accuracy as N grows against the ensemble (engine growthCurve): `request` must be an
  /// N-model request (models, anchor).
  int submitGrowth(const FusionRequest& request);
  int submitDemo(const std::string& cacheDir, const std::string& dataDir,
                 const otfuse::DemoOptions& options = {});
  /// Any other work, run on the worker like the jobs above (same progress throttling, same
  /// flag, same end signals: jobCancelled when `body` throws Cancelled, jobFailed on any other
  /// exception).
  int submitTask(JobKind kind, std::function<void(const ProgressFn&, const CancelFlag*)> body);

  /// Sets the cancellation flag of every queued and running job. Any thread.
  void cancelAll();
  /// Sets the flag of one job (no-op if it has finished). Any thread.
  void cancel(int job);
  /// Jobs submitted and not yet finished. Any thread.
  int pendingJobs() const;
  bool isBusy() const { return pendingJobs() > 0; }

  /// Cancels every job, stops the worker thread and waits at most `waitMs` ms for it (-1: no
  /// limit). Returns true when the worker stopped in time: every job has then reported its end
  /// before this returns (jobs that never started as jobCancelled). False: the running job is
  /// left to finish in the background (jobAbandoned), see the top of this file. UI thread only;
  /// idempotent (later calls return the first result). The destructor calls it.
  bool shutdown(int waitMs = kShutdownWaitMs);
  bool isShutDown() const { return shutDown_; }

  /// Worker threads left running by a shutdown() that timed out and not finished yet.
  static int detachedWorkers();
  /// Total number of workers ever left running (for tests).
  static int abandonedTotal();
  /// Waits up to `ms` for the detached workers to finish; true when none is left.
  static bool waitForDetachedWorkers(int ms);

 signals:
  void jobStarted(int job, otfuse::ui::JobKind kind);
  void progress(int job, otfuse::Progress progress);
  void modelLoaded(int job, QString path, otfuse::ModelPtr model);
  void modelEvaluated(int job, QString key, otfuse::Score score);
  void fusionFinished(int job, otfuse::ui::OutcomePtr outcome);
  void curvePoint(int job, QString curve, QString series, otfuse::CurvePoint point);
  void demoReady(int job, QStringList paths);
  void jobFailed(int job, otfuse::ui::JobKind kind, QString message);
  void jobCancelled(int job, otfuse::ui::JobKind kind);
  /// shutdown() timed out while this job was running: it was asked to stop, and whatever it
  /// still produces is dropped.
  void jobAbandoned(int job, otfuse::ui::JobKind kind);
  void jobFinished(int job, otfuse::ui::JobKind kind);
  /// Emitted when the last pending job finished.
  void idle();

 private:
  struct Pending {
    EngineWorker::Flag flag;
    JobKind kind;
  };
  /// Registers a new job's cancellation flag and queues `run(worker, id, flag)` on the
  /// worker thread; returns the job id.
  int submit(JobKind kind, std::function<void(EngineWorker*, int, EngineWorker::Flag)> run);
  bool isPending(int job) const;
  void onJobFinished(int job, JobKind kind);
  /// Ends a job that will not report by itself: `abandoned` (it was running) or cancelled.
  void endUnreported(int job, bool abandoned);

  QThread* thread_;
  EngineWorker* worker_ = nullptr;  // deleted on the worker thread when it finishes
  mutable QMutex mutex_;            // guards pending_ (cancelAll may come from any thread)
  QHash<int, Pending> pending_;
  QSet<int> started_;               // UI thread only
  int nextJob_ = 1;
  bool shutDown_ = false;
  bool stopped_ = true;             // result of the first shutdown()
};

}  // namespace otfuse::ui
