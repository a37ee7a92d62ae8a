// The "Sweep…" dialog (issue 10, section 5): a sweep run here on the dialog's worker thread
// shows the table `otfuse collect DIR` computes (mean ± std per configuration) and error bars
// of exactly those numbers; Export jobs writes one command per point and the Slurm script;
// Cancel stops the sweep leaving only complete result files.
// Screenshot: OTFUSE_SWEEP_SCREENSHOT=FILE saves the dialog after the run (with
// OTFUSE_SWEEP_MODELS=A,B it sweeps those model files instead of the test's tiny MLPs).
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <qcustomplot.h>

#include "common/otfuse_test.h"
#include "otfuse/engine/engine.h"
#include "otfuse/engine/sweep.h"
#include "studio_test_support.h"
#include "sweep/sweep_dialog.h"

using namespace otfuse;
using namespace otfuse::ui;
using namespace studio_test;

class TestSweepDialog : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString a_, b_, mnist_;

 private slots:
  void initTestCase() {
    otfuse::initRuntime();
    QVERIFY(dir_.isValid());
    mnist_ = mnistMissing();
    if (!mnist_.isEmpty()) return;
    const QStringList given = qEnvironmentVariable("OTFUSE_SWEEP_MODELS").split(',', Qt::SkipEmptyParts);
    if (given.size() == 2) {
      a_ = given[0];
      b_ = given[1];
      return;
    }
    a_ = makeModel(dir_, "a.pt", "mlp:32", 0, 1, 2000);
    b_ = makeModel(dir_, "b.pt", "mlp:32", 1, 1, 2000);
  }

  // The axes give the number of points before anything runs; bad values say what is wrong.
  void pointCountAndBadAxes() {
    SweepDialog d;
    d.setModels("/nonexistent/a.pt", "/nonexistent/b.pt");
    d.setAxes("weights,activations", "exact,sinkhorn", "0.01,0.05", "0.5", "0,1,2");
    QVERIFY(d.findChild<QLabel*>() != nullptr);
    bool found = false;
    for (QLabel* l : d.findChildren<QLabel*>())
      if (l->text() == "18 points") found = true;  // 2 modes x (1 + 2 eps) x 3 seeds
    QVERIFY(found);
    d.setAxes("weights", "exact", "0.01", "0.5", "0,x");
    QSignalSpy done(&d, &SweepDialog::sweepFinished);
    QVERIFY(!d.start());
    QCOMPARE(done.count(), 1);
    QVERIFY(done.at(0).at(1).toString().contains("not a number"));
  }

  void runShowsCollectedTableWithErrorBars() {
    if (!mnist_.isEmpty()) OTFUSE_SKIP(qPrintable(mnist_));
    SweepDialog d;
    const QString out = dir_.filePath("sweep");
    d.setModels(a_, b_);
    d.setAxes("weights,activations", "exact,sinkhorn", qEnvironmentVariable("OTFUSE_SWEEP_EPS", "0.05"),
              "0.5", "0,1,2");
    d.setSamples(qEnvironmentVariableIsSet("OTFUSE_SWEEP_MODELS") ? 200 : 50);
    d.setOutputDir(out);
    d.show();
    QSignalSpy done(&d, &SweepDialog::sweepFinished);
    QVERIFY(d.start());
    QVERIFY(waitFor(done, 1, 600000));
    QVERIFY2(done.at(0).at(0).toBool(), qPrintable(done.at(0).at(1).toString()));
    // What collect reads from the folder, number for number.
    const CollectResult collected = collectResults(out.toStdString());
    QCOMPARE(collectTableJson(d.result()), collectTableJson(collected));
    QCOMPARE(int(collected.configs.size()), 4);
    QCOMPARE(d.table()->rowCount(), 4);
    for (int i = 0; i < 4; ++i) {
      QCOMPARE(d.table()->item(i, 1)->text(), QString("3"));
      const auto& fused = collected.configs[size_t(i)].rows.back();
      QCOMPARE(fused.key, std::string("fused"));
      QCOMPARE(d.table()->item(i, 6)->text(),
               QString("%1 ± %2").arg(fused.accuracyMean, 0, 'f', 2).arg(*fused.accuracyStd, 0, 'f', 2));
    }
    // Error bars: one per configuration and series, of the collected std.
    QList<QCPErrorBars*> bars;
    for (int i = 0; i < d.plot()->plottableCount(); ++i)
      if (auto* b = qobject_cast<QCPErrorBars*>(d.plot()->plottable(i))) bars << b;
    QCOMPARE(bars.size(), 3);  // ensemble, vanilla, OT fusion
    QCPErrorBars* fusedBars = bars.back();
    QCOMPARE(fusedBars->dataCount(), 4);
    for (int i = 0; i < 4; ++i)
      QCOMPARE(fusedBars->data()->at(i).errorPlus, *collected.configs[size_t(i)].rows.back().accuracyStd);
    d.setPlotVanilla(false);  // the table keeps it; the plot zooms onto the others
    int graphs = 0;
    for (int i = 0; i < d.plot()->plottableCount(); ++i)
      graphs += qobject_cast<QCPErrorBars*>(d.plot()->plottable(i)) != nullptr;
    QCOMPARE(graphs, 2);
    QCOMPARE(d.table()->item(0, 5)->text().isEmpty(), false);
    if (const QString shot = qEnvironmentVariable("OTFUSE_SWEEP_SCREENSHOT"); !shot.isEmpty()) {
      QApplication::processEvents();
      d.plot()->replot();
      QVERIFY(d.grab().save(shot, "PNG"));
    }
  }

  void exportJobsWritesOneCommandPerPoint() {
    if (!mnist_.isEmpty()) OTFUSE_SKIP(qPrintable(mnist_));
    SweepDialog d;
    d.setModels(a_, b_);
    d.setAxes("weights", "exact,sinkhorn", "0.01,0.05", "0.5", "0,1");
    d.setOutputDir(dir_.filePath("jobs_out"));
    const QString file = dir_.filePath("jobs.txt");
    QCOMPARE(d.exportJobs(file), QString());
    QFile f(file);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 6);  // (exact + 2 eps) x 2 seeds
    for (const QString& l : lines) QVERIFY(l.startsWith("OTFUSE_THREADS=1 ") && l.contains(" fuse "));
    QFile s(file + ".sbatch");
    QVERIFY(s.open(QIODevice::ReadOnly));
    QVERIFY(s.readAll().contains("#SBATCH --array=1-6"));
  }

  void cancelLeavesOnlyCompleteResults() {
    if (!mnist_.isEmpty()) OTFUSE_SKIP(qPrintable(mnist_));
    SweepDialog d;
    const QString out = dir_.filePath("cancel");
    d.setModels(a_, b_);
    d.setAxes("activations", "sinkhorn", "0.01", "0.5", "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19");
    d.setSamples(50);
    d.setOutputDir(out);
    QSignalSpy done(&d, &SweepDialog::sweepFinished);
    QVERIFY(d.start());
    QTRY_VERIFY_WITH_TIMEOUT(QDir(out).entryList({"*.json"}, QDir::Files).size() >= 1, 120000);
    d.cancel();
    QVERIFY(waitFor(done, 1, 120000));
    QCOMPARE(done.at(0).at(0).toBool(), false);
    QCOMPARE(done.at(0).at(1).toString(), QString("cancelled"));
    const QStringList all = QDir(out).entryList(QDir::Files | QDir::Hidden);
    QVERIFY(all.size() < 20);
    for (const QString& f : all) QVERIFY2(f.endsWith(".json") && !f.startsWith('.'), qPrintable(f));
    QCOMPARE(size_t(all.size()), collectResults(out.toStdString()).files);  // every one parses
  }
};

OTFUSE_TEST_MAIN_GUI(TestSweepDialog)
#include "test_sweep_dialog.moc"
