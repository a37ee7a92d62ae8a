#include "worker/engine_controller.h"

#include <utility>

namespace otfuse::ui {

EngineController::EngineController(QObject* parent) : QObject(parent) {
  registerStudioMetaTypes();
  worker_ = new EngineWorker;
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  // Worker signals are re-emitted here, on the UI thread (queued: different threads).
  connect(worker_, &EngineWorker::jobStarted, this, &EngineController::jobStarted);
  connect(worker_, &EngineWorker::progress, this, &EngineController::progress);
  connect(worker_, &EngineWorker::modelLoaded, this, &EngineController::modelLoaded);
  connect(worker_, &EngineWorker::modelEvaluated, this, &EngineController::modelEvaluated);
  connect(worker_, &EngineWorker::fusionFinished, this, &EngineController::fusionFinished);
  connect(worker_, &EngineWorker::curvePoint, this, &EngineController::curvePoint);
  connect(worker_, &EngineWorker::demoReady, this, &EngineController::demoReady);
  connect(worker_, &EngineWorker::jobFailed, this, &EngineController::jobFailed);
  connect(worker_, &EngineWorker::jobCancelled, this, &EngineController::jobCancelled);
  connect(worker_, &EngineWorker::jobFinished, this, &EngineController::onJobFinished);
  thread_.setObjectName(QStringLiteral("otfuse-engine"));
  thread_.start(QThread::LowPriority);
}

EngineController::~EngineController() {
  shutdown();
}

void EngineController::shutdown() {
  if (shutDown_) return;
  shutDown_ = true;
  cancelAll();
  thread_.quit();
  thread_.wait();
}

int EngineController::submit(std::function<void(EngineWorker*, int, EngineWorker::Flag)> run) {
  const int id = nextJob_++;
  auto flag = std::make_shared<CancelFlag>(false);
  flags_.insert(id, flag);
  QMetaObject::invokeMethod(
      worker_, [w = worker_, id, flag, run = std::move(run)] { run(w, id, flag); },
      Qt::QueuedConnection);
  return id;
}

void EngineController::onJobFinished(int job, JobKind kind) {
  flags_.remove(job);
  emit jobFinished(job, kind);
  if (flags_.isEmpty()) emit idle();
}

void EngineController::cancelAll() {
  for (const auto& flag : std::as_const(flags_)) flag->store(true);
}

void EngineController::cancel(int job) {
  if (auto it = flags_.find(job); it != flags_.end()) (*it)->store(true);
}

int EngineController::submitLoad(const QString& path) {
  return submit([path](EngineWorker* w, int id, EngineWorker::Flag flag) {
    w->runLoad(id, flag, path);
  });
}

int EngineController::submitEvaluate(const QString& key, ModelPtr model, const std::string& dataset,
                                     const std::string& dataDir) {
  return submit([key, model, dataset, dataDir](EngineWorker* w, int id, EngineWorker::Flag flag) {
    w->runEvaluate(id, flag, key, model, dataset, dataDir);
  });
}

int EngineController::submitFusion(const FusionRequest& request) {
  return submit([request](EngineWorker* w, int id, EngineWorker::Flag flag) {
    w->runFusion(id, flag, request);
  });
}

int EngineController::submitInterpolation(const FusionRequest& request, int points) {
  return submit([request, points](EngineWorker* w, int id, EngineWorker::Flag flag) {
    w->runInterpolation(id, flag, request, points);
  });
}

int EngineController::submitProgressive(const FusionRequest& request) {
  return submit([request](EngineWorker* w, int id, EngineWorker::Flag flag) {
    w->runProgressive(id, flag, request);
  });
}

int EngineController::submitEpsilon(const FusionRequest& request, double from, double to,
                                    int points) {
  return submit([request, from, to, points](EngineWorker* w, int id, EngineWorker::Flag flag) {
    w->runEpsilon(id, flag, request, from, to, points);
  });
}

int EngineController::submitDemo(const std::string& cacheDir, const std::string& dataDir) {
  return submit([cacheDir, dataDir](EngineWorker* w, int id, EngineWorker::Flag flag) {
    w->runDemo(id, flag, cacheDir, dataDir);
  });
}

}  // namespace otfuse::ui
