// Drives the real OTFuse Studio main window (issue 4, "Done when"): opens the paper's two MNIST
// MLPNets, runs a fusion on the worker and checks that what the views hold equals what the core
// computes when called directly; checks cancel, a corrupt file, and the UI thread's latency
// during a real run. Runs offscreen (CTest sets QT_QPA_PLATFORM=offscreen).
#include <qcustomplot.h>
#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include "common/otfuse_test.h"

#include <memory>

#include "curves/curves_view.h"
#include "heatmap/plan_heatmap_view.h"
#include "main_window/main_window.h"
#include "matching/neuron_matching_view.h"
#include "models_panel/models_panel.h"
#include "otfuse/engine/engine.h"
#include "results/results_view.h"
#include "settings/settings_form.h"

using namespace otfuse;
using namespace otfuse::ui;

namespace {

QString modelPath(int i) {
  return otfuse::test::sharedDir() + QString("/models/paper-mnist-mlpnet/model_%1.pt").arg(i);
}

// Where `otfuse data list` looks for MNIST (the core's resolveDataDir).
bool mnistAvailable(QString* where) {
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

// Waits until `spy` holds at least `count` signals (QSignalSpy::wait per signal).
bool waitFor(QSignalSpy& spy, int count, int timeoutMs) {
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
bool waitForJob(EngineController* c, int job, int timeoutMs) {
  QSignalSpy spy(c, &EngineController::jobFinished);
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

}  // namespace

class TestStudio : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<MainWindow> window_;
  QStringList errors_;

  // Why a test cannot run (empty: it can). QSKIP must be called in the test function itself.
  QString modelsMissing() const {
    return window_ && window_->modelsPanel()->count() >= 2
               ? QString()
               : QString("the paper's models were not opened (see openPaperModels)");
  }
  static QString paperDataMissing() {
    if (!QFile::exists(modelPath(0)) || !QFile::exists(modelPath(1)))
      return "the paper's MNIST models are not available at " + modelPath(0);
    QString where;
    if (!mnistAvailable(&where))
      return "MNIST is not installed where the core looks for it (" + where +
             "); run ./run.sh build to download it";
    return {};
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("OTFuseTest");
    QCoreApplication::setApplicationName("test_studio");
    otfuse::initRuntime();
    window_ = std::make_unique<MainWindow>();
    window_->setErrorHandler([this](const QString& title, const QString& message) {
      errors_ << title + ": " + message;
    });
    // Paper defaults, plus small curve ranges to keep the test short.
    window_->settingsForm()->resetToDefaults();
    window_->curvesView()->setRanges(3, 0.1, 1.0, 2);
    window_->show();
  }

  void cleanupTestCase() {
    if (window_) window_->close();
    window_.reset();
  }

  // Needs no data: a layer larger than the display limit is block-downsampled for display
  // while the read-out keeps the exact values; the diagonal order undoes a permutation.
  void largePlanIsDownsampledForDisplayOnly() {
    const int n = 1500;
    auto outcome = std::make_shared<FusionOutcome>();
    LayerResult l;
    l.name = "big";
    l.plan = ot::Matrix::Zero(n, n);
    l.cost = ot::Matrix::Constant(n, n, 1.0);
    for (int i = 0; i < n; ++i) {
      const int j = (i * 7 + 3) % n;  // a permutation (7 and 1500 are coprime)
      l.plan(i, j) = 1.0 / n;
      l.cost(i, j) = 0.25 + 1e-6 * i;
    }
    l.mu = ot::Vector::Constant(n, 1.0 / n);
    l.nu = ot::Vector::Constant(n, 1.0 / n);
    outcome->layers.push_back(l);
    PlanHeatmapView view;
    view.resize(900, 700);
    view.setOutcome(outcome);
    QCPColorMapData* data = view.planMap()->data();
    QCOMPARE(data->keySize(), PlanHeatmapView::kMaxDisplay);
    QCOMPARE(data->valueSize(), PlanHeatmapView::kMaxDisplay);
    double shownMax = 0;
    for (int c = 0; c < data->keySize(); ++c) shownMax = std::max(shownMax, data->cell(c, 0));
    QCOMPARE(shownMax, 1.0 / n);  // block maximum keeps single entries visible
    // Exact read-out at display row 10 / column (10 * 7 + 3) % n.
    const QString text = view.readout((10 * 7 + 3) % n, 10);
    QVERIFY2(text.contains("i = 10") && text.contains("cost M[i,j] = 0.25001"), qPrintable(text));
    view.setReorder(true);
    const auto& order = view.rowOrder();
    for (int k = 0; k < n; ++k) QCOMPARE((order[size_t(k)] * 7 + 3) % n, k);
  }

  // BatchNorm runs add two rows (re-estimated statistics); other runs do not show them.
  void batchNormRowsOnlyWhenComputed() {
    ResultsView view;
    FusionSummary s;
    const char* base[] = {"model_0", "model_1", "ensemble", "vanilla", "fused"};
    for (int i = 0; i < 5; ++i) {
      s.accuracy[base[i]] = 10.0 + i;
      s.loss[base[i]] = 1.0 + i;
    }
    auto hiddenRows = [&] {
      int hidden = 0;
      for (int r = 0; r < view.table()->rowCount(); ++r) hidden += view.table()->isRowHidden(r);
      return hidden;
    };
    view.setSummary(s);
    QCOMPARE(hiddenRows(), 2);
    QVERIFY(qIsNaN(view.tableAccuracy("fused_bn")));
    const int shortHeight = view.table()->height();
    s.accuracy["fused_bn"] = 42.5;
    s.loss["fused_bn"] = 0.75;
    s.accuracy["vanilla_bn"] = 20.25;
    s.loss["vanilla_bn"] = 2.5;
    view.setSummary(s);
    QCOMPARE(hiddenRows(), 0);
    QCOMPARE(view.tableAccuracy("fused_bn"), 42.5);
    QCOMPARE(view.tableLoss("vanilla_bn"), 2.5);
    QVERIFY(view.table()->height() > shortHeight);
    // The bar chart has one bar per shown row.
    QCOMPARE(view.plots().front()->plottableCount(), 7);
    view.clear();
    QCOMPARE(hiddenRows(), 2);
  }

  void openPaperModels() {
    if (const QString why = paperDataMissing(); !why.isEmpty()) OTFUSE_SKIP(qPrintable(why));
    QSignalSpy loaded(window_->controller(), &EngineController::modelLoaded);
    QSignalSpy evaluated(window_->controller(), &EngineController::modelEvaluated);
    window_->openFiles({modelPath(0), modelPath(1)});
    QVERIFY2(waitFor(loaded, 2, 60000), "the two models did not load within a minute");
    QCOMPARE(window_->modelsPanel()->count(), 2);
    QVERIFY2(window_->modelsPanel()->incompatibility().isEmpty(),
             qPrintable(window_->modelsPanel()->incompatibility()));
    QCOMPARE(QString::fromStdString(window_->modelsPanel()->first()->architecture),
             QString("mlpnet"));
    // Test accuracies are computed in the background and equal the core's.
    QVERIFY2(waitFor(evaluated, 2, 120000), "the test accuracies did not arrive");
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join("\n")));
    for (int i = 0; i < 2; ++i) {
      const QString path = QFileInfo(modelPath(i)).absoluteFilePath();
      auto score = window_->modelsPanel()->score(path);
      QVERIFY(score.has_value());
      const Score core = evaluateModel(window_->modelsPanel()->model(path), "mnist", "");
      QCOMPARE(score->accuracy, core.accuracy);
      QVERIFY(score->accuracy > 97.0);
    }
  }

  // A real run: the heatmap holds exactly the core's plans, the results table the core's
  // numbers, and the UI thread never stalls for 50 ms while the worker computes.
  void fusionMatchesCoreAndStaysResponsive() {
    if (const QString why = modelsMissing(); !why.isEmpty()) OTFUSE_SKIP(qPrintable(why));
    QSignalSpy finished(window_->controller(), &EngineController::fusionFinished);
    QElapsedTimer clock;
    qint64 last = -1, maxGap = 0;
    QTimer ticker;
    ticker.setInterval(10);
    connect(&ticker, &QTimer::timeout, this, [&] {
      const qint64 now = clock.elapsed();
      if (last >= 0) maxGap = std::max(maxGap, now - last);
      last = now;
    });
    clock.start();
    ticker.start();
    const int job = window_->runFusion();
    QVERIFY(job > 0);
    QVERIFY2(waitFor(finished, 1, 300000), "no fusion result within 5 minutes");
    // Include the views' handling of the result in the measurement.
    QTest::qWait(300);
    ticker.stop();
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join("\n")));
    qInfo("largest gap between 10 ms timer events during the run: %lld ms", maxGap);
    QVERIFY2(maxGap < 50 * otfuse::test::timeScale(),
             qPrintable(QString("UI event loop stalled for %1 ms").arg(maxGap)));

    OutcomePtr shown = window_->outcome();
    QVERIFY(shown);
    const FusionOutcome core = otfuse::runFusion(window_->lastRequest());
    QCOMPARE(shown->layers.size(), core.layers.size());
    PlanHeatmapView* heatmap = window_->heatmapView();
    heatmap->setReorder(false);
    for (int l = 0; l < int(core.layers.size()); ++l) {
      heatmap->setCurrentLayer(l);
      const ot::Matrix& plan = core.layers[size_t(l)].plan;
      QCPColorMapData* data = heatmap->planMap()->data();
      QCOMPARE(data->keySize(), int(plan.cols()));
      QCOMPARE(data->valueSize(), int(plan.rows()));
      for (int i = 0; i < plan.rows(); ++i)
        for (int j = 0; j < plan.cols(); ++j)
          if (data->cell(j, i) != plan(i, j))
            QFAIL(qPrintable(QString("layer %1: heatmap cell (%2, %3) = %4, core plan = %5")
                                 .arg(l)
                                 .arg(i)
                                 .arg(j)
                                 .arg(data->cell(j, i), 0, 'g', 17)
                                 .arg(plan(i, j), 0, 'g', 17)));
    }
    // The diagonal reordering is a row permutation of the same plan.
    heatmap->setCurrentLayer(0);
    heatmap->setReorder(true);
    const auto& order = heatmap->rowOrder();
    const ot::Matrix& plan0 = core.layers[0].plan;
    for (int k = 0; k < plan0.rows(); k += 37)
      QCOMPARE(heatmap->planMap()->data()->cell(0, k), plan0(order[size_t(k)], 0));
    heatmap->setReorder(false);

    ResultsView* results = window_->resultsView();
    QVERIFY(!core.summary.accuracy.empty());
    for (const auto& [key, acc] : core.summary.accuracy) {
      QCOMPARE(results->tableAccuracy(QString::fromStdString(key)), acc);
      QVERIFY(qAbs(results->tableLoss(QString::fromStdString(key)) - core.summary.loss.at(key)) <=
              1e-9 * (1 + qAbs(core.summary.loss.at(key))));
    }
    QVERIFY(results->tableAccuracy("fused") > 50.0);

    // Neuron matching of the first layer: MLPNet's fc1 reads 28x28 images.
    NeuronMatchingView* matching = window_->matchingView();
    matching->setCurrentLayer(0);
    matching->selectNeuron(3);
    QVERIFY2(!matching->imageA().isNull() || !matching->imageNote().isEmpty(),
             "neither a weight image nor an explanation");
  }

  void curvesMatchCore() {
    if (const QString why = modelsMissing(); !why.isEmpty()) OTFUSE_SKIP(qPrintable(why));
    CurvesView* curves = window_->curvesView();
    const int last = window_->computeCurves("all");
    QVERIFY(last > 0);
    QVERIFY2(waitForJob(window_->controller(), last, 600000), "curves did not finish");
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join("\n")));

    FusionRequest request = window_->lastRequest();
    request.evaluate = false;
    QMap<QString, QVector<CurvePoint>> core;
    auto collect = [&](const QString& curve) {
      return [&core, curve](const std::string& series, const CurvePoint& p) {
        core[curve + "/" + QString::fromStdString(series)].append(p);
      };
    };
    interpolationCurve(request, curves->interpolationPoints(), collect("interpolation"));
    progressiveCurve(request, collect("progressive"));
    epsilonCurve(request, curves->epsilonFrom(), curves->epsilonTo(), curves->epsilonPoints(),
                 collect("epsilon"));
    QVERIFY(core.contains("interpolation/aligned"));
    QVERIFY(core.contains("progressive/progressive"));
    QVERIFY(core.contains("epsilon/sinkhorn"));
    for (auto it = core.begin(); it != core.end(); ++it) {
      const QString curve = it.key().section('/', 0, 0), series = it.key().section('/', 1);
      const QVector<CurvePoint> shown = curves->points(curve, series);
      QCOMPARE(shown.size(), it.value().size());
      for (int k = 0; k < shown.size(); ++k) {
        QCOMPARE(shown[k].x, it.value()[k].x);
        QCOMPARE(shown[k].accuracy, it.value()[k].accuracy);
      }
      if (series != "exact") QCOMPARE(curves->drawnPoints(curve, series), int(shown.size()));
    }
  }

  void cancelMidRunKeepsAppUsable() {
    if (const QString why = modelsMissing(); !why.isEmpty()) OTFUSE_SKIP(qPrintable(why));
    EngineController* c = window_->controller();
    QSignalSpy progress(c, &EngineController::progress);
    QSignalSpy cancelled(c, &EngineController::jobCancelled);
    QSignalSpy finished(c, &EngineController::fusionFinished);
    QSignalSpy jobDone(c, &EngineController::jobFinished);
    const int job = window_->runFusion();
    QVERIFY(job > 0);
    QVERIFY2(waitFor(progress, 1, 60000), "the run reported no progress");
    QVERIFY2(finished.isEmpty(), "the run finished before it could be cancelled");
    QElapsedTimer t;
    t.start();
    window_->cancelJobs();
    QVERIFY2(waitFor(cancelled, 1, 10000), "the run was not cancelled");
    const qint64 ms = t.elapsed();
    qInfo("cancelled %lld ms after the request", ms);
    QCOMPARE(cancelled.first().at(0).toInt(), job);
    QVERIFY2(ms < 500 * otfuse::test::timeScale(),
             qPrintable(QString("cancel took %1 ms").arg(ms)));
    QVERIFY(finished.isEmpty());
    QVERIFY(errors_.isEmpty());
    // Still usable: a new run completes.
    QVERIFY(waitFor(jobDone, 1, 5000));
    QCOMPARE(jobDone.last().at(0).toInt(), job);
    QVERIFY(!c->isBusy());
    const int again = window_->runFusion();
    QVERIFY(again > 0);
    QVERIFY2(waitFor(finished, 1, 300000), "a run after the cancel did not finish");
  }

  void corruptModelShowsErrorAndAppStaysUsable() {
    if (const QString why = modelsMissing(); !why.isEmpty()) OTFUSE_SKIP(qPrintable(why));
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString broken = dir.filePath("broken_model.pt");
    {
      QFile f(broken);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(QByteArray("PK\x03\x04 this is not a model, just some bytes"));
    }
    errors_.clear();
    QSignalSpy reported(window_.get(), &MainWindow::errorReported);
    window_->openFiles({broken});
    QVERIFY2(waitFor(reported, 1, 30000), "no error was reported for a corrupt file");
    QCOMPARE(errors_.size(), 1);
    QVERIFY2(errors_.first().contains("broken_model.pt"), qPrintable(errors_.first()));
    QCOMPARE(window_->modelsPanel()->count(), 2);
    errors_.clear();
    // Still usable.
    const int job = window_->computeCurves("progressive");
    QVERIFY(job > 0);
    QVERIFY(waitForJob(window_->controller(), job, 120000));
    QVERIFY(!window_->curvesView()->points("progressive", "progressive").isEmpty());
    QVERIFY(errors_.isEmpty());
  }

  void exportsWriteFiles() {
    if (const QString why = modelsMissing(); !why.isEmpty()) OTFUSE_SKIP(qPrintable(why));
    QVERIFY(window_->outcome());
    QTemporaryDir dir;
    const QString model = dir.filePath("fused.pt");
    QVERIFY(window_->exportModelTo(model));
    ModelPtr reread = loadModel(model.toStdString());
    QCOMPARE(QString::fromStdString(reread->architecture), QString("mlpnet"));
    QCOMPARE(reread->parameters, window_->outcome()->fused->parameters);
    const QStringList plans = window_->exportPlansTo(dir.filePath("plans"));
    QCOMPARE(plans.size(), int(window_->outcome()->layers.size()));
    QVERIFY(window_->exportReportTo(dir.filePath("report.json")));
    QFile report(dir.filePath("report.json"));
    QVERIFY(report.open(QIODevice::ReadOnly));
    QVERIFY(report.readAll().contains("\"fused\""));
    window_->tabs()->setCurrentWidget(window_->curvesView());
    QCOMPARE(window_->exportPlotsTo(dir.filePath("curves.pdf")).size(), 4);
    window_->tabs()->setCurrentWidget(window_->heatmapView());
    const QStringList pngs = window_->exportPlotsTo(dir.filePath("plan.png"));
    QCOMPARE(pngs.size(), 3);
    QVERIFY(!QImage(pngs.first()).isNull());
    QVERIFY(errors_.isEmpty());
  }

  // Closing the window during a run cancels it and returns promptly.
  void closeDuringRunCancels() {
    if (const QString why = modelsMissing(); !why.isEmpty()) OTFUSE_SKIP(qPrintable(why));
    auto other = std::make_unique<MainWindow>();
    QSignalSpy loaded(other->controller(), &EngineController::modelLoaded);
    QSignalSpy progress(other->controller(), &EngineController::progress);
    other->openFiles({modelPath(0), modelPath(1)}, /*runWhenLoaded=*/true);
    QVERIFY(waitFor(loaded, 2, 60000));
    QVERIFY(waitFor(progress, 1, 60000));
    QElapsedTimer t;
    t.start();
    QVERIFY(other->close());
    other.reset();
    qInfo("closed %lld ms after the request", t.elapsed());
    QVERIFY(t.elapsed() < 2000);
  }

  void sessionRoundTrip() {
    if (const QString why = modelsMissing(); !why.isEmpty()) OTFUSE_SKIP(qPrintable(why));
    QTemporaryDir dir;
    const QString path = dir.filePath("s.otfuse.json");
    window_->saveSession(path);
    SessionFile s = SessionFile::load(path);
    QCOMPARE(s.models.size(), 2);
    QVERIFY(s.results.has_value());
    QCOMPARE(s.results->accuracy.at("fused"), window_->outcome()->summary.accuracy.at("fused"));
    QCOMPARE(s.settings.options.epsilon, 0.01);
    QVERIFY(s.settings.anchorIsSecond);

    // Reopening it in a fresh window restores the models, the pair and the results summary.
    MainWindow other;
    other.setErrorHandler([this](const QString& t, const QString& m) { errors_ << t + ": " + m; });
    QSignalSpy loaded(other.controller(), &EngineController::modelLoaded);
    other.openSession(path);
    QVERIFY(waitFor(loaded, 2, 60000));
    QCOMPARE(other.modelsPanel()->count(), 2);
    QCOMPARE(other.modelsPanel()->firstIndex(), s.first);
    QCOMPARE(other.modelsPanel()->secondIndex(), s.second);
    QVERIFY(other.modelsPanel()->incompatibility().isEmpty());
    QCOMPARE(other.resultsView()->tableAccuracy("fused"), s.results->accuracy.at("fused"));
    QVERIFY(errors_.isEmpty());
    other.controller()->shutdown();
  }
};

OTFUSE_TEST_MAIN_GUI(TestStudio)
#include "test_studio.moc"
