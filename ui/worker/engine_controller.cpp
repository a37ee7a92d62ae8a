#include "worker/engine_controller.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QMutexLocker>
#include <QThread>
#include <algorithm>
#include <atomic>
#include <utility>

namespace otfuse::ui {

namespace {
std::atomic<int> g_detached{0};
std::atomic<int> g_abandoned{0};
}  // namespace

EngineController::EngineController(QObject* parent) : QObject(parent), thread_(new QThread) {
  registerStudioMetaTypes();
  worker_ = new EngineWorker;
  worker_->moveToThread(thread_);
  connect(thread_, &QThread::finished, worker_, &QObject::deleteLater);
  // Worker signals are re-emitted here, on the UI thread (queued: different threads), for jobs
  // still pending only: once shutdown() has ended a job, whatever its worker still sends is
  // dropped.
  connect(worker_, &EngineWorker::jobStarted, this, [this](int job, JobKind kind) {
    if (!isPending(job)) return;
    started_.insert(job);
    emit jobStarted(job, kind);
  });
  connect(worker_, &EngineWorker::progress, this, [this](int job, const Progress& p) {
    if (isPending(job)) emit progress(job, p);
  });
  connect(worker_, &EngineWorker::modelLoaded, this,
          [this](int job, const QString& path, ModelPtr model) {
            if (isPending(job)) emit modelLoaded(job, path, std::move(model));
          });
  connect(worker_, &EngineWorker::modelEvaluated, this,
          [this](int job, const QString& key, const Score& score) {
            if (isPending(job)) emit modelEvaluated(job, key, score);
          });
  connect(worker_, &EngineWorker::fusionFinished, this, [this](int job, OutcomePtr outcome) {
    if (isPending(job)) emit fusionFinished(job, std::move(outcome));
  });
  connect(worker_, &EngineWorker::curvePoint, this,
          [this](int job, const QString& curve, const QString& series, const CurvePoint& p) {
            if (isPending(job)) emit curvePoint(job, curve, series, p);
          });
  connect(worker_, &EngineWorker::demoReady, this, [this](int job, const QStringList& paths) {
    if (isPending(job)) emit demoReady(job, paths);
  });
  connect(worker_, &EngineWorker::jobFailed, this,
          [this](int job, JobKind kind, const QString& message) {
            if (isPending(job)) emit jobFailed(job, kind, message);
          });
  connect(worker_, &EngineWorker::jobCancelled, this, [this](int job, JobKind kind) {
    if (isPending(job)) emit jobCancelled(job, kind);
  });
  connect(worker_, &EngineWorker::jobFinished, this, &EngineController::onJobFinished);
  thread_->setObjectName(QStringLiteral("otfuse-engine"));
  thread_->start(QThread::LowPriority);
}

EngineController::~EngineController() {
  if (shutdown()) delete thread_;  // else it deletes itself when its job is done
}

int EngineController::detachedWorkers() {
  return g_detached.load();
}

int EngineController::abandonedTotal() {
  return g_abandoned.load();
}

bool EngineController::waitForDetachedWorkers(int ms) {
  QDeadlineTimer deadline(ms);
  while (g_detached.load() > 0) {
    if (deadline.hasExpired()) return false;
    QThread::msleep(5);
  }
  return true;
}

bool EngineController::shutdown(int waitMs) {
  if (shutDown_) return stopped_;
  Q_ASSERT(QThread::currentThread() == thread());
  shutDown_ = true;
  cancelAll();
  thread_->quit();
  stopped_ = thread_->wait(waitMs < 0 ? QDeadlineTimer(QDeadlineTimer::Forever)
                                      : QDeadlineTimer(waitMs));
  // Deliver what the worker reported before it stopped (queued to this object): the running
  // job's own jobCancelled among it.
  QCoreApplication::sendPostedEvents(this, QEvent::MetaCall);
  if (!stopped_) {
    // Leave the thread to finish its job; it deletes itself afterwards.
    g_detached.fetch_add(1);
    g_abandoned.fetch_add(1);
    auto counted = std::make_shared<std::atomic<bool>>(true);
    auto release = [counted] {
      if (counted->exchange(false)) g_detached.fetch_sub(1);
    };
    connect(thread_, &QThread::finished, thread_, &QObject::deleteLater);
    connect(thread_, &QThread::finished, thread_, release, Qt::DirectConnection);
    if (thread_->isFinished()) {  // it may have finished before the connections were made
      release();
      thread_->deleteLater();
    }
  }
  // Jobs that will not report by themselves: queued ones never ran, a running one (only when
  // the wait timed out) is abandoned. Handlers may submit more jobs meanwhile (ended the same
  // way), hence the loop.
  for (;;) {
    QList<int> left;
    {
      QMutexLocker lock(&mutex_);
      left = pending_.keys();
    }
    if (left.isEmpty()) break;
    std::sort(left.begin(), left.end());
    for (int job : std::as_const(left)) endUnreported(job, !stopped_ && started_.contains(job));
  }
  return stopped_;
}

void EngineController::endUnreported(int job, bool abandoned) {
  JobKind kind;
  {
    QMutexLocker lock(&mutex_);
    auto it = pending_.find(job);
    if (it == pending_.end()) return;
    kind = it->kind;
  }
  if (abandoned)
    emit jobAbandoned(job, kind);
  else
    emit jobCancelled(job, kind);
  onJobFinished(job, kind);
}

int EngineController::submit(JobKind kind,
                             std::function<void(EngineWorker*, int, EngineWorker::Flag)> run) {
  const int id = nextJob_++;
  auto flag = std::make_shared<CancelFlag>(shutDown_);
  {
    QMutexLocker lock(&mutex_);
    pending_.insert(id, Pending{flag, kind});
  }
  if (shutDown_) {
    // No worker any more: the job ends as cancelled, reported after the caller has the id.
    QMetaObject::invokeMethod(
        this, [this, id] { endUnreported(id, false); }, Qt::QueuedConnection);
    return id;
  }
  QMetaObject::invokeMethod(
      worker_, [w = worker_, id, flag, run = std::move(run)] { run(w, id, flag); },
      Qt::QueuedConnection);
  return id;
}

bool EngineController::isPending(int job) const {
  QMutexLocker lock(&mutex_);
  return pending_.contains(job);
}

int EngineController::pendingJobs() const {
  QMutexLocker lock(&mutex_);
  return int(pending_.size());
}

void EngineController::onJobFinished(int job, JobKind kind) {
  bool nowIdle = false;
  {
    QMutexLocker lock(&mutex_);
    if (pending_.remove(job) == 0) return;  // already ended by shutdown()
    nowIdle = pending_.isEmpty();
  }
  started_.remove(job);
  emit jobFinished(job, kind);
  if (nowIdle) emit idle();
}

void EngineController::cancelAll() {
  QMutexLocker lock(&mutex_);
  for (const Pending& p : std::as_const(pending_)) p.flag->store(true);
}

void EngineController::cancel(int job) {
  QMutexLocker lock(&mutex_);
  if (auto it = pending_.find(job); it != pending_.end()) it->flag->store(true);
}

int EngineController::submitLoad(const QString& path) {
  return submit(JobKind::LoadModel, [path](EngineWorker* w, int id, EngineWorker::Flag flag) {
    w->runLoad(id, flag, path);
  });
}

int EngineController::submitEvaluate(const QString& key, ModelPtr model, const std::string& dataset,
                                     const std::string& dataDir) {
  return submit(JobKind::Evaluate,
                [key, model, dataset, dataDir](EngineWorker* w, int id, EngineWorker::Flag flag) {
                  w->runEvaluate(id, flag, key, model, dataset, dataDir);
                });
}

int EngineController::submitFusion(const FusionRequest& request) {
  return submit(JobKind::Fusion, [request](EngineWorker* w, int id, EngineWorker::Flag flag) {
    w->runFusion(id, flag, request);
  });
}

int EngineController::submitInterpolation(const FusionRequest& request, int points) {
  return submit(JobKind::Interpolation,
                [request, points](EngineWorker* w, int id, EngineWorker::Flag flag) {
                  w->runInterpolation(id, flag, request, points);
                });
}

int EngineController::submitProgressive(const FusionRequest& request) {
  return submit(JobKind::Progressive, [request](EngineWorker* w, int id, EngineWorker::Flag flag) {
    w->runProgressive(id, flag, request);
  });
}

int EngineController::submitEpsilon(const FusionRequest& request, double from, double to,
                                    int points) {
  return submit(JobKind::Epsilon,
                [request, from, to, points](EngineWorker* w, int id, EngineWorker::Flag flag) {
                  w->runEpsilon(id, flag, request, from, to, points);
                });
}

int EngineController::submitGrowth(const FusionRequest& request) {
  return submit(JobKind::Growth, [request](EngineWorker* w, int id, EngineWorker::Flag flag) {
    w->runGrowth(id, flag, request);
  });
}

int EngineController::submitDemo(const std::string& cacheDir, const std::string& dataDir,
                                 const DemoOptions& options) {
  return submit(JobKind::Demo, [cacheDir, dataDir, options](EngineWorker* w, int id,
                                                            EngineWorker::Flag flag) {
    w->runDemo(id, flag, cacheDir, dataDir, options);
  });
}

int EngineController::submitTask(JobKind kind,
                                 std::function<void(const ProgressFn&, const CancelFlag*)> body) {
  return submit(kind, [kind, body = std::move(body)](EngineWorker* w, int id,
                                                     EngineWorker::Flag flag) {
    w->runTask(id, flag, kind, body);
  });
}

}  // namespace otfuse::ui
