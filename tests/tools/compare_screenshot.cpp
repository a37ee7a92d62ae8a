// Renders the Compare tab's view with a real comparison and saves it as PNG (for the README):
//   otfuse_compare_screenshot OUT.png A B [DATASET] [REPAIR]
// Runs engine runCompare on A (aligned) onto B with every method (points fed to the view as
// they arrive, as in the app), then grabs the view at 1500 x 860. QT_QPA_PLATFORM=offscreen.
#include <qcustomplot.h>
#include <QApplication>
#include <QTimer>

#include <cstdio>

#include "compare/compare_view.h"
#include "otfuse/engine/compare.h"
#include "otfuse/runtime.h"

int main(int argc, char** argv) {
  otfuse::preferPassiveOpenMpWait(argv);
  QApplication app(argc, argv);
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
