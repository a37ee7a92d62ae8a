#include "compression/compression_view.h"

#include <qcustomplot.h>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "worker/engine_controller.h"

namespace otfuse::ui {
namespace {

QColor methodColor(const std::string& method) {
  if (method == "fusion") return QColor(33, 113, 181);
  if (method == "pruning") return QColor(230, 85, 13);
  return QColor(49, 163, 84);  // scratch
}

QString label(const std::string& method) { return QString::fromStdString(compressionMethodLabel(method)); }

QString percent(double v) { return v < 0 ? QStringLiteral("…") : QString::number(v, 'f', 2); }

bool sameWidth(double a, double b) { return std::abs(a - b) < 1e-9; }

}  // namespace

QCustomPlot* makeCompressionPlot(QWidget* parent) {
  auto* plot = new QCustomPlot(parent);
  plot->setMinimumSize(420, 300);
  plot->plotLayout()->insertRow(0);
  plot->plotLayout()->addElement(
      0, 0,
      new QCPTextElement(plot, QObject::tr("Test accuracy against kept width"),
                         QFont(plot->font().family(), 10, QFont::Bold)));
  plot->xAxis->setLabel(QObject::tr("Kept width (% of every hidden layer)"));
  plot->yAxis->setLabel(QObject::tr("Test accuracy (%)"));
  plot->legend->setVisible(true);
  plot->legend->setFont(QFont(plot->font().family(), 8));
  plot->legend->setBrush(QColor(255, 255, 255, 230));
  plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
  // Right: the fine-tuned accuracies alone, on their own (narrow) scale, where they differ.
  // Both panels share one row under the title.
  QCPAxisRect* main = plot->axisRect();
  plot->plotLayout()->take(main);
  auto* row = new QCPLayoutGrid;
  plot->plotLayout()->addElement(1, 0, row);
  row->addElement(0, 0, main);
  auto* zoom = new QCPAxisRect(plot);
  row->addElement(0, 1, zoom);
  row->setColumnStretchFactor(0, 1.7);
  row->setColumnStretchFactor(1, 1.0);
  zoom->axis(QCPAxis::atBottom)->setLabel(QObject::tr("Kept width (%)"));
  zoom->axis(QCPAxis::atLeft)->setLabel(QObject::tr("After fine-tuning, zoomed in (%)"));
  zoom->setObjectName("zoom");
  plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  return plot;
}

void fillCompressionPlot(QCustomPlot* plot, const QVector<CompressionPoint>& points, double accA,
                         double accB) {
  plot->clearGraphs();
  double lo = 100, hi = 0, minW = 1;
  for (const auto& p : points) minW = std::min(minW, p.width);
  const double x0 = 100 * minW - 8, x1 = 108;
  for (const std::string& method : compressionMethods()) {
    for (bool after : {true, false}) {
      QCPGraph* g = plot->addGraph();
      const QColor c = methodColor(method);
      QPen pen(c, after ? 2.2 : 1.6, after ? Qt::SolidLine : Qt::DashLine);
      g->setPen(pen);
      g->setScatterStyle(QCPScatterStyle(after ? QCPScatterStyle::ssDisc : QCPScatterStyle::ssCircle,
                                         c, after ? c : QColor(Qt::white), 7));
      g->setName(label(method) + (after ? QObject::tr(", fine-tuned") : QObject::tr(", before fine-tuning")));
      g->setProperty("method", QString::fromStdString(method));
      g->setProperty("after", after);
      for (const auto& p : points) {
        if (p.method != method) continue;
        const double v = after ? p.after : p.before;
        if (v < 0) continue;
        g->addData(100 * p.width, v);
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
  }
  // The zoom panel: fine-tuned points only (no legend entries: same colours as the left).
  QCPAxisRect* zoom = plot->axisRectCount() > 1 ? plot->axisRect(1) : nullptr;
  double zlo = 100, zhi = 0;
  if (zoom) {
    for (const std::string& method : compressionMethods()) {
      QCPGraph* g = plot->addGraph(zoom->axis(QCPAxis::atBottom), zoom->axis(QCPAxis::atLeft));
      const QColor c = methodColor(method);
      g->setPen(QPen(c, 2.2));
      g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, c, c, 7));
      g->removeFromLegend();
      for (const auto& p : points) {
        if (p.method != method || p.after < 0) continue;
        g->addData(100 * p.width, p.after);
        zlo = std::min(zlo, p.after);
        zhi = std::max(zhi, p.after);
      }
    }
    for (double acc : {accA, accB}) {
      if (acc < 0) continue;
      QCPGraph* g = plot->addGraph(zoom->axis(QCPAxis::atBottom), zoom->axis(QCPAxis::atLeft));
      g->setPen(QPen(QColor(120, 120, 120), 1.2, Qt::DotLine));
      g->removeFromLegend();
      g->addData(x0, acc);
      g->addData(x1, acc);
      zlo = std::min(zlo, acc);
      zhi = std::max(zhi, acc);
    }
  }
  // The wide parents as reference lines (one legend entry for both).
  bool first = true;
  for (double acc : {accA, accB}) {
    if (acc < 0) continue;
    QCPGraph* g = plot->addGraph();
    g->setPen(QPen(QColor(120, 120, 120), 1.2, Qt::DotLine));
    g->setName(QObject::tr("wide parents A, B (%1 %, %2 %)")
                   .arg(accA, 0, 'f', 2)
                   .arg(accB, 0, 'f', 2));
    g->addData(x0, acc);
    g->addData(x1, acc);
    if (!first) g->removeFromLegend();
    first = false;
    lo = std::min(lo, acc);
    hi = std::max(hi, acc);
  }
  // Ticks at the widths computed.
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  QVector<double> widths;
  for (const auto& p : points)
    if (!std::any_of(widths.begin(), widths.end(), [&](double w) { return sameWidth(w, 100 * p.width); }))
      widths << 100 * p.width;
  if (widths.isEmpty()) widths = {25, 50, 75, 100};
  for (double w : widths) ticker->addTick(w, QString::number(w, 'g', 4) + " %");
  plot->xAxis->setTicker(ticker);
  plot->xAxis->setRange(x0, x1);
  if (zoom) {
    zoom->axis(QCPAxis::atBottom)->setTicker(ticker);
    zoom->axis(QCPAxis::atBottom)->setRange(x0, x1);
    if (zhi < zlo) zlo = 0, zhi = 100;
    const double zpad = std::max(0.1, 0.12 * (zhi - zlo));
    zoom->axis(QCPAxis::atLeft)->setRange(std::max(0.0, zlo - zpad), std::min(100.0, zhi + zpad));
  }
  if (hi < lo) lo = 0, hi = 100;
  const double pad = std::max(1.0, 0.06 * (hi - lo));
  plot->yAxis->setRange(std::max(0.0, lo - pad), std::min(100.0 + 0.5, hi + pad));
  plot->legend->setVisible(plot->graphCount() > 0);
  plot->replot();
}

CompressionView::CompressionView(EngineController* controller, QWidget* parent)
    : QWidget(parent), controller_(controller) {
  widths_ = new QLineEdit(QStringLiteral("1, 0.75, 0.5, 0.25"));
  widths_->setToolTip(tr("Kept widths: fractions of every hidden layer, in (0, 1]."));
  finetune_ = new QSpinBox;
  finetune_->setRange(0, 1000);
  finetune_->setValue(1);
  finetune_->setToolTip(tr("Fine-tuning budget, the same for every method (fresh SGD)."));
  scratch_ = new QSpinBox;
  scratch_->setRange(0, 1000);
  scratch_->setSpecialValueText(tr("parents' (from B)"));
  scratch_->setValue(0);
  scratch_->setToolTip(tr("Epochs of the narrow models trained from scratch; by default the "
                          "parents' budget, read from B's \"epoch\" metadata."));
  lr_ = new QDoubleSpinBox;
  lr_->setDecimals(4);
  lr_->setRange(0.0001, 10);
  lr_->setSingleStep(0.005);
  lr_->setValue(0.01);
  runButton_ = new QPushButton(tr("Run"));
  runButton_->setToolTip(tr("Compress the fusion set's A and anchor B (Run ▸ Compression…)."));
  cancelButton_ = new QPushButton(tr("Cancel"));
  cancelButton_->setEnabled(false);
  connect(runButton_, &QPushButton::clicked, this, &CompressionView::runRequested);
  connect(cancelButton_, &QPushButton::clicked, this, &CompressionView::cancel);

  auto* controls = new QHBoxLayout;
  auto* form = new QFormLayout;
  form->addRow(tr("Kept widths"), widths_);
  auto* form2 = new QFormLayout;
  form2->addRow(tr("Fine-tuning epochs"), finetune_);
  form2->addRow(tr("Scratch epochs"), scratch_);
  auto* form3 = new QFormLayout;
  form3->addRow(tr("Learning rate"), lr_);
  controls->addLayout(form, 2);
  controls->addLayout(form2, 1);
  controls->addLayout(form3, 1);
  auto* buttons = new QVBoxLayout;
  buttons->addWidget(runButton_);
  buttons->addWidget(cancelButton_);
  controls->addLayout(buttons);

  note_ = new QLabel(tr("OT fusion aligns A onto B pruned to the kept width (the pruning row's "
                        "model) and averages them; pruning keeps B's neurons with the largest "
                        "incoming-weight norm; from scratch trains the narrow model anew. "
                        "Dashed: before fine-tuning, solid: after."));
  note_->setWordWrap(true);
  note_->setStyleSheet("color: palette(placeholder-text);");
  status_ = new QLabel(tr("Choose A and the anchor B in the models panel, then Run."));
  bar_ = new QProgressBar;
  bar_->setVisible(false);
  bar_->setMaximumHeight(14);
  bar_->setTextVisible(false);

  plot_ = makeCompressionPlot();
  table_ = new QTableWidget(0, 7);
  table_->setHorizontalHeaderLabels({tr("Kept width"), tr("Method"), tr("Architecture"),
                                     tr("Parameters"), tr("Before fine-tuning (%)"),
                                     tr("After fine-tuning (%)"), tr("Change")});
  table_->verticalHeader()->setVisible(false);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setStretchLastSection(false);

  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(plot_);
  split->addWidget(table_);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addWidget(note_);
  layout->addWidget(status_);
  layout->addWidget(bar_);
  layout->addWidget(split, 1);

  if (controller_) {
    connect(controller_, &EngineController::progress, this, [this](int job, const Progress& p) {
      if (job != job_) return;
      QString text = QString::fromStdString(p.stage);
      if (!p.message.empty()) text += " — " + QString::fromStdString(p.message);
      setStatus(text);
      bar_->setVisible(true);
      bar_->setRange(0, p.total > 0 ? int(std::min<long long>(p.total, 1 << 30)) : 0);
      if (p.total > 0) bar_->setValue(int(std::min(p.done, p.total)));
    });
    connect(controller_, &EngineController::jobFailed, this,
            [this](int job, JobKind, const QString& message) {
              if (job == job_) end(false, tr("Failed: %1").arg(message));
            });
    auto stopped = [this](int job, JobKind) {
      if (job == job_) end(false, tr("Cancelled."));
    };
    connect(controller_, &EngineController::jobCancelled, this, stopped);
    connect(controller_, &EngineController::jobAbandoned, this, stopped);
  }
  refresh();
}

void CompressionView::setStatus(const QString& text) { status_->setText(text); }
QString CompressionView::status() const { return status_->text(); }

void CompressionView::setWidths(const QString& widths) { widths_->setText(widths); }
void CompressionView::setFinetuneEpochs(int epochs) { finetune_->setValue(epochs); }
void CompressionView::setScratchEpochs(int epochs) { scratch_->setValue(epochs); }
void CompressionView::setLearningRate(double lr) { lr_->setValue(lr); }

QList<QCustomPlot*> CompressionView::plots() const { return {plot_}; }

void CompressionView::clear() {
  points_.clear();
  accA_ = accB_ = -1;
  refresh();
}

void CompressionView::addPoint(const CompressionPoint& point) {
  auto it = std::find_if(points_.begin(), points_.end(), [&](const CompressionPoint& p) {
    return p.method == point.method && sameWidth(p.width, point.width);
  });
  if (it != points_.end()) *it = point;
  else points_.push_back(point);
  refresh();
}

void CompressionView::setParents(double accuracyA, double accuracyB) {
  accA_ = accuracyA;
  accB_ = accuracyB;
  refresh();
}

void CompressionView::showResult(const CompressionResult& r) {
  points_.clear();
  for (const auto& p : r.points) points_.push_back(p);
  accA_ = r.accuracyA;
  accB_ = r.accuracyB;
  refresh();
  setStatus(tr("Done in %1 s on %2: fine-tuning %3 epoch(s) for every method, scratch models "
               "trained %4 epoch(s). Wide parents: A %5 %, B %6 %.")
                .arg(r.seconds, 0, 'f', 0)
                .arg(QString::fromStdString(r.dataset))
                .arg(r.finetuneEpochs)
                .arg(r.scratchEpochs)
                .arg(r.accuracyA, 0, 'f', 2)
                .arg(r.accuracyB, 0, 'f', 2));
}

int CompressionView::drawnPoints(const QString& method, bool after) const {
  for (int i = 0; i < plot_->graphCount(); ++i) {
    QCPGraph* g = plot_->graph(i);
    if (g->property("method").toString() == method && g->property("after").toBool() == after)
      return g->data()->size();
  }
  return -1;
}

void CompressionView::refresh() {
  fillCompressionPlot(plot_, points_, accA_, accB_);
  // Table: width-major (widest first, as computed), methods in their fixed order.
  QVector<CompressionPoint> rows = points_;
  std::stable_sort(rows.begin(), rows.end(), [](const CompressionPoint& a, const CompressionPoint& b) {
    if (!sameWidth(a.width, b.width)) return a.width > b.width;
    const auto& m = compressionMethods();
    return std::find(m.begin(), m.end(), a.method) < std::find(m.begin(), m.end(), b.method);
  });
  table_->setRowCount(int(rows.size()));
  for (int r = 0; r < rows.size(); ++r) {
    const auto& p = rows[r];
    const QStringList cells = {
        QString::number(100 * p.width, 'g', 4) + " %", label(p.method),
        QString::fromStdString(p.architecture), QString::number(p.parameters),
        percent(p.before), percent(p.after),
        p.after < 0 ? QString() : QString("%1%2").arg(p.after >= p.before ? "+" : "").arg(p.after - p.before, 0, 'f', 2)};
    for (int c = 0; c < cells.size(); ++c) {
      auto* item = new QTableWidgetItem(cells[c]);
      if (c >= 3) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      if (c == 1) item->setForeground(methodColor(p.method));
      table_->setItem(r, c, item);
    }
  }
}

int CompressionView::run(const FusionRequest& base) {
  if (job_ >= 0) {
    setStatus(tr("A compression run is going on; cancel it first."));
    return -1;
  }
  if (!controller_) return -1;
  if (!base.a || !base.b) {
    setStatus(tr("Compression needs two models: check A and the anchor B in the models panel."));
    return -1;
  }
  CompressionRequest req;
  req.a = base.a;
  req.b = base.b;
  req.options = base.options;
  req.dataset = base.dataset;
  req.dataDir = base.dataDir;
  req.samples = base.samples;
  req.seed = base.seed;
  req.limit = limit_;
  req.finetuneEpochs = finetune_->value();
  req.scratchEpochs = scratch_->value() == 0 ? -1 : scratch_->value();
  req.learningRate = lr_->value();
  req.widths.clear();
  for (QString part : widths_->text().split(QRegularExpression("[,;]"), Qt::SkipEmptyParts)) {
    part = part.trimmed();
    if (part.isEmpty()) continue;
    const bool percentage = part.endsWith('%');  // "75%" means 0.75; "75" is refused
    if (percentage) part.chop(1);
    bool ok = false;
    double w = part.toDouble(&ok);
    if (ok && percentage) w /= 100.0;
    if (!ok || !(w > 0.0 && w <= 1.0)) {
      setStatus(tr("Kept widths: '%1' is not a fraction in (0, 1] (or a percentage with %).").arg(part));
      return -1;
    }
    req.widths.push_back(w);
  }
  if (req.widths.empty()) {
    setStatus(tr("Give at least one kept width, e.g. 1, 0.75, 0.5, 0.25."));
    return -1;
  }
  // Refusals the engine would make, said here before anything is queued.
  for (double w : req.widths)
    if (std::string why = pruneIncompatibility(*req.b, w); !why.empty()) {
      setStatus(tr("B cannot be pruned to %1: %2").arg(w).arg(QString::fromStdString(why)));
      return -1;
    }
  if (std::string why = fusionIncompatibility(*req.a, *req.b); !why.empty()) {
    setStatus(tr("A cannot be fused onto B: %1").arg(QString::fromStdString(why)));
    return -1;
  }
  clear();
  QPointer<CompressionView> self(this);
  job_ = controller_->submitTask(JobKind::Task, [self, req](const ProgressFn& progress,
                                                           const CancelFlag* cancel) {
    auto post = [self](std::function<void(CompressionView*)> f) {
      QMetaObject::invokeMethod(
          qApp, [self, f] { if (self) f(self); }, Qt::QueuedConnection);
    };
    CompressionResult r = runCompression(
        req, [&](const CompressionPoint& p) { post([p](CompressionView* v) { v->addPoint(p); }); },
        progress, cancel);
    post([r](CompressionView* v) {
      v->showResult(r);
      v->end(true, v->status());
    });
  });
  runButton_->setEnabled(false);
  cancelButton_->setEnabled(true);
  setStatus(tr("Compression queued…"));
  return job_;
}

void CompressionView::cancel() {
  if (job_ >= 0 && controller_) controller_->cancel(job_);
  setStatus(tr("Cancelling…"));
}

void CompressionView::end(bool ok, const QString& status) {
  job_ = -1;
  runButton_->setEnabled(true);
  cancelButton_->setEnabled(false);
  bar_->setVisible(false);
  setStatus(status);
  emit finished(ok);
}

}  // namespace otfuse::ui
