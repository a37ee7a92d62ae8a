// Issue 10: the per-class view (grouped bars, confusion heatmap) and the skill-transfer tab,
// on hand-made results; and the "Skill transfer" run in the studio end to end on a tiny
// scenario (skipped without MNIST), including cancel.
#include <qcustomplot.h>
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include "common/otfuse_test.h"
#include "main_window/main_window.h"
#include "per_class/per_class_view.h"
#include "skill_transfer/skill_transfer_view.h"

using namespace otfuse;
using namespace otfuse::ui;

namespace {

// A confusion matrix with `right` correct images per class and one mistake (class c -> c+1).
Eigen::MatrixXi confusion(int classes, int right) {
  Eigen::MatrixXi m = Eigen::MatrixXi::Zero(classes, classes);
  for (int c = 0; c < classes; ++c) {
    m(c, c) = right + c;
    m(c, (c + 1) % classes) = 1;
  }
  return m;
}

std::vector<double> accuracyOf(const Eigen::MatrixXi& m) {
  std::vector<double> a;
  for (int c = 0; c < m.rows(); ++c) a.push_back(100.0 * m(c, c) / m.row(c).sum());
  return a;
}

SeedStat stat(double mean, double sd) {
  SeedStat s;
  s.mean = mean;
  s.std = sd;
  s.values = {mean - sd, mean + sd};
  return s;
}

QString mnistDir() {
  const QByteArray env = qgetenv("OTFUSE_DATA_DIR");
  QString base = !env.isEmpty() ? QString::fromLocal8Bit(env) : QString();
  if (base.isEmpty()) {
    const QByteArray xdg = qgetenv("XDG_DATA_HOME");
    base = (xdg.isEmpty() ? QDir::homePath() + "/.local/share" : QString::fromLocal8Bit(xdg)) +
           "/otfuse/datasets";
  }
  return base + "/mnist";
}

}  // namespace

class TestPerClass : public QObject {
  Q_OBJECT

 private slots:
  // A Table-1 summary: one bar per model and class with exactly the summary's numbers, in the
  // results table's order; a class without test images gets no bar; the heatmap shows the
  // chosen model's counts.
  void summaryBarsAndConfusion() {
    FusionSummary s;
    s.models = {"a.pt", "b.pt"};
    s.dataset = "mnist";
    const QStringList keys = {"model_0", "model_1", "ensemble", "vanilla", "fused"};
    for (int i = 0; i < keys.size(); ++i) {
      Eigen::MatrixXi m = confusion(4, 10 * (i + 1));
      s.confusion[keys[i].toStdString()] = m;
      s.perClassAccuracy[keys[i].toStdString()] = accuracyOf(m);
    }
    s.perClassAccuracy["vanilla"][2] = std::nan("");  // no test image of class 2
    PerClassView view;
    view.resize(1000, 500);
    view.setSummary(s, 1);
    QCOMPARE(view.seriesKeys(), keys);
    for (const QString& k : keys)
      for (int c = 0; c < 4; ++c) {
        const double expected = s.perClassAccuracy.at(k.toStdString())[size_t(c)];
        if (std::isnan(expected))
          QVERIFY(std::isnan(view.barValue(k, c)));
        else
          QCOMPARE(view.barValue(k, c), expected);
      }
    // The fused model's matrix by default, then the one chosen.
    QCOMPARE(view.confusionSeries(), int(keys.indexOf("fused")));
    QCOMPARE(view.confusionCell(3, 3), s.confusion.at("fused")(3, 3));
    view.setConfusionSeries(0);
    QCOMPARE(view.confusionCell(1, 2), 1);
    QCOMPARE(view.confusionCell(2, 2), 12);
    QCOMPARE(view.confusionCell(0, 3), 0);
    view.clear();
    QVERIFY(view.seriesKeys().isEmpty());
    QCOMPARE(view.confusionCell(0, 0), -1);
  }

  // The skill-transfer tab: the table shows every row with mean ± std when there are several
  // seeds; the chart shows A, B, ensemble and the two averages at the chosen t, the special
  // class highlighted, and the error bars.
  void skillTransferTable() {
    SkillTransferResult r;
    r.request.specialClass = 2;
    r.request.ts = {0.5, 0.9};
    r.seeds = {0, 1};
    r.classes = {"zero", "one", "two"};
    r.trainImages = 300;
    r.trainSizeA = 120;
    r.trainSizeB = 180;
    r.testImages = 90;
    r.specialTestImages = 30;
    auto row = [&](const std::string& key, const std::string& label, double t, double overall,
                   double special) {
      SkillTransferRow x;
      x.key = key;
      x.label = label;
      x.t = t;
      x.overall = stat(overall, 0.5);
      x.special = stat(special, 1.0);
      x.others = stat(overall + 1, 0.25);
      x.perClass = {stat(overall + 1, 0.1), stat(overall + 1, 0.1), stat(special, 1.0)};
      x.confusion = confusion(3, 5);
      r.rows.push_back(x);
    };
    row("A", "model A", -1, 40, 95);
    row("B", "model B", -1, 80, 0);
    row("ensemble", "prediction ensemble", -1, 85, 30);
    row("vanilla", "vanilla average, t = 0.5", 0.5, 50, 20);
    row("fused", "OT fusion, t = 0.5", 0.5, 82, 40);
    row("vanilla", "vanilla average, t = 0.9", 0.9, 70, 5);
    row("fused", "OT fusion, t = 0.9", 0.9, 83, 25);
    SkillTransferView view;
    view.resize(1100, 800);
    view.setResult(r);
    QCOMPARE(view.table()->rowCount(), 7);
    QCOMPARE(view.table()->item(4, 0)->text(), QString("82.00 ± 0.50"));
    QCOMPARE(view.table()->item(4, 1)->text(), QString("40.00 ± 1.00"));
    QCOMPARE(view.table()->item(1, 1)->text(), QString("0.00 ± 1.00"));
    QCOMPARE(view.table()->verticalHeaderItem(6)->text(), QString("OT fusion, t = 0.9"));
    QVERIFY(view.table()->horizontalHeaderItem(1)->text().contains("two"));
    // Default chart: the largest t.
    QCOMPARE(view.chartT(), 0.9);
    PerClassView* pc = view.perClassView();
    QCOMPARE(pc->seriesKeys(), QStringList({"A", "B", "ensemble", "vanilla@0.9", "fused@0.9"}));
    QCOMPARE(pc->barValue("fused@0.9", 2), 25.0);
    QCOMPARE(pc->highlightedClass(), 2);
    int errorBars = 0;
    for (int i = 0; i < pc->barChart()->plottableCount(); ++i)
      errorBars += qobject_cast<QCPErrorBars*>(pc->barChart()->plottable(i)) != nullptr;
    QCOMPARE(errorBars, 5);
    view.setChartT(0.5);
    QCOMPARE(pc->barValue("fused@0.5", 2), 40.0);
    QVERIFY(std::isnan(pc->barValue("fused@0.9", 2)));
    // One seed: plain numbers, no error bars.
    r.seeds = {0};
    view.setResult(r);
    QCOMPARE(view.table()->item(4, 0)->text(), QString("82.00"));
  }

  // The studio runs the scenario on its worker and shows the result in its tab; a cancelled
  // run shows nothing and leaves the studio ready for the next.
  void studioRunsAndCancels() {
    if (!QFile::exists(mnistDir() + "/t10k-labels-idx1-ubyte") &&
        !QFile::exists(mnistDir() + "/t10k-labels-idx1-ubyte.gz"))
      OTFUSE_SKIP("MNIST not installed");
    QTemporaryDir dir;
    MainWindow w;
    QStringList errors;
    w.setErrorHandler([&](const QString& t, const QString& m) { errors << t + ": " + m; });
    SkillTransferRequest r;
    r.arch = "mlp:16";
    r.limit = 1500;
    r.epochs = 1;
    r.learningRate = 0.05;
    r.ts = {0.5, 0.8};
    r.cacheDir = dir.path().toStdString();
    QSignalSpy shown(&w, &MainWindow::skillTransferShown);
    QVERIFY(w.runSkillTransfer(r) > 0);
    QCOMPARE(w.runSkillTransfer(r), -1);  // one run at a time
    QVERIFY(shown.wait(120000));
    QVERIFY2(errors.isEmpty(), qPrintable(errors.join("\n")));
    SkillTransferView* v = w.skillTransferView();
    QCOMPARE(w.tabs()->currentWidget(), static_cast<QWidget*>(v));
    QCOMPARE(v->table()->rowCount(), 3 + 2 * 2);
    QCOMPARE(v->result()->trainImages, int64_t(1500));
    QCOMPARE(v->perClassView()->highlightedClass(), 4);
    QCOMPARE(v->perClassView()->seriesKeys().size(), 5);

    // Cancel a longer run: no result replaces the shown one.
    SkillTransferRequest longer = r;
    longer.epochs = 50;
    longer.limit = 0;
    QSignalSpy finished(w.controller(), &EngineController::jobFinished);
    const int job = w.runSkillTransfer(longer);
    QVERIFY(job > 0);
    QTest::qWait(300);
    w.cancelJobs();
    QTRY_VERIFY_WITH_TIMEOUT(!w.controller()->isBusy(), 60000);
    QCOMPARE(shown.count(), 1);
    QCOMPARE(v->result()->trainImages, int64_t(1500));
    QVERIFY(w.runSkillTransfer(r) > 0);  // ready again (parents now come from the cache)
    QVERIFY(shown.wait(120000));
    QCOMPARE(shown.count(), 2);
  }
};

OTFUSE_TEST_MAIN_GUI(TestPerClass)
#include "test_per_class.moc"
