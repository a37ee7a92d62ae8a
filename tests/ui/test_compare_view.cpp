// The Compare tab (issue 11): engine runCompare on two small MNIST MLPs, fed point by point
// into the CompareView as the app does; what the table, curves and agreement say must follow
// from the definitions (endpoints of permutation methods are model A, barrier formula,
// REPAIR at t = 0 changes nothing). Skipped without MNIST.
#include <qcustomplot.h>
#include <QApplication>
#include <QComboBox>
#include <QtTest>

#include <cmath>

#include "common/otfuse_test.h"
#include "compare/compare_view.h"
#include "heatmap/plan_heatmap_view.h"
#include "matching/neuron_matching_view.h"
#include "main_window/main_window.h"
#include "settings/settings_form.h"
#include "worker/engine_controller.h"
#include "otfuse/engine/compare.h"
#include "ui/studio_test_support.h"
#include "otfuse/error.h"

using namespace otfuse;
using namespace otfuse::ui;
using studio_test::mnistMissing;

class TestCompareView : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { initRuntime(); }

  void compareFeedsTheView() {
    if (const QString why = mnistMissing(); !why.isEmpty()) OTFUSE_SKIP(qPrintable(why));
    CompareRequest r;
    for (int k = 0; k < 2; ++k) {
      TrainRequest t;
      t.spec = "mlp:32-16,bias";
      t.seed = uint64_t(k + 3);
      t.epochs = 1;
      t.limit = 2000;
      (k == 0 ? r.a : r.b) = trainNewModel(t);
    }
    r.dataset = "mnist";
    r.points = 5;
    r.samples = 100;
    r.repairBatches = 2;
    CompareView view;
    view.resize(1300, 800);
    int points = 0;
    CompareOutcome out = runCompare(r, [&](const std::string& s, const CurvePoint& p) {
      view.addPoint(QString::fromStdString(s), p);
      ++points;
    });
    view.setOutcome(out);
    const int methods = int(compareMethods().size());
    QCOMPARE(int(out.rows.size()), 2 * methods);
    QCOMPARE(points, 2 * methods * r.points);
    QCOMPARE(view.graphCount(), 2 * methods);
    QCOMPARE(view.tableRows(), 2 * methods);
    QCOMPARE(out.agreement.rows(), Eigen::Index(methods));
    for (int i = 0; i < methods; ++i) QCOMPARE(out.agreement(i, i), 1.0);
    QCOMPARE(out.correction, std::string("REPAIR (exact)"));
    for (const CompareRow& row : out.rows) {
      QVERIFY2(row.error.empty(), row.error.c_str());
      QCOMPARE(int(row.curve.size()), r.points);
      // Methods with hard permutations: t = 0 is model A itself (REPAIR at t = 0 resets the
      // statistics to A's own: a no-op up to rounding).
      if (row.method != "ot-sinkhorn")
        QVERIFY2(std::abs(row.curve.front().accuracy - out.a.accuracy) < 0.05, row.label.c_str());
      QVERIFY(std::abs(row.curve.back().accuracy - out.b.accuracy) < 0.05);
      double barrier = -1e300;
      for (const auto& p : row.curve)
        barrier = std::max(barrier, p.loss - ((1 - p.x) * out.a.loss + p.x * out.b.loss));
      QCOMPARE(row.barrier, barrier);
      QCOMPARE(row.accuracy, row.curve[2].accuracy);  // t = 0.5 is the middle of 5 points
    }
    // The view switches to loss without losing points.
    view.setShowLoss(true);
    QCOMPARE(view.graphCount(), 2 * methods);
    QCOMPARE(view.plots().front()->graph(0)->dataCount(), r.points);
  }

  // The tab in the window: two models opened, "Compare methods" runs on the worker and fills
  // the table and the plot as points arrive.
  void compareTabRunsOnTheWorker() {
    if (const QString why = mnistMissing(); !why.isEmpty()) OTFUSE_SKIP(qPrintable(why));
    QStandardPaths::setTestModeEnabled(true);
    QTemporaryDir dir;
    QStringList paths;
    for (int k = 0; k < 2; ++k)
      paths << studio_test::makeModel(dir, QString("m%1.pt").arg(k), "mlp:24,bias", uint64_t(k + 7), 1, 1500);
    QStringList errors;
    MainWindow w;
    w.setErrorHandler([&](const QString& t, const QString& m) { errors << t + ": " + m; });
    w.settingsForm()->resetToDefaults();
    w.show();
    QSignalSpy loaded(w.controller(), &EngineController::modelLoaded);
    w.openFiles(paths);
    QVERIFY(studio_test::waitFor(loaded, 2, 120000));
    QTest::qWait(50);
    QSignalSpy points(w.controller(), &EngineController::jobStarted);
    const int job = w.runComparison();
    QVERIFY(job > 0);
    QVERIFY2(studio_test::waitForJob(w.controller(), job, 600000), "the comparison did not finish");
    QTest::qWait(200);  // the queued outcome
    QVERIFY2(errors.isEmpty(), qPrintable(errors.join("\n")));
    const int methods = int(compareMethods().size());
    QCOMPARE(w.compareView()->tableRows(), 2 * methods);
    QCOMPARE(w.compareView()->graphCount(), 2 * methods);
    QCOMPARE(w.compareView()->plots().front()->graph(0)->dataCount(), 25);

    // Every method's maps can be drawn in the plan and matching views, with a note saying
    // whose; the plan drawn is that method's (weight matching: a permutation, 1/n per row).
    QCOMPARE(w.compareView()->mapMethods().size(), methods);
    auto* heatmap = w.findChild<PlanHeatmapView*>();
    auto* matching = w.findChild<NeuronMatchingView*>();
    QVERIFY(heatmap && matching);
    QVERIFY(!heatmap->outcome());  // no fusion run yet
    QVERIFY(!w.showCompareMaps("no-such-method"));
    QVERIFY(!heatmap->outcome());
    QSignalSpy shown(w.compareView(), &CompareView::showMapsRequested);
    w.compareView()->requestMaps("weight-matching");  // as the button does
    QCOMPARE(shown.count(), 1);
    QVERIFY(heatmap->outcome());
    QVERIFY2(heatmap->sourceNote().contains("Weight matching"), qPrintable(heatmap->sourceNote()));
    QCOMPARE(matching->sourceNote(), heatmap->sourceNote());
    const LayerResult& l = heatmap->shownLayers().front();
    QCOMPARE(l.plan.rows(), Eigen::Index(24));
    QCOMPARE(l.massOnBest, 1.0);
    for (Eigen::Index i = 0; i < l.plan.rows(); ++i)
      QVERIFY(std::abs(l.plan.row(i).maxCoeff() - 1.0 / 24) < 1e-12);
    // The matching view draws it without a fused model (A's and B's images only).
    matching->selectNeuron(3);
    QVERIFY(!matching->imageA().isNull());
    QVERIFY(matching->imageFused().isNull());
    // The exported plans are the ones shown.
    QTemporaryDir out;
    const QStringList files = w.exportPlansTo(out.path());
    QVERIFY(!files.isEmpty());
    QFile first(files.front());
    QVERIFY(first.open(QIODevice::ReadOnly));
    const QStringList row = QString::fromUtf8(first.readLine()).trimmed().split(',');
    QCOMPARE(row.size(), 24);
    int nonZero = 0;
    for (const QString& v : row)
      if (v.toDouble() != 0) {
        ++nonZero;
        QVERIFY2(std::abs(v.toDouble() - 1.0 / 24) < 1e-6, qPrintable(v));
      }
    QCOMPARE(nonZero, 1);  // a permutation's row, not a soft OT plan
    // A fusion run brings the fusion's own plans back and drops the note.
    const int fusion = w.runFusion();
    QVERIFY(fusion > 0);
    QVERIFY(studio_test::waitForJob(w.controller(), fusion, 600000));
    QTest::qWait(200);
    QVERIFY(heatmap->sourceNote().isEmpty());
    QVERIFY(matching->sourceNote().isEmpty());
    w.close();
  }

  void unknownMethodRefused() {
    CompareRequest r;
    TrainRequest t;
    t.spec = "mlp:8";
    t.epochs = 0;
    r.a = r.b = trainNewModel(t);
    r.methods = {"no-such-method"};
    bool threw = false;
    try {
      runCompare(r);
    } catch (const Error& e) {
      threw = QString(e.what()).contains("unknown method");
    }
    QVERIFY(threw);
  }
};

OTFUSE_TEST_MAIN_GUI(TestCompareView)
#include "test_compare_view.moc"
