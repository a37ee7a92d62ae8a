#include "worker/engine_controller.h"

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

EngineWorker::Flag EngineController::newJob(int* id) {
  *id = nextJob_++;
  auto flag = std::make_shared<CancelFlag>(false);
  flags_.insert(*id, flag);
  return flag;
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
  int id = 0;
  auto flag = newJob(&id);
  QMetaObject::invokeMethod(
      worker_, [w = worker_, id, flag, path] { w->runLoad(id, flag, path); }, Qt::QueuedConnection);
  return id;
}

int EngineController::submitEvaluate(const QString& key, ModelPtr model, const std::string& dataset,
                                     const std::string& dataDir) {
  int id = 0;
  auto flag = newJob(&id);
  QMetaObject::invokeMethod(
      worker_,
      [w = worker_, id, flag, key, model, dataset, dataDir] {
        w->runEvaluate(id, flag, key, model, dataset, dataDir);
      },
      Qt::QueuedConnection);
  return id;
}

int EngineController::submitFusion(const FusionRequest& request) {
  int id = 0;
  auto flag = newJob(&id);
  QMetaObject::invokeMethod(
      worker_, [w = worker_, id, flag, request] { w->runFusion(id, flag, request); },
      Qt::QueuedConnection);
  return id;
}

int EngineController::submitInterpolation(const FusionRequest& request, int points) {
  int id = 0;
  auto flag = newJob(&id);
  QMetaObject::invokeMethod(
      worker_,
      [w = worker_, id, flag, request, points] { w->runInterpolation(id, flag, request, points); },
      Qt::QueuedConnection);
  return id;
}

int EngineController::submitProgressive(const FusionRequest& request) {
  int id = 0;
  auto flag = newJob(&id);
  QMetaObject::invokeMethod(
      worker_, [w = worker_, id, flag, request] { w->runProgressive(id, flag, request); },
      Qt::QueuedConnection);
  return id;
}

int EngineController::submitEpsilon(const FusionRequest& request, double from, double to,
                                    int points) {
  int id = 0;
  auto flag = newJob(&id);
  QMetaObject::invokeMethod(
      worker_,
      [w = worker_, id, flag, request, from, to, points] {
        w->runEpsilon(id, flag, request, from, to, points);
      },
      Qt::QueuedConnection);
  return id;
}

int EngineController::submitDemo(const std::string& cacheDir, const std::string& dataDir) {
  int id = 0;
  auto flag = newJob(&id);
  QMetaObject::invokeMethod(
      worker_,
      [w = worker_, id, flag, cacheDir, dataDir] { w->runDemo(id, flag, cacheDir, dataDir); },
      Qt::QueuedConnection);
  return id;
}

}  // namespace otfuse::ui
