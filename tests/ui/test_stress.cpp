// Stress (issue 8): 100 jobs on small models cancelled at random (seeded) moments, and 20 main
// windows closed mid-run. After each, the app must still work: a new job completes with
// exactly the result the core computes directly. Every job must end exactly once (one of
// result / failed / cancelled, then finished), no window may take 2 s to close, and no worker
// may be left running. Small models made here (no shared folder); built with AddressSanitizer
// it also checks memory safety of these paths (the "asan" build runs it in a few minutes).
#include <QApplication>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include "common/otfuse_test.h"

#include <map>
#include <memory>
#include <random>
#include <thread>

#include "curves/curves_view.h"
#include "main_window/main_window.h"
#include "models_panel/models_panel.h"
#include "otfuse/engine/engine.h"
#include "results/results_view.h"
#include "settings/settings_form.h"
#include "ui/studio_test_support.h"

using namespace otfuse;
using namespace otfuse::ui;
using namespace studio_test;

namespace {

constexpr unsigned kSeed = 20240517;

// Per job: how it ended, as the controller reported it.
struct JobLog {
  std::map<int, int> results, failed, cancelled, abandoned, finished;
  QStringList failures;

  void attach(EngineController* c, QObject* context) {
    QObject::connect(c, &EngineController::modelLoaded, context,
                     [this](int j, const QString&, ModelPtr) { ++results[j]; });
    QObject::connect(c, &EngineController::modelEvaluated, context,
                     [this](int j, const QString&, const Score&) { ++results[j]; });
    QObject::connect(c, &EngineController::fusionFinished, context,
                     [this](int j, OutcomePtr) { ++results[j]; });
    QObject::connect(c, &EngineController::jobFailed, context,
                     [this](int j, JobKind, const QString& m) {
                       ++failed[j];
                       failures << m;
                     });
    QObject::connect(c, &EngineController::jobCancelled, context,
                     [this](int j, JobKind) { ++cancelled[j]; });
    QObject::connect(c, &EngineController::jobAbandoned, context,
                     [this](int j, JobKind) { ++abandoned[j]; });
    QObject::connect(c, &EngineController::jobFinished, context,
                     [this](int j, JobKind) { ++finished[j]; });
  }
  // "" if `job` ended properly: finished once, after at most one of result / failed /
  // cancelled (curves report points, not a result signal).
  QString check(int job) const {
    auto n = [job](const std::map<int, int>& m) {
      auto it = m.find(job);
      return it == m.end() ? 0 : it->second;
    };
    if (n(finished) != 1) return QString("job %1 finished %2 times").arg(job).arg(n(finished));
    if (n(failed)) return QString("job %1 failed: %2").arg(job).arg(failures.join("; "));
    if (n(abandoned)) return QString("job %1 was abandoned (did not stop in time)").arg(job);
    if (n(results) + n(cancelled) > 1)
      return QString("job %1 ended twice (%2 results, %3 cancelled)")
          .arg(job)
          .arg(n(results))
          .arg(n(cancelled));
    return {};
  }
  bool wasCancelled(int job) const { return cancelled.count(job) > 0; }
};

}  // namespace

class TestStress : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;
  QString a_, b_;
  std::unique_ptr<MainWindow> window_;
  QStringList errors_;
  JobLog log_;
  FusionOutcome reference_;  // the core's own result for the window's request
  Score referenceA_;
  QString mnist_;

  // The app is usable: a new job completes with the core's result: a fusion with its
  // Table-1 evaluation (`fusion`), else the test-set evaluation of model A.
  void checkUsable(const QString& after, bool fusion) {
    EngineController* c = window_->controller();
    if (fusion) {
      QSignalSpy fused(c, &EngineController::fusionFinished);
      const int job = window_->runFusion();
      QVERIFY2(job > 0, qPrintable(after));
      QVERIFY2(waitForRecorded(fused, job, 120000), qPrintable("no fusion result " + after));
      OutcomePtr shown = window_->outcome();
      QVERIFY(shown);
      QVERIFY2(shown->summary.accuracy == reference_.summary.accuracy, qPrintable(after));
      QVERIFY2(shown->summary.loss == reference_.summary.loss, qPrintable(after));
      QCOMPARE(window_->resultsView()->tableAccuracy("fused"),
               reference_.summary.accuracy.at("fused"));
      for (size_t l = 0; l < reference_.layers.size(); ++l)
        QVERIFY2(shown->layers[l].plan == reference_.layers[l].plan, qPrintable(after));
    } else {
      QSignalSpy evaluated(c, &EngineController::modelEvaluated);
      const int eval = c->submitEvaluate("check", window_->modelsPanel()->first(), "mnist", "");
      QVERIFY2(waitForRecorded(evaluated, eval, 120000), qPrintable("no evaluation " + after));
      for (const auto& args : std::as_const(evaluated))
        if (args.at(0).toInt() == eval) {
          const Score s = args.at(2).value<Score>();
          QCOMPARE(s.accuracy, referenceA_.accuracy);
          QCOMPARE(s.loss, referenceA_.loss);
        }
    }
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join("\n")));
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("OTFuseTest");
    QCoreApplication::setApplicationName("test_stress");
    otfuse::initRuntime();
    mnist_ = mnistMissing();
    if (!mnist_.isEmpty()) return;
    QVERIFY(dir_.isValid());
    a_ = makeModel(dir_, "a.pt", "mlp:64-32", 0, 1, 3000);
    b_ = makeModel(dir_, "b.pt", "mlp:64-32", 1, 1, 3000);
    window_ = std::make_unique<MainWindow>();
    window_->setErrorHandler([this](const QString& t, const QString& m) { errors_ << t + ": " + m; });
    window_->settingsForm()->resetToDefaults();
    window_->curvesView()->setRanges(11, 0.01, 1.0, 6);
    window_->show();
    log_.attach(window_->controller(), this);
    QSignalSpy loaded(window_->controller(), &EngineController::modelLoaded);
    QSignalSpy evaluated(window_->controller(), &EngineController::modelEvaluated);
    window_->openFiles({a_, b_});
    QVERIFY(waitFor(loaded, 2, 60000));
    QVERIFY(waitFor(evaluated, 2, 120000));
    FusionRequest request =
        window_->settingsForm()->settings().request(window_->modelsPanel()->first(),
                                                    window_->modelsPanel()->second());
    reference_ = otfuse::runFusion(request);
    referenceA_ = evaluateModel(window_->modelsPanel()->first(), "mnist", "");
    qInfo("reference: OT fusion %.2f %%, model A %.2f %%", reference_.summary.accuracy.at("fused"),
          referenceA_.accuracy);
  }

  void cleanupTestCase() {
    if (window_) window_->close();
    window_.reset();
    QVERIFY(EngineController::waitForDetachedWorkers(10000));
  }

  // 100 jobs of every kind, each cancelled after a random delay (0-80 ms) in one of three
  // ways: that job, everything (Esc), or cancelAll() from another thread.
  void hundredRunsCancelledAtRandomMoments() {
    if (!mnist_.isEmpty()) OTFUSE_SKIP(qPrintable(mnist_));
    std::mt19937 rng(kSeed);
    EngineController* c = window_->controller();
    int cancelled = 0, completed = 0;
    QElapsedTimer total;
    total.start();
    for (int run = 0; run < 100; ++run) {
      const int kind = int(rng() % 6), delay = int(rng() % 81), how = int(rng() % 3);
      FusionRequest request = window_->lastRequest();
      if (!request.a) request = window_->settingsForm()->settings().request(
                          window_->modelsPanel()->first(), window_->modelsPanel()->second());
      int job = -1;
      switch (kind) {
        case 0:
          job = window_->runFusion();
          break;
        case 1:
          job = c->submitEvaluate("stress", window_->modelsPanel()->second(), "mnist", "");
          break;
        case 2:
          job = window_->computeCurves("interpolation");
          break;
        case 3:
          job = window_->computeCurves("progressive");
          break;
        case 4:
          job = window_->computeCurves("epsilon");
          break;
        default:
          job = c->submitLoad(b_);
          break;
      }
      QVERIFY2(job > 0, qPrintable(QString("run %1 (kind %2) was not started").arg(run).arg(kind)));
      QSignalSpy done(c, &EngineController::jobFinished);
      QTest::qWait(delay);
      if (how == 0) {
        c->cancel(job);
      } else if (how == 1) {
        window_->cancelJobs();
      } else {
        std::thread other([c] { c->cancelAll(); });
        other.join();
      }
      QVERIFY2(log_.finished.count(job) || waitForRecorded(done, job, 60000),
               qPrintable(QString("run %1 (kind %2) never ended").arg(run).arg(kind)));
      const QString bad = log_.check(job);
      QVERIFY2(bad.isEmpty(), qPrintable(QString("run %1: %2").arg(run).arg(bad)));
      (log_.wasCancelled(job) ? cancelled : completed)++;
      // Side jobs (a load queues an evaluation) end too.
      QElapsedTimer idle;
      idle.start();
      while (c->isBusy() && idle.elapsed() < 60000) QTest::qWait(5);
      QVERIFY2(!c->isBusy(), qPrintable(QString("run %1: jobs left pending").arg(run)));
      checkUsable(QString("after run %1 (kind %2, cancelled after %3 ms)").arg(run).arg(kind).arg(delay),
                  run % 2 == 0);
      if (QTest::currentTestFailed()) return;
    }
    qInfo("100 runs (seed %u): %d cancelled mid-run, %d had completed first; %lld ms in all",
          kSeed, cancelled, completed, total.elapsed());
    QVERIFY2(cancelled >= 20, "too few runs were really cancelled to mean anything");
  }

  // 20 windows, each closed at a random moment (0-400 ms) while it loads its models,
  // evaluates them, fuses them or computes curves.
  void twentyWindowsClosedMidRun() {
    if (!mnist_.isEmpty()) OTFUSE_SKIP(qPrintable(mnist_));
    std::mt19937 rng(kSeed + 1);
    const int abandonedBefore = EngineController::abandonedTotal();
    qint64 slowest = 0;
    int cancelledJobs = 0;
    for (int w = 0; w < 20; ++w) {
      QStringList errors;
      JobLog log;
      auto other = std::make_unique<MainWindow>();
      other->setErrorHandler([&errors](const QString& t, const QString& m) { errors << t + ": " + m; });
      other->settingsForm()->resetToDefaults();
      other->curvesView()->setRanges(11, 0.01, 1.0, 6);
      other->show();
      log.attach(other->controller(), this);
      const bool curves = rng() % 2;
      QObject::connect(other.get(), &MainWindow::fusionShown, other.get(), [&, curves] {
        if (curves) other->computeCurves("all");
      });
      other->openFiles({a_, b_}, /*runWhenLoaded=*/true);
      QTest::qWait(int(rng() % 401));
      QElapsedTimer t;
      t.start();
      QVERIFY(other->close());
      other.reset();
      const qint64 ms = t.elapsed();
      slowest = std::max(slowest, ms);
      QVERIFY2(ms < 2000, qPrintable(QString("window %1 took %2 ms to close").arg(w).arg(ms)));
      for (const auto& [job, n] : log.finished) {
        const QString bad = log.check(job);
        QVERIFY2(bad.isEmpty(), qPrintable(QString("window %1: %2").arg(w).arg(bad)));
        cancelledJobs += log.wasCancelled(job);
      }
      QVERIFY2(errors.isEmpty(), qPrintable(errors.join("\n")));
      checkUsable(QString("after closing window %1").arg(w), w % 2 == 0);
      if (QTest::currentTestFailed()) return;
    }
    qInfo("20 windows closed mid-run: slowest close %lld ms, %d jobs ended cancelled", slowest,
          cancelledJobs);
    QCOMPARE(EngineController::abandonedTotal(), abandonedBefore);
    QCOMPARE(EngineController::detachedWorkers(), 0);
  }
};

OTFUSE_TEST_MAIN_GUI(TestStress)
#include "test_stress.moc"
