#pragma once
// The object that runs engine calls on the worker thread.
//
// Lives on EngineController's QThread; its run* methods are only ever invoked there (the
// controller queues them). Every job emits, in order: jobStarted, any number of progress /
// result signals, then exactly one of (its result signal, jobFailed, jobCancelled), then
// jobFinished. Signals carry owned values; the UI receives them through queued connections.
#include <QObject>
#include <QString>
#include <QStringList>

#include <chrono>
#include <functional>
#include <memory>

#include "worker/studio_types.h"

namespace otfuse::ui {

class EngineWorker : public QObject {
  Q_OBJECT
 public:
  using Flag = std::shared_ptr<CancelFlag>;

  void runLoad(int job, Flag flag, const QString& path);
  void runEvaluate(int job, Flag flag, const QString& key, ModelPtr model, std::string dataset,
                   std::string dataDir);
  void runFusion(int job, Flag flag, FusionRequest request);
  void runInterpolation(int job, Flag flag, FusionRequest request, int points);
  void runProgressive(int job, Flag flag, FusionRequest request);
  void runEpsilon(int job, Flag flag, FusionRequest request, double from, double to, int points);
  void runGrowth(int job, Flag flag, FusionRequest request);
  void runDemo(int job, Flag flag, std::string cacheDir, std::string dataDir,
               otfuse::DemoOptions options);
  void runTask(int job, Flag flag, JobKind kind,
               const std::function<void(const ProgressFn&, const CancelFlag*)>& body);

 signals:
  void jobStarted(int job, otfuse::ui::JobKind kind);
  void progress(int job, otfuse::Progress progress);
  void modelLoaded(int job, QString path, otfuse::ModelPtr model);
  void modelEvaluated(int job, QString key, otfuse::Score score);
  void fusionFinished(int job, otfuse::ui::OutcomePtr outcome);
  /// `curve`: "interpolation" | "progressive" | "epsilon" | "growth"; `series` as the engine
  /// names it.
  void curvePoint(int job, QString curve, QString series, otfuse::CurvePoint point);
  void demoReady(int job, QStringList paths);
  /// `message` says what failed and where (file, layer); `kind` says which job it was.
  void jobFailed(int job, otfuse::ui::JobKind kind, QString message);
  void jobCancelled(int job, otfuse::ui::JobKind kind);
  void jobFinished(int job, otfuse::ui::JobKind kind);

 private:
  /// Runs `body` with a throttled progress callback (at most one signal per 40 ms unless the
  /// stage changes or a stage completes) that also stops the job as soon as `flag` is set.
  void execute(int job, JobKind kind, const Flag& flag,
               const std::function<void(const ProgressFn&, const CancelFlag*)>& body);
  void emitCurvePoint(int job, const QString& curve, const std::string& series,
                      const CurvePoint& point);
};

}  // namespace otfuse::ui
