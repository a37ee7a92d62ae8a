// Renders the Compare tab's view with a real comparison and saves it as PNG (for the README):
//   otfuse_compare_screenshot OUT.png A B [DATASET] [REPAIR]
//   otfuse_compare_screenshot OUT.png RESULT.json      (the output of otfuse compare --json)
// Runs engine runCompare on A (aligned) onto B with every method (points fed to the view as
// they arrive, as in the app), or shows a saved result, then grabs the view at 1500 x 860.
// QT_QPA_PLATFORM=offscreen.
#include <qcustomplot.h>
#include <QApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

#include <cstdio>

#include "compare/compare_view.h"
#include "otfuse/engine/compare.h"
#include "otfuse/runtime.h"

int main(int argc, char** argv) {
  otfuse::preferPassiveOpenMpWait(argv);
  QApplication app(argc, argv);
  if (argc == 3) {  // a saved result
    QFile f(argv[2]);
    if (!f.open(QIODevice::ReadOnly)) {
      std::fprintf(stderr, "cannot read %s\n", argv[2]);
      return 1;
    }
    const QJsonObject d = QJsonDocument::fromJson(f.readAll()).object();
    otfuse::ui::CompareView view;
    view.resize(1500, 860);
    view.show();
    otfuse::CompareOutcome out;
    out.t = d["t"].toDouble();
    view.setControls(out.t, d["points"].toInt());
    out.correction = d["correction"].toString().toStdString();
    out.a = {d["parents"]["a"]["accuracy"].toDouble(), d["parents"]["a"]["loss"].toDouble()};
    out.b = {d["parents"]["b"]["accuracy"].toDouble(), d["parents"]["b"]["loss"].toDouble()};
    for (const auto& v : d["rows"].toArray()) {
      const QJsonObject o = v.toObject();
      otfuse::CompareRow row;
      row.method = o["method"].toString().toStdString();
      row.label = o["label"].toString().toStdString();
      row.corrected = o["corrected"].toBool();
      row.error = o["error"].toString().toStdString();
      row.accuracy = o["accuracy"].toDouble();
      row.loss = o["loss"].toDouble();
      row.barrier = o["loss_barrier"].toDouble();
      row.accuracyBarrier = o["accuracy_barrier"].toDouble();
      row.seconds = o["seconds"].toDouble();
      for (const auto& p : o["curve"].toArray()) {
        const QJsonArray a = p.toArray();
        otfuse::CurvePoint c{a[0].toDouble(), a[1].toDouble(), a[2].toDouble()};
        row.curve.push_back(c);
        view.addPoint(o["label"].toString(), c);
      }
      out.rows.push_back(row);
    }
    const QJsonArray methods = d["agreement"]["methods"].toArray();
    const QJsonArray matrix = d["agreement"]["matrix"].toArray();
    out.agreement.resize(methods.size(), methods.size());
    for (int i = 0; i < methods.size(); ++i) {
      out.methods.push_back(methods[i].toString().toStdString());
      for (int j = 0; j < methods.size(); ++j) out.agreement(i, j) = matrix[i].toArray()[j].toDouble();
    }
    view.setOutcome(out);
    view.setStatus(QObject::tr("Done: A = %1 aligned onto B = %2 (%3 test set).")
                       .arg(d["a"].toString().section('/', -1), d["b"].toString().section('/', -1),
                            d["dataset"].toString()));
    QApplication::processEvents();
    view.replotIfDirty();
    for (auto* p : view.plots()) p->replot();
    QApplication::processEvents();
    if (!view.grab().save(argv[1], "PNG", 0)) return 1;
    std::printf("%s\n", argv[1]);
    return 0;
  }
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s OUT.png A B [DATASET] [REPAIR]\n", argv[0]);
    return 2;
  }
  otfuse::initRuntime();
  try {
    otfuse::ui::CompareView view;
    view.resize(1500, 860);
    view.show();
    otfuse::CompareRequest r;
    r.a = otfuse::loadModel(argv[2]);
    r.b = otfuse::loadModel(argv[3]);
    r.dataset = argc > 4 ? argv[4] : r.b->dataset.name;
    view.fillRequest(&r);
    if (argc > 5) r.repair = otfuse::parseRepairMode(argv[5]);
    otfuse::CompareOutcome out = otfuse::runCompare(
        r, [&](const std::string& s, const otfuse::CurvePoint& p) {
          view.addPoint(QString::fromStdString(s), p);
        });
    view.setOutcome(out);
    view.setStatus(QObject::tr("Done: A = %1 aligned onto B = %2 (%3 test set).")
                       .arg(QString(argv[2]).section('/', -1), QString(argv[3]).section('/', -1),
                            QString::fromStdString(r.dataset)));
    QApplication::processEvents();
    view.replotIfDirty();
    for (auto* p : view.plots()) p->replot();
    QApplication::processEvents();
    if (!view.grab().save(argv[1], "PNG", 0)) {
      std::fprintf(stderr, "could not write %s\n", argv[1]);
      return 1;
    }
    std::printf("%s\n", argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
