#include "worker/engine_worker.h"

#include <exception>

#include "otfuse/error.h"

namespace otfuse::ui {

void EngineWorker::execute(int job, JobKind kind, const Flag& flag,
                           const std::function<void(const ProgressFn&, const CancelFlag*)>& body) {
  if (flag->load()) {
    emit jobCancelled(job, kind);
    emit jobFinished(job, kind);
    return;
  }
  emit jobStarted(job, kind);
  using Clock = std::chrono::steady_clock;
  std::string lastStage;
  Clock::time_point lastEmit{};
  const CancelFlag* cancel = flag.get();
  ProgressFn progressFn = [&, cancel](const Progress& p) {
    throwIfCancelled(cancel);  // an extra cancellation point wherever the core reports
    const auto now = Clock::now();
    const bool stageChanged = p.stage != lastStage;
    const bool complete = p.total > 0 && p.done >= p.total;
    if (stageChanged || complete || now - lastEmit >= std::chrono::milliseconds(40)) {
      lastStage = p.stage;
      lastEmit = now;
      emit progress(job, p);
    }
  };
  try {
    body(progressFn, cancel);
  } catch (const Cancelled&) {
    emit jobCancelled(job, kind);
  } catch (const std::exception& e) {
    emit jobFailed(job, kind, QString::fromStdString(e.what()));
  } catch (...) {
    emit jobFailed(job, kind, QStringLiteral("unknown error"));
  }
  emit jobFinished(job, kind);
}

void EngineWorker::emitCurvePoint(int job, const QString& curve, const std::string& series,
                                  const CurvePoint& point) {
  emit curvePoint(job, curve, QString::fromStdString(series), point);
}

void EngineWorker::runLoad(int job, Flag flag, const QString& path) {
  execute(job, JobKind::LoadModel, flag, [&](const ProgressFn&, const CancelFlag*) {
    ModelPtr model = loadModel(path.toStdString());
    emit modelLoaded(job, path, model);
  });
}

void EngineWorker::runEvaluate(int job, Flag flag, const QString& key, ModelPtr model,
                               std::string dataset, std::string dataDir) {
  execute(job, JobKind::Evaluate, flag, [&](const ProgressFn& progress, const CancelFlag* cancel) {
    Score score = evaluateModel(model, dataset, dataDir, progress, cancel);
    emit modelEvaluated(job, key, score);
  });
}

void EngineWorker::runFusion(int job, Flag flag, FusionRequest request) {
  execute(job, JobKind::Fusion, flag, [&](const ProgressFn& progress, const CancelFlag* cancel) {
    auto outcome = std::make_shared<FusionOutcome>(otfuse::runFusion(request, progress, cancel));
    emit fusionFinished(job, OutcomePtr(std::move(outcome)));
  });
}

void EngineWorker::runInterpolation(int job, Flag flag, FusionRequest request, int points) {
  execute(job, JobKind::Interpolation, flag,
          [&](const ProgressFn& progress, const CancelFlag* cancel) {
            interpolationCurve(
                request, points,
                [&](const std::string& s, const CurvePoint& p) {
                  emitCurvePoint(job, QStringLiteral("interpolation"), s, p);
                },
                progress, cancel);
          });
}

void EngineWorker::runProgressive(int job, Flag flag, FusionRequest request) {
  execute(job, JobKind::Progressive, flag,
          [&](const ProgressFn& progress, const CancelFlag* cancel) {
            progressiveCurve(
                request,
                [&](const std::string& s, const CurvePoint& p) {
                  emitCurvePoint(job, QStringLiteral("progressive"), s, p);
                },
                progress, cancel);
          });
}

void EngineWorker::runEpsilon(int job, Flag flag, FusionRequest request, double from, double to,
                              int points) {
  execute(job, JobKind::Epsilon, flag, [&](const ProgressFn& progress, const CancelFlag* cancel) {
    epsilonCurve(
        request, from, to, points,
        [&](const std::string& s, const CurvePoint& p) {
          emitCurvePoint(job, QStringLiteral("epsilon"), s, p);
        },
        progress, cancel);
  });
}

void EngineWorker::runGrowth(int job, Flag flag, FusionRequest request) {
  execute(job, JobKind::Growth, flag, [&](const ProgressFn& progress, const CancelFlag* cancel) {
    growthCurve(
        request,
        [&](const std::string& s, const CurvePoint& p) {
          emitCurvePoint(job, QStringLiteral("growth"), s, p);
        },
        progress, cancel);
  });
}

void EngineWorker::runDemo(int job, Flag flag, std::string cacheDir, std::string dataDir,
                           DemoOptions options) {
  execute(job, JobKind::Demo, flag, [&](const ProgressFn& progress, const CancelFlag* cancel) {
    std::vector<std::string> paths = demoModels(cacheDir, dataDir, progress, cancel, options);
    QStringList list;
    for (const auto& p : paths) list << QString::fromStdString(p);
    emit demoReady(job, list);
  });
}

void EngineWorker::runTask(int job, Flag flag, JobKind kind,
                           const std::function<void(const ProgressFn&, const CancelFlag*)>& body) {
  execute(job, kind, flag, body);
}

}  // namespace otfuse::ui
