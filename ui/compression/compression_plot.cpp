#include "compression/compression_plot.h"

#include <qcustomplot.h>
#include <QApplication>
#include <QBuffer>
#include <QPageLayout>
#include <QPdfWriter>

#include <cstdio>
#include <memory>

#include "compression/compression_view.h"
#include "otfuse/error.h"
#include "otfuse/fusion/report.h"

namespace otfuse::ui {

void saveCompressionPlot(const CompressionResult& result, const std::string& path) {
  // A QApplication of our own lives only while drawing (one destroyed at static destruction
  // time, after Qt's own statics, crashes at exit).
  std::unique_ptr<QApplication> app;
  if (!QApplication::instance()) {
    // Qt's start-up notes (e.g. "XDG_RUNTIME_DIR not set") are noise on a CLI's stderr.
    qInstallMessageHandler([](QtMsgType type, const QMessageLogContext&, const QString& msg) {
      if (type == QtCriticalMsg || type == QtFatalMsg)
        std::fprintf(stderr, "otfuse: Qt: %s\n", qPrintable(msg));
    });
    // The CLI has no window: render offscreen unless told otherwise.
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    static int argc = 1;
    static char name[] = "otfuse";
    static char* argv[] = {name, nullptr};
    app = std::make_unique<QApplication>(argc, argv);
  }
  std::unique_ptr<QCustomPlot> plot(makeCompressionPlot());
  plot->setInteractions({});
  plot->resize(980, 520);
  fillCompressionPlot(plot.get(), QVector<CompressionPoint>(result.points.begin(), result.points.end()),
                      result.accuracyA, result.accuracyB);
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  const QString file = QString::fromStdString(path);
  if (file.endsWith(".pdf", Qt::CaseInsensitive)) {
    const int w = plot->width(), h = plot->height();
    QPdfWriter writer(&buffer);
    writer.setResolution(72);
    writer.setCreator(QStringLiteral("OTFuse Studio"));
    writer.setPageLayout(QPageLayout(QPageSize(QSizeF(w, h), QPageSize::Point, QString(),
                                               QPageSize::ExactMatch),
                                     QPageLayout::Portrait, QMarginsF(0, 0, 0, 0)));
    QCPPainter painter;
    if (painter.begin(&writer)) {
      painter.setMode(QCPPainter::pmVectorized);
      painter.setMode(QCPPainter::pmNoCaching);
      painter.setWindow(QRect(0, 0, w, h));
      plot->toPainter(&painter, w, h);
      painter.end();
    }
  } else {
    QImage image = plot->toPixmap(0, 0, 2.0).toImage();
    image.save(&buffer, "PNG");
  }
  if (bytes.isEmpty()) throw FileError(path, "nothing to write (rendering the plot failed)");
  writeFileAtomically(path, std::string(bytes.constData(), size_t(bytes.size())));
}

}  // namespace otfuse::ui
