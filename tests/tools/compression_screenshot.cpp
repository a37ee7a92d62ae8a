// Screenshot of the Compression tab with a real run's numbers:
//   otfuse_compression_screenshot OUT.png RESULT.json [A B]
// RESULT.json is what `otfuse scenario compression --json` printed (e.g. from
// scripts/compression_experiment.sh); A and B, when given, are opened in the models panel as
// the run's parents. Renders offscreen (QT_QPA_PLATFORM=offscreen) at 1280x1000.
#include <qcustomplot.h>
#include <QApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTest>
#include <cstdio>

#include "compression/compression_view.h"
#include "main_window/main_window.h"
#include "models_panel/models_panel.h"
#include "worker/engine_controller.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  app.setAttribute(Qt::AA_Use96Dpi, true);
  const QStringList args = app.arguments();
  if (args.size() != 3 && args.size() != 5) {
    std::fprintf(stderr, "usage: otfuse_compression_screenshot OUT.png RESULT.json [A B]\n");
    return 2;
  }
  QFile f(args[2]);
  if (!f.open(QIODevice::ReadOnly)) {
    std::fprintf(stderr, "cannot read %s\n", qPrintable(args[2]));
    return 1;
  }
  const QJsonObject j = QJsonDocument::fromJson(f.readAll()).object();
  otfuse::CompressionResult r;
  r.dataset = j["dataset"].toString().toStdString();
  r.accuracyA = j["a"].toObject()["accuracy"].toDouble();
  r.accuracyB = j["b"].toObject()["accuracy"].toDouble();
  r.finetuneEpochs = j["finetune_epochs"].toInt();
  r.scratchEpochs = j["scratch_epochs"].toInt();
  r.seconds = j["seconds"].toDouble();
  for (const auto& v : j["points"].toArray()) {
    const QJsonObject o = v.toObject();
    otfuse::CompressionPoint p;
    p.width = o["width"].toDouble();
    p.method = o["method"].toString().toStdString();
    p.architecture = o["architecture"].toString().toStdString();
    p.parameters = o["parameters"].toInteger();
    p.before = o["before"].toDouble();
    p.after = o["after"].toDouble();
    for (const auto& c : o["curve"].toArray()) p.curve.push_back(c.toDouble());
    r.points.push_back(p);
  }
  otfuse::ui::MainWindow w;
  w.resize(1280, 1000);
  w.show();
  if (args.size() == 5) {
    QSignalSpy loaded(w.controller(), &otfuse::ui::EngineController::modelLoaded);
    w.openFiles({args[3], args[4]});
    while (loaded.count() < 2 && loaded.wait(60000)) {
    }
    w.modelsPanel()->setFusionSet({0, 1}, 1);
    QTest::qWait(1500);  // the panel's test accuracies
  }
  auto* view = w.compressionView();
  view->setFinetuneEpochs(r.finetuneEpochs);
  view->setScratchEpochs(r.scratchEpochs);
  view->showResult(r);
  w.tabs()->setCurrentWidget(view);
  QApplication::processEvents();
  for (auto* p : view->plots()) p->replot();
  QApplication::processEvents();
  if (!w.grab().save(args[1], "PNG", 0)) return 1;
  std::printf("saved %s\n", qPrintable(args[1]));
  return 0;
}
