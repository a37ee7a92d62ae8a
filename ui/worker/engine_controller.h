#pragma once
// Owns the engine worker thread and hands it jobs; lives on the UI thread.
//
// Every submit* call returns a job id at once and queues the job on the worker thread (jobs
// run one after another, in order). Results come back as this object's signals, delivered on
// the UI thread (queued from the worker). cancelAll() is a direct store to the jobs' atomic
// cancellation flags (no round trip through the worker's event loop), so a running job stops
// at the core's next check (between batches and layers). Shutdown order: cancel, quit, wait.
#include <QHash>
#include <QStringList>

#include <QObject>
#include <QThread>
#include <functional>
#include <utility>

#include "worker/engine_worker.h"

namespace otfuse::ui {

class EngineController : public QObject {
  Q_OBJECT
 public:
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
  int submitDemo(const std::string& cacheDir, const std::string& dataDir);

  /// Sets the cancellation flag of every queued and running job. Any thread.
  void cancelAll();
  /// Sets the flag of one job (no-op if it has finished).
  void cancel(int job);
  /// Jobs submitted and not yet finished.
  int pendingJobs() const { return int(flags_.size()); }
  bool isBusy() const { return !flags_.isEmpty(); }
  /// cancel, quit, wait. Called by the destructor; idempotent.
  void shutdown();

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
  void jobFinished(int job, otfuse::ui::JobKind kind);
  /// Emitted when the last pending job finished.
  void idle();

 private:
  /// Registers a new job's cancellation flag and queues `run(worker, id, flag)` on the
  /// worker thread; returns the job id.
  int submit(std::function<void(EngineWorker*, int, EngineWorker::Flag)> run);
  void onJobFinished(int job, JobKind kind);

  QThread thread_;
  EngineWorker* worker_ = nullptr;        // owned; deleted on the worker thread when it finishes
  QHash<int, EngineWorker::Flag> flags_;  // UI thread only
  int nextJob_ = 1;
  bool shutDown_ = false;
};

}  // namespace otfuse::ui
