// Issue 8, "what is shown is what you get", in OTFuse Studio: the models panel says which
// dataset a model is evaluated on and why (a Fashion-MNIST model on Fashion-MNIST, from its
// checkpoint's metadata), and for BatchNorm models the results view says that File ▸ Export
// fused model writes the re-estimated model, which is what the exported file holds: evaluating
// it gives the table's row exactly. Models are trained for this test by the otfuse CLI (small
// data, a few seconds): the UI links no LibTorch. Runs offscreen.
#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

#include "common/otfuse_test.h"
#include "main_window/main_window.h"
#include "models_panel/models_panel.h"
#include "otfuse/engine/engine.h"
#include "results/results_view.h"
#include "settings/settings_form.h"

using namespace otfuse;
using namespace otfuse::ui;

namespace {

// Runs the otfuse CLI; returns its standard output, or fails the test with its messages.
bool runCli(const QStringList& args, QString* output, QString* error) {
  QProcess p;
  p.start(QStringLiteral(OTFUSE_CLI), args);
  if (!p.waitForFinished(300000)) {
    *error = "otfuse " + args.join(' ') + " did not finish";
    return false;
  }
  *output = QString::fromUtf8(p.readAllStandardOutput());
  if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
    *error = "otfuse " + args.join(' ') + " failed: " + QString::fromUtf8(p.readAllStandardError());
    return false;
  }
  return true;
}

// "found" in `otfuse data list` for the dataset `name`.
bool datasetFound(const QString& name) {
  QString out, err;
  if (!runCli({"data", "list"}, &out, &err)) return false;
  for (const QString& line : out.split('\n'))
    if (line.startsWith(name + " ") && line.section(' ', 1).trimmed().startsWith("found"))
      return true;
  return false;
}

// A small learnable CIFAR-10 in its binary format under dataDir/cifar10: class k is a block
// at a class-specific place on noise.
void writeSyntheticCifar(const QString& dataDir, int trainPerBatch, int test) {
  const QString dir = dataDir + "/cifar10/cifar-10-batches-bin";
  QDir().mkpath(dir);
  quint32 state = 12345;
  auto next = [&state] { return state = state * 1664525u + 1013904223u; };
  auto write = [&](const QString& name, int n) {
    QFile f(dir + "/" + name);
    QVERIFY(f.open(QIODevice::WriteOnly));
    QByteArray record(3073, 0);
    for (int i = 0; i < n; ++i) {
      const int k = int(next() >> 16) % 10;
      record[0] = char(k);
      for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 32; ++y)
          for (int x = 0; x < 32; ++x) {
            const bool block = y >= 4 + (k / 5) * 14 && y < 12 + (k / 5) * 14 &&
                               x >= 1 + (k % 5) * 6 && x < 7 + (k % 5) * 6;
            record[1 + c * 1024 + y * 32 + x] =
                char(block ? (k * 37 + c * 60) % 256 : int(next() >> 24) % 80);
          }
      f.write(record);
    }
  };
  for (int b = 1; b <= 5; ++b) write(QString("data_batch_%1.bin").arg(b), trainPerBatch);
  write("test_batch.bin", test);
}

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

}  // namespace

class TestStudioShownIsSaved : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<MainWindow> window_;
  QStringList errors_;
  QTemporaryDir dir_;

  void newWindow(const QString& dataDir) {
    if (window_) window_->close();
    window_ = std::make_unique<MainWindow>();
    window_->setErrorHandler([this](const QString& title, const QString& message) {
      errors_ << title + ": " + message;
    });
    window_->settingsForm()->resetToDefaults();
    StudioSettings s = window_->settingsForm()->settings();
    s.dataDir = dataDir;
    window_->settingsForm()->setSettings(s);
    window_->show();
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("OTFuseTest");
    QCoreApplication::setApplicationName("test_studio_shown_is_saved");
    otfuse::initRuntime();
    QVERIFY(dir_.isValid());
  }

  void cleanup() {
    if (window_) window_->close();
    window_.reset();
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join('\n')));
  }

  // A model trained on Fashion-MNIST is evaluated on Fashion-MNIST, and the panel says why.
  void fashionModelShowsItsDataset() {
    if (!datasetFound("fashion-mnist"))
      OTFUSE_SKIP("Fashion-MNIST not installed (Debian package dataset-fashion-mnist)");
    const QString path = dir_.filePath("fashion.pt");
    QString out, err;
    QVERIFY2(runCli({"train", "--arch", "mlp:16", "--dataset", "fashion-mnist", "--out", path,
                     "--limit", "500", "--epochs", "1", "--no-progress"},
                    &out, &err),
             qPrintable(err));
    newWindow(QString());
    QSignalSpy evaluated(window_->controller(), &EngineController::modelEvaluated);
    window_->openFiles({path});
    QVERIFY(waitFor(evaluated, 1, 120000));
    ModelsPanel* panel = window_->modelsPanel();
    ModelPtr model = panel->model(path);
    QVERIFY(model);
    QCOMPARE(panel->datasetText(path),
             QString("Dataset: fashion-mnist (from the checkpoint's metadata)"));
    QCOMPARE(window_->settingsForm()->settings().datasetFor(*model), std::string("fashion-mnist"));
    // The accuracy shown is the Fashion-MNIST one, as an independent evaluation gives it.
    const Score shown = *panel->score(path);
    const Score fashion = evaluateModel(model, "fashion-mnist", "");
    QVERIFY(shown.accuracy == fashion.accuracy && shown.loss == fashion.loss);  // exactly
  }

  // BatchNorm models: the export writes the re-estimated model the table's best row shows.
  void exportWritesTheRowShown() {
    const QString data = dir_.filePath("data");
    writeSyntheticCifar(data, 60, 150);
    QStringList models;
    for (int seed : {1, 2}) {
      const QString path = dir_.filePath(QString("vgg%1.pt").arg(seed));
      QString out, err;
      QVERIFY2(runCli({"train", "--arch", "vgg11_bn_half", "--dataset", "cifar10", "--data-dir",
                       data, "--out", path, "--epochs", "1", "--batch-size", "50", "--lr", "0.05",
                       "--momentum", "0.9", "--seed", QString::number(seed), "--no-progress"},
                      &out, &err),
               qPrintable(err));
      models << path;
    }
    newWindow(data);
    QSignalSpy shown(window_.get(), &MainWindow::fusionShown);
    window_->openFiles(models, /*runWhenLoaded=*/true);
    QVERIFY(waitFor(shown, 1, 300000));
    ResultsView* results = window_->resultsView();
    const double bn = results->tableAccuracy("fused_bn");
    const double plain = results->tableAccuracy("fused");
    QVERIFY(std::isfinite(bn) && std::isfinite(plain));
    const QString note = results->exportNote();
    QVERIFY2(note.contains(QString("writes: <b>OT fusion, BN re-estimated (test accuracy %1 %)</b>")
                               .arg(bn, 0, 'f', 2)),
             qPrintable(note));

    const QString byDefault = dir_.filePath("export_default.pt");
    QVERIFY(window_->exportModelTo(byDefault));
    QVERIFY2(window_->statusText().startsWith("Saved OT fusion, BN re-estimated"),
             qPrintable(window_->statusText()));
    const QString asAveraged = dir_.filePath("export_fused.pt");
    QVERIFY(window_->exportModelTo(asAveraged, "fused"));
    for (const auto& [path, key, accuracy] :
         {std::make_tuple(byDefault, std::string("fused_bn"), bn),
          std::make_tuple(asAveraged, std::string("fused"), plain)}) {
      ModelPtr m = loadModel(path.toStdString());
      QCOMPARE(m->metadata.at("fusion_model"), key);
      const Score s = evaluateModel(m, m->dataset.name, data.toStdString());
      QVERIFY2(s.accuracy == accuracy && s.loss == results->tableLoss(QString::fromStdString(key)),
               key.c_str());  // exactly the row shown
    }
  }
};

OTFUSE_TEST_MAIN_GUI(TestStudioShownIsSaved)
#include "test_studio_shown_is_saved.moc"
