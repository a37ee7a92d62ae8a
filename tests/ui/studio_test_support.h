#pragma once
// What the studio tests share (test_studio, test_stress): waiting for signals, where MNIST is,
// small models made in the test itself (no shared folder needed), a stuck job.
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>
#include <QString>
#include <QTemporaryDir>
#include <QtTest>

#include <chrono>
#include <thread>

#include "otfuse/engine/engine.h"
#include "worker/engine_controller.h"

namespace studio_test {

// Where `otfuse data list` looks for MNIST (the core's resolveDataDir).
inline bool mnistAvailable(QString* where) {
  QString dir = qEnvironmentVariable("OTFUSE_DATA_DIR");
  if (dir.isEmpty()) {
    QString xdg = qEnvironmentVariable("XDG_DATA_HOME");
    if (xdg.isEmpty()) xdg = QDir::homePath() + "/.local/share";
    dir = xdg + "/otfuse/datasets";
  }
  *where = dir + "/mnist";
  for (const char* f : {"t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz"})
    if (QFile::exists(*where + "/" + f)) return true;
  return false;
}

inline QString mnistMissing() {
  QString where;
  return mnistAvailable(&where) ? QString()
                                : "MNIST is not installed where the core looks for it (" + where +
                                      "); ./run.sh fetches it";
}

// Waits until `spy` holds at least `count` signals.
inline bool waitFor(QSignalSpy& spy, int count, int timeoutMs) {
  QElapsedTimer t;
  t.start();
  while (spy.count() < count) {
    const int left = timeoutMs - int(t.elapsed());
    if (left <= 0) return false;
    spy.wait(left);
  }
  return true;
}

// Waits for jobFinished(job).
inline bool waitForJob(otfuse::ui::EngineController* c, int job, int timeoutMs) {
  QSignalSpy spy(c, &otfuse::ui::EngineController::jobFinished);
  QElapsedTimer t;
  t.start();
  for (;;) {
    for (const auto& args : std::as_const(spy))
      if (args.at(0).toInt() == job) return true;
    const int left = timeoutMs - int(t.elapsed());
    if (left <= 0) return false;
    spy.wait(left);
  }
}

// True if `spy` (of a (int job, ...) signal) recorded `job`.
inline bool recorded(const QSignalSpy& spy, int job) {
  for (const auto& args : spy)
    if (args.at(0).toInt() == job) return true;
  return false;
}

// Waits until `spy` (of a (int job, ...) signal) recorded `job`.
inline bool waitForRecorded(QSignalSpy& spy, int job, int timeoutMs) {
  QElapsedTimer t;
  t.start();
  while (!recorded(spy, job)) {
    const int left = timeoutMs - int(t.elapsed());
    if (left <= 0) return false;
    spy.wait(left);
  }
  return true;
}

// Waits until a progress report of `job` whose stage starts with `stage` arrived.
inline bool waitForStage(otfuse::ui::EngineController* c, int job, const QString& stage,
                         int timeoutMs) {
  bool seen = false;
  QObject guard;
  QObject::connect(c, &otfuse::ui::EngineController::progress, &guard,
                   [&](int j, const otfuse::Progress& p) {
                     if (j == job && QString::fromStdString(p.stage).startsWith(stage)) seen = true;
                   });
  QElapsedTimer t;
  t.start();
  while (!seen && t.elapsed() < timeoutMs) QTest::qWait(5);
  return seen;
}

// A model made here and saved as a file: `spec` trained for `epochs` epochs on the first
// `limit` MNIST training images (epochs 0: the seeded initial weights, no data needed).
inline QString makeModel(const QTemporaryDir& dir, const QString& name, const std::string& spec,
                         uint64_t seed, int epochs, long long limit = 6000) {
  otfuse::TrainRequest r;
  r.spec = spec;
  r.seed = seed;
  r.epochs = epochs;
  r.limit = limit;
  r.learningRate = 0.05;
  r.momentum = 0.9;
  const QString path = dir.filePath(name);
  otfuse::saveModel(otfuse::trainNewModel(r), path.toStdString());
  return path;
}

// A job with no cancellation point for `ms` milliseconds (like reading a huge model file). It
// reports no progress: the worker's progress callback is itself a cancellation point, so a
// cancel arriving between jobStarted and that call ended the job at once (a race the slower
// worker thread of the ASan build lost about every other run of test_studio).
inline int submitStuckJob(otfuse::ui::EngineController* c, int ms) {
  return c->submitTask(otfuse::ui::JobKind::Task,
                       [ms](const otfuse::ProgressFn&, const otfuse::CancelFlag*) {
                         std::this_thread::sleep_for(std::chrono::milliseconds(ms));
                       });
}

}  // namespace studio_test
