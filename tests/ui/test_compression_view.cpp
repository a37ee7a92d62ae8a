// The Compression tab (ui/compression): points reach the plot and the table (dashed before,
// solid after fine-tuning, one row per width x method), bad widths are refused before anything
// is queued, a run from the main window (Run ▸ Compression…) fills every point through the
// worker and exports its plot, and cancel stops a run and re-enables Run. The run cases need
// MNIST (two mlp:64-32 trained here on 2,000 images) and are skipped without it.
#include <qcustomplot.h>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

#include "common/otfuse_test.h"
#include "compression/compression_view.h"
#include "main_window/main_window.h"
#include "models_panel/models_panel.h"
#include "ui/studio_test_support.h"

using namespace otfuse;
using namespace otfuse::ui;
using namespace studio_test;

namespace {

CompressionPoint point(double width, const std::string& method, double before, double after) {
  CompressionPoint p;
  p.width = width;
  p.method = method;
  p.architecture = "mlp:" + std::to_string(int(64 * width));
  p.parameters = int64_t(1000 * width);
  p.before = before;
  p.after = after;
  return p;
}

}  // namespace

class TestCompressionView : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QStringList paths_;
  QString mnist_;
  std::unique_ptr<MainWindow> window_;
  QStringList errors_;

  bool openPair() {
    if (window_) return true;
    window_ = std::make_unique<MainWindow>();
    window_->setErrorHandler([this](const QString& t, const QString& m) { errors_ << t + ": " + m; });
    window_->resize(1200, 860);
    QSignalSpy loaded(window_->controller(), &EngineController::modelLoaded);
    window_->openFiles(paths_);
    if (!waitFor(loaded, 2, 60000)) return false;
    window_->modelsPanel()->setFusionSet({0, 1}, 1);
    return true;
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("OTFuseTest");
    QCoreApplication::setApplicationName("test_compression_view");
    QSettings().clear();
    otfuse::initRuntime();
    mnist_ = mnistMissing();
    if (!mnist_.isEmpty()) return;
    for (int k = 0; k < 2; ++k)
      paths_ << makeModel(dir_, QString("p%1.pt").arg(k), "mlp:64-32", uint64_t(k + 1), 2, 2000);
  }

  void cleanupTestCase() {
    if (window_) window_->close();
    window_.reset();
    QVERIFY(EngineController::waitForDetachedWorkers(10000));
  }

  // ---- no data needed ----

  void pointsReachThePlotAndTheTable() {
    CompressionView view(nullptr);
    QCOMPARE(view.drawnPoints("fusion", false), 0);
    for (double w : {1.0, 0.5})
      for (const char* m : {"fusion", "pruning", "scratch"}) view.addPoint(point(w, m, 80 * w, -1));
    QCOMPARE(view.drawnPoints("fusion", false), 2);
    QCOMPARE(view.drawnPoints("fusion", true), 0);  // not fine-tuned yet
    QCOMPARE(view.table()->rowCount(), 6);
    QCOMPARE(view.table()->item(0, 5)->text(), QString("…"));
    // The complete report replaces the partial one (no new row).
    view.addPoint(point(0.5, "pruning", 40, 60));
    QCOMPARE(view.table()->rowCount(), 6);
    QCOMPARE(view.drawnPoints("pruning", true), 1);
    QCOMPARE(view.drawnPoints("scratch", true), 0);
    QCOMPARE(view.points().size(), 6);
    // Widest first, methods in their order; the change column.
    QCOMPARE(view.table()->item(0, 0)->text(), QString("100 %"));
    QCOMPARE(view.table()->item(4, 1)->text(), QString("pruning"));
    QCOMPARE(view.table()->item(4, 6)->text(), QString("+20.00"));
    // Dashed before, solid after, labelled axes, a legend.
    QCustomPlot* plot = view.plots().value(0);
    QVERIFY(plot);
    QVERIFY(plot->legend->visible());
    QVERIFY(!plot->xAxis->label().isEmpty() && !plot->yAxis->label().isEmpty());
    for (int i = 0; i < plot->graphCount(); ++i) {
      QCPGraph* g = plot->graph(i);
      if (!g->property("method").isValid()) continue;
      QCOMPARE(g->pen().style(), g->property("after").toBool() ? Qt::SolidLine : Qt::DashLine);
    }
    view.setParents(90, 91);
    QCOMPARE(plot->axisRect(0)->graphs().size(), 8);  // 3 methods x 2 + two parent lines
    // The zoomed-in panel: the fine-tuned series and the parents, on their own scale.
    QCOMPARE(plot->axisRectCount(), 2);
    QCOMPARE(plot->axisRect(1)->graphs().size(), 5);
    QCPRange zoomed = plot->axisRect(1)->axis(QCPAxis::atLeft)->range();
    QVERIFY2(zoomed.lower > 55 && zoomed.upper < 95, qPrintable(QString("%1 %2").arg(zoomed.lower).arg(zoomed.upper)));
  }

  void badWidthsAreRefusedBeforeQueueing() {
    CompressionView view(nullptr);
    view.setWidths("1, 0");
    FusionRequest r;
    QCOMPARE(view.run(r), -1);  // no controller, no models
    if (!mnist_.isEmpty()) OTFUSE_SKIP(qPrintable(mnist_));
    QVERIFY(openPair());
    CompressionView* v = window_->compressionView();
    v->setWidths("1, 0");
    QCOMPARE(window_->runCompression(), -1);
    QVERIFY2(v->status().contains("(0, 1]"), qPrintable(v->status()));
    v->setWidths("1.5");
    QCOMPARE(window_->runCompression(), -1);
    QVERIFY(!v->isRunning());
  }

  // ---- MNIST ----

  void runFromTheMainWindowFillsEveryPoint() {
    if (!mnist_.isEmpty()) OTFUSE_SKIP(qPrintable(mnist_));
    QVERIFY(openPair());
    CompressionView* v = window_->compressionView();
    v->setWidths("1, 0.5");
    v->setFinetuneEpochs(1);
    v->setScratchEpochs(1);
    v->setLearningRate(0.05);
    v->setTrainingLimit(2000);
    QSignalSpy finished(v, &CompressionView::finished);
    const int job = window_->runCompression();
    QVERIFY(job >= 0);
    QCOMPARE(window_->tabs()->currentWidget(), static_cast<QWidget*>(v));
    QVERIFY(v->isRunning());
    QVERIFY2(waitFor(finished, 1, 300000), "the compression run did not finish");
    QCOMPARE(finished.at(0).at(0).toBool(), true);
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join("\n")));
    QCOMPARE(v->points().size(), 6);
    for (const char* m : {"fusion", "pruning", "scratch"}) {
      QCOMPARE(v->drawnPoints(m, false), 2);
      QCOMPARE(v->drawnPoints(m, true), 2);
    }
    for (const auto& p : v->points()) QVERIFY(p.after >= 0 && p.after <= 100);
    QCOMPARE(v->table()->rowCount(), 6);
    QVERIFY2(v->status().startsWith("Done"), qPrintable(v->status()));
    // File ▸ Export plots of this view writes the compression plot.
    const QString png = dir_.filePath("compression.png");
    QCOMPARE(window_->exportPlotsTo(png), QStringList{png});
    QVERIFY(QFileInfo(png).size() > 1000);
  }

  void cancelStopsARun() {
    if (!mnist_.isEmpty()) OTFUSE_SKIP(qPrintable(mnist_));
    QVERIFY(openPair());
    CompressionView* v = window_->compressionView();
    v->setWidths("1, 0.75, 0.5, 0.25");
    v->setScratchEpochs(50);
    v->setTrainingLimit(0);  // a long run: all 60,000 images
    QSignalSpy finished(v, &CompressionView::finished);
    const int job = window_->runCompression();
    QVERIFY(job >= 0);
    QVERIFY2(waitForStage(window_->controller(), job, "width", 120000), "no progress");
    QVERIFY(v->findChildren<QPushButton*>().size() >= 2);
    v->cancel();
    QVERIFY2(waitFor(finished, 1, 30000), "cancel did not stop the run");
    QCOMPARE(finished.at(0).at(0).toBool(), false);
    QCOMPARE(v->status(), QString("Cancelled."));
    QVERIFY(!v->isRunning());
    QVERIFY(v->points().size() < 12);
  }
};

OTFUSE_TEST_MAIN_GUI(TestCompressionView)
#include "test_compression_view.moc"
