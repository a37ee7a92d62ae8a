// The "Fine-tuning" tab (issue 10, section 1): after a fusion, Fine-tune draws OT fusion and
// the vanilla average epoch by epoch while the job runs (points arrive live, not at the end),
// with the parents and the ensemble as reference lines; Cancel stops it and keeps the points
// so far; without a fusion it says so; its plots export like the other views'. Offscreen;
// two tiny MNIST MLPs trained here (skipped without MNIST).
#include <qcustomplot.h>

#include <QApplication>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

#include "common/otfuse_test.h"
#include "finetune/finetune_view.h"
#include "main_window/main_window.h"
#include "otfuse/engine/engine.h"
#include "settings/settings_form.h"
#include "ui/studio_test_support.h"

using namespace otfuse;
using namespace otfuse::ui;
using namespace studio_test;

class TestFinetuneView : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    if (!mnistMissing().isEmpty()) OTFUSE_SKIP(qPrintable(mnistMissing()));
    QVERIFY(dir_.isValid());
    paths_ << makeModel(dir_, "a.pt", "mlp:32", 1, 1, 2000) << makeModel(dir_, "b.pt", "mlp:32", 2, 1, 2000);
    window_ = std::make_unique<MainWindow>();
    window_->setErrorHandler([this](const QString& t, const QString& m) { errors_ << t + ": " + m; });
    window_->settingsForm()->resetToDefaults();
    window_->show();
    view_ = window_->finetuneView();
    QVERIFY(view_);
  }

  void noFusionYet() {
    QCOMPARE(view_->start(), -1);
    QVERIFY2(view_->status().contains("run the fusion first"), qPrintable(view_->status()));
    QVERIFY(!view_->isRunning());
  }

  void pointsArriveLive() {
    QSignalSpy shown(window_.get(), &MainWindow::fusionShown);
    window_->openFiles(paths_, true);
    QVERIFY(waitFor(shown, 1, 60000));
    window_->tabs()->setCurrentWidget(view_);
    view_->setEpochs(3);
    view_->setTrainingLimit(1000);
    view_->setTestLimit(1000);
    QSignalSpy ended(view_, &FinetuneView::runEnded);
    const int job = view_->start();
    QVERIFY(job > 0);
    QVERIFY(view_->isRunning());
    // The OT fusion curve is drawn while the job is still running (the vanilla series comes
    // after it): points are shown as the epochs finish, not when everything is done.
    bool liveSeen = false;
    QElapsedTimer t;
    t.start();
    while (!liveSeen && t.elapsed() < 120000 && view_->isRunning()) {
      QTest::qWait(10);
      view_->replotIfDirty();
      liveSeen = view_->drawnPoints("fused") >= 2 && view_->isRunning();
    }
    QVERIFY2(liveSeen, "no point drawn while the fine-tuning ran");
    QVERIFY(waitFor(ended, 1, 120000));
    QCOMPARE(ended.first().at(0).toInt(), job);
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join("\n")));
    QCOMPARE(view_->points("fused").size(), 4);  // epochs 0..3
    QCOMPARE(view_->points("vanilla").size(), 4);
    for (int i = 0; i < 4; ++i) QCOMPARE(view_->points("fused")[i].epoch, i);
    view_->replotIfDirty();
    QCOMPARE(view_->drawnPoints("fused"), 4);
    QCOMPARE(view_->drawnPoints("vanilla"), 4);
    QCOMPARE(view_->drawnPoints("fused/loss"), 4);
    const auto refs = view_->references();
    QCOMPARE(refs.size(), 3);
    QVERIFY(refs.contains("model_0") && refs.contains("model_1") && refs.contains("ensemble"));
    QCOMPARE(view_->drawnPoints("ref/ensemble"), 2);  // a horizontal line
    QVERIFY2(view_->status().startsWith("Done: 3 epochs."), qPrintable(view_->status()));
    // Epoch 0 is the model before fine-tuning: the fusion's rows, on the first 1,000 test images
    // here, so only bounded by them being percentages; the last epoch changed something.
    QVERIFY(view_->points("fused").back().loss != view_->points("fused").front().loss);

    // The plots export like the other views' (PNG, a second file for the loss plot).
    const QStringList files = window_->exportPlotsTo(dir_.filePath("ft.png"));
    QCOMPARE(files.size(), 2);
    for (const QString& f : files) QVERIFY(QFileInfo(f).size() > 1000);
  }

  // The points are saved with the session and shown again when it is opened.
  void sessionKeepsPoints() {
    const QVector<FinetunePoint> fused = view_->points("fused");
    QCOMPARE(fused.size(), 4);
    const QString file = dir_.filePath("s.otfuse.json");
    window_->saveSession(file);
    QFile f(file);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonObject root = QJsonDocument::fromJson(f.readAll()).object();
    QCOMPARE(root.value("finetune").toObject().value("series").toObject().value("fused").toArray().size(), 4);
    MainWindow other;
    other.setErrorHandler([this](const QString& t, const QString& m) { errors_ << t + ": " + m; });
    QSignalSpy opened(&other, &MainWindow::sessionOpened);
    other.openSession(file);
    QVERIFY(waitFor(opened, 1, 60000));
    FinetuneView* restored = other.finetuneView();
    QCOMPARE(restored->points("fused").size(), 4);
    QCOMPARE(restored->points("vanilla").size(), 4);
    for (int i = 0; i < 4; ++i) QCOMPARE(restored->points("fused")[i].accuracy, fused[i].accuracy);
    QCOMPARE(restored->references().size(), 3);
    restored->replotIfDirty();
    QCOMPARE(restored->drawnPoints("vanilla"), 4);
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join("\n")));
  }

  void cancelStops() {
    view_->setEpochs(200);
    view_->setTrainingLimit(2000);
    QSignalSpy ended(view_, &FinetuneView::runEnded);
    const int job = view_->start();
    QVERIFY(job > 0);
    QTRY_VERIFY_WITH_TIMEOUT(view_->points("fused").size() >= 2, 120000);
    window_->cancelJobs();  // what Esc and the status bar's Cancel do
    QVERIFY(waitFor(ended, 1, 10000 * otfuse::test::timeScale()));
    QVERIFY(!view_->isRunning());
    QVERIFY2(view_->status().startsWith("Cancelled"), qPrintable(view_->status()));
    QVERIFY(view_->points("fused").size() < 201);
    QVERIFY(view_->points("vanilla").isEmpty());
    // The points so far stay on the plot, and a new run can start.
    view_->replotIfDirty();
    QCOMPARE(view_->drawnPoints("fused"), view_->points("fused").size());
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join("\n")));
  }

  void cleanupTestCase() { window_.reset(); }

 private:
  QTemporaryDir dir_;
  QStringList paths_;
  QStringList errors_;
  std::unique_ptr<MainWindow> window_;
  FinetuneView* view_ = nullptr;
};

OTFUSE_TEST_MAIN_GUI(TestFinetuneView)
#include "test_finetune_view.moc"
