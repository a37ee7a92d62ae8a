#include "finetune/finetune_view.h"

#include <qcustomplot.h>
#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "worker/engine_controller.h"

namespace otfuse::ui {

namespace {

// Carries the worker's points to the UI thread: lives on the UI thread, its signals are
// emitted on the worker and delivered queued to the view (dropped if the view is gone).
class FinetuneRelay : public QObject {
  Q_OBJECT
 signals:
  void point(QString series, int epoch, double accuracy, double loss, double trainLoss,
             double learningRate);
  void reference(QString key, QString label, double accuracy, double loss);
};

QColor seriesColor(const QString& series) {
  if (series == "fused") return QColor(33, 113, 181);
  if (series == "vanilla") return QColor(230, 85, 13);
  return QColor(99, 99, 99);
}

// Parents grey (dash-dot, A lighter than B), the ensemble purple (dashed).
QPen referencePen(const QString& key) {
  if (key == "ensemble") return QPen(QColor(117, 107, 177), 1.6, Qt::DashLine);
  const int i = key.mid(QString("model_").size()).toInt();
  const int grey = 150 - 40 * (i % 3);
  return QPen(QColor(grey, grey, grey), 1.4, i % 2 ? Qt::DashDotLine : Qt::DashLine);
}

QCustomPlot* makePlot(const QString& title, const QString& yLabel) {
  auto* plot = new QCustomPlot;
  plot->setMinimumSize(360, 260);
  plot->plotLayout()->insertRow(0);
  plot->plotLayout()->addElement(
      0, 0, new QCPTextElement(plot, title, QFont(plot->font().family(), 10, QFont::Bold)));
  plot->xAxis->setLabel(QObject::tr("fine-tuning epoch (0 = before)"));
  plot->yAxis->setLabel(yLabel);
  plot->legend->setVisible(false);
  plot->legend->setFont(QFont(plot->font().family(), 8));
  plot->legend->setBrush(QColor(255, 255, 255, 220));
  plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  QSharedPointer<QCPAxisTickerFixed> fixed(new QCPAxisTickerFixed);
  fixed->setTickStep(1);
  fixed->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  plot->xAxis->setTicker(fixed);
  plot->xAxis->setRange(-0.3, 5.3);
  return plot;
}

}  // namespace

FinetuneView::FinetuneView(EngineController* controller, QWidget* parent)
    : QWidget(parent), controller_(controller) {
  auto* layout = new QVBoxLayout(this);
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Epochs")));
  epochs_ = new QSpinBox;
  epochs_->setRange(1, 1000);
  epochs_->setValue(5);
  epochs_->setToolTip(tr("Fine-tuning epochs, the same for OT fusion and the vanilla average."));
  controls->addWidget(epochs_);
  controls->addSpacing(8);
  controls->addWidget(new QLabel(tr("learning rate")));
  lr_ = new QDoubleSpinBox;
  lr_->setDecimals(4);
  lr_->setRange(0.0001, 10);
  lr_->setSingleStep(0.001);
  lr_->setValue(0.01);
  lr_->setToolTip(tr("SGD learning rate (constant); the optimizer starts fresh."));
  controls->addWidget(lr_);
  controls->addSpacing(8);
  controls->addWidget(new QLabel(tr("momentum")));
  momentum_ = new QDoubleSpinBox;
  momentum_->setDecimals(2);
  momentum_->setRange(0, 0.99);
  momentum_->setSingleStep(0.1);
  momentum_->setValue(0.5);
  controls->addWidget(momentum_);
  controls->addSpacing(8);
  controls->addWidget(new QLabel(tr("seed")));
  seed_ = new QSpinBox;
  seed_->setRange(0, 1000000);
  seed_->setToolTip(tr("Seed of the data order: both models see the same batches in the same order."));
  controls->addWidget(seed_);
  controls->addSpacing(8);
  controls->addWidget(new QLabel(tr("training images")));
  limit_ = new QSpinBox;
  limit_->setRange(0, 100000000);
  limit_->setSpecialValueText(tr("all"));
  limit_->setSingleStep(1000);
  limit_->setToolTip(tr("Use only the first N training images per epoch (all by default)."));
  controls->addWidget(limit_);
  controls->addSpacing(12);
  zoom_ = new QCheckBox(tr("Zoom on epochs ≥ 1"));
  zoom_->setChecked(true);
  zoom_->setToolTip(
      tr("Fit the axes to the fine-tuned epochs and the reference lines; an epoch-0 point far "
         "below (a vanilla average before fine-tuning) is named on the plot instead."));
  connect(zoom_, &QCheckBox::toggled, this, [this] {
    dirty_ = true;
    replotIfDirty();
  });
  controls->addWidget(zoom_);
  controls->addSpacing(12);
  startButton_ = new QPushButton(tr("Fine-tune"));
  startButton_->setToolTip(
      tr("Fine-tune the OT-fused model and the vanilla average of the last fusion with the same "
         "budget (Ctrl+T)."));
  controls->addWidget(startButton_);
  cancelButton_ = new QPushButton(tr("Cancel"));
  cancelButton_->setEnabled(false);
  controls->addWidget(cancelButton_);
  controls->addStretch(1);
  layout->addLayout(controls);
  note_ = new QLabel(
      tr("OT fusion and vanilla averaging of the last fusion, fine-tuned with the same budget "
         "and data order; dashed lines: the parents and their prediction ensemble (not "
         "fine-tuned). BatchNorm models start from the re-estimated statistics."));
  note_->setWordWrap(true);
  note_->setStyleSheet("color: palette(placeholder-text);");
  layout->addWidget(note_);
  connect(startButton_, &QPushButton::clicked, this, [this] { start(); });
  connect(cancelButton_, &QPushButton::clicked, this, &FinetuneView::cancel);

  accuracy_ = makePlot(tr("Fine-tuning after fusion: test accuracy"), tr("test accuracy (%)"));
  loss_ = makePlot(tr("Fine-tuning after fusion: test loss"), tr("test loss (cross-entropy)"));
  accuracy_->yAxis->setRange(0, 100);
  auto offAxisLabel = [](QCustomPlot* plot, bool bottom) {
    auto* t = new QCPItemText(plot);
    t->position->setType(QCPItemPosition::ptAxisRectRatio);
    t->position->setCoords(0.02, bottom ? 0.98 : 0.02);
    t->setPositionAlignment(Qt::AlignLeft | (bottom ? Qt::AlignBottom : Qt::AlignTop));
    t->setTextAlignment(Qt::AlignLeft);
    t->setColor(QColor(80, 80, 80));
    t->setFont(QFont(plot->font().family(), 8));
    t->setBrush(QColor(255, 255, 255, 230));
    t->setPadding(QMargins(4, 2, 4, 2));
    t->setVisible(false);
    return t;
  };
  accuracyOffAxis_ = offAxisLabel(accuracy_, true);
  lossOffAxis_ = offAxisLabel(loss_, true);  // bottom left: the legend is top right
  auto* row = new QHBoxLayout;
  row->addWidget(accuracy_, 3);
  row->addWidget(loss_, 2);
  layout->addLayout(row, 1);
  status_ = new QLabel(tr("Run a fusion, then Fine-tune (Run ▸ Fine-tune…, Ctrl+T)."));
  status_->setWordWrap(true);
  layout->addWidget(status_);

  // Only this view's job: its end re-enables the controls.
  auto ended = [this](int job, const QString& text) {
    if (job != job_) return;
    job_ = -1;
    startButton_->setEnabled(true);
    cancelButton_->setEnabled(false);
    setStatus(text);
    dirty_ = true;
    emit runEnded(job);
  };
  connect(controller_, &EngineController::jobFailed, this,
          [this, ended](int job, JobKind, const QString& message) {
            ended(job, tr("Failed: %1").arg(message));
          });
  auto stopped = [this, ended](int job, JobKind) {
    if (job != job_) return;
    const int done = points_.value("vanilla").size() > 1 ? points_.value("vanilla").size() - 1
                                                         : std::max(0, int(points_.value("fused").size()) - 1);
    ended(job, tr("Cancelled (%1 of %2 epochs of %3 done); the points so far stay.")
                   .arg(done)
                   .arg(plannedEpochs_)
                   .arg(points_.value("vanilla").isEmpty() ? tr("OT fusion") : tr("vanilla")));
  };
  connect(controller_, &EngineController::jobCancelled, this, stopped);
  connect(controller_, &EngineController::jobAbandoned, this, stopped);
  connect(controller_, &EngineController::jobFinished, this, [this, ended](int job, JobKind) {
    if (job != job_) return;
    const auto f = points_.value("fused"), v = points_.value("vanilla");
    QString text = tr("Done: %1 epochs.").arg(plannedEpochs_);
    if (!f.isEmpty() && !v.isEmpty() && f.size() == v.size()) {
      int below = 0;
      for (int i = 0; i < f.size(); ++i) below += f[i].accuracy < v[i].accuracy;
      text += below == 0 ? tr(" OT fusion is at or above vanilla averaging at every epoch "
                              "(after %1 epochs: %2 % vs %3 %).")
                               .arg(plannedEpochs_)
                               .arg(f.back().accuracy, 0, 'f', 2)
                               .arg(v.back().accuracy, 0, 'f', 2)
                         : tr(" OT fusion is below vanilla averaging at %n epoch(s) "
                              "(after %1 epochs: %2 % vs %3 %).", nullptr, below)
                               .arg(plannedEpochs_)
                               .arg(f.back().accuracy, 0, 'f', 2)
                               .arg(v.back().accuracy, 0, 'f', 2);
    }
    ended(job, text);
  });

  replotTimer_.setInterval(100);
  connect(&replotTimer_, &QTimer::timeout, this, &FinetuneView::replotIfDirty);
  replotTimer_.start();
}

FinetuneRequest FinetuneView::request() const {
  FinetuneRequest r;
  r.epochs = epochs_->value();
  r.learningRate = lr_->value();
  r.momentum = momentum_->value();
  r.seed = uint64_t(seed_->value());
  r.limit = limit_->value();
  r.testLimit = testLimit_;
  return r;
}

void FinetuneView::setEpochs(int epochs) { epochs_->setValue(epochs); }
int FinetuneView::epochs() const { return epochs_->value(); }
void FinetuneView::setLearningRate(double lr) { lr_->setValue(lr); }
void FinetuneView::setTrainingLimit(long long limit) { limit_->setValue(int(limit)); }
void FinetuneView::setZoomed(bool zoomed) { zoom_->setChecked(zoomed); }
bool FinetuneView::zoomed() const { return zoom_->isChecked(); }
QString FinetuneView::offAxisNote(bool loss) const {
  const QCPItemText* t = loss ? lossOffAxis_ : accuracyOffAxis_;
  return t->visible() ? t->text() : QString();
}

int FinetuneView::start() {
  if (job_ >= 0) {
    setStatus(tr("A fine-tuning run is going; cancel it first."));
    return -1;
  }
  const auto [fusion, outcome] = source_ ? source_() : std::make_pair(FusionRequest(), OutcomePtr());
  if (!outcome || !outcome->fused) {
    setStatus(tr("No fusion to fine-tune yet: run the fusion first (Run ▸ Run fusion, Ctrl+R)."));
    return -1;
  }
  FinetuneRequest r = request();
  r.dataDir = fusion.dataDir;
  clear();
  plannedEpochs_ = r.epochs;
  auto relay = std::shared_ptr<FinetuneRelay>(new FinetuneRelay, [](FinetuneRelay* p) { p->deleteLater(); });
  connect(relay.get(), &FinetuneRelay::point, this,
          [this](const QString& series, int epoch, double acc, double loss, double trainLoss, double lr) {
            FinetunePoint p;
            p.epoch = epoch;
            p.accuracy = acc;
            p.loss = loss;
            p.trainLoss = trainLoss;
            p.learningRate = lr;
            addPoint(series, p);
            setStatus(tr("Fine-tuning %1: epoch %2 of %3 done, test accuracy %4 %…")
                          .arg(series == "fused" ? tr("OT fusion") : tr("the vanilla average"))
                          .arg(epoch)
                          .arg(plannedEpochs_)
                          .arg(acc, 0, 'f', 2));
          },
          Qt::QueuedConnection);
  connect(relay.get(), &FinetuneRelay::reference, this,
          [this](const QString& key, const QString& label, double acc, double loss) {
            addReference(key, label, {acc, loss});
          },
          Qt::QueuedConnection);
  job_ = controller_->submitTask(
      JobKind::Finetune, [relay, fusion = fusion, outcome = outcome, r](const ProgressFn& progress,
                                                                        const CancelFlag* cancel) {
        compareFinetuning(
            fusion, *outcome, r,
            [&relay](const std::string& series, const FinetunePoint& p) {
              emit relay->point(QString::fromStdString(series), p.epoch, p.accuracy, p.loss,
                                p.trainLoss, p.learningRate);
            },
            progress, cancel, [&relay](const FinetuneReference& ref) {
              emit relay->reference(QString::fromStdString(ref.key),
                                    QString::fromStdString(ref.label), ref.score.accuracy,
                                    ref.score.loss);
            });
      });
  startButton_->setEnabled(false);
  cancelButton_->setEnabled(true);
  setStatus(tr("Fine-tuning OT fusion and the vanilla average for %1 epochs (lr %2, momentum %3, seed %4)…")
                .arg(r.epochs)
                .arg(r.learningRate)
                .arg(r.momentum)
                .arg(r.seed));
  return job_;
}

void FinetuneView::cancel() {
  if (job_ >= 0) controller_->cancel(job_);
}

void FinetuneView::clear() {
  points_.clear();
  references_.clear();
  for (QCPGraph* g : graphs_) g->parentPlot()->removeGraph(g);
  graphs_.clear();
  dirty_ = true;
}

QCPGraph* FinetuneView::graphFor(const QString& series, bool loss) {
  const QString key = series + (loss ? "/loss" : "");
  if (QCPGraph* g = graphs_.value(key)) return g;
  QCustomPlot* plot = loss ? loss_ : accuracy_;
  QCPGraph* g = plot->addGraph();
  if (series.startsWith("ref/")) {
    g->setPen(referencePen(series.section('/', 1, 1)));
    g->setLineStyle(QCPGraph::lsLine);
  } else {
    g->setName(series == "fused" ? tr("OT fusion, fine-tuned") : tr("vanilla average, fine-tuned"));
    g->setPen(QPen(seriesColor(series), 2.2));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, seriesColor(series), Qt::white, 7));
  }
  graphs_.insert(key, g);
  return g;
}

void FinetuneView::addReference(const QString& key, const QString& label, const Score& score) {
  references_.insert(key, {label, score});
  QString name = label;
  if (!name.isEmpty()) name[0] = name[0].toUpper();
  graphFor("ref/" + key, false)->setName(tr("%1 (%2 %)").arg(name).arg(score.accuracy, 0, 'f', 2));
  graphFor("ref/" + key, true)->setName(tr("%1 (%2)").arg(name).arg(score.loss, 0, 'f', 3));
  updateReferenceSpans();
  dirty_ = true;
}

void FinetuneView::updateReferenceSpans() {
  // Horizontal lines across the whole epoch axis (a little beyond both ends).
  const double x1 = -0.5, x2 = std::max(1, plannedEpochs_) + 0.5;
  for (auto it = references_.cbegin(); it != references_.cend(); ++it) {
    if (QCPGraph* g = graphs_.value("ref/" + it.key()))
      g->setData({x1, x2}, {it->second.accuracy, it->second.accuracy});
    if (QCPGraph* g = graphs_.value("ref/" + it.key() + "/loss"))
      g->setData({x1, x2}, {it->second.loss, it->second.loss});
  }
}

void FinetuneView::addPoint(const QString& series, const FinetunePoint& p) {
  points_[series].append(p);
  if (p.epoch > plannedEpochs_) {
    plannedEpochs_ = p.epoch;
    updateReferenceSpans();
  }
  graphFor(series, false)->addData(p.epoch, p.accuracy);
  graphFor(series, true)->addData(p.epoch, p.loss);
  dirty_ = true;
}

int FinetuneView::drawnPoints(const QString& series) const {
  QCPGraph* g = graphs_.value(series);
  return g ? g->dataCount() : -1;
}

QJsonObject FinetuneView::toJson() const {
  if (points_.isEmpty() && references_.isEmpty()) return {};
  QJsonObject o;
  const FinetuneRequest r = request();
  o["options"] = QJsonObject{{"epochs", plannedEpochs_}, {"lr", r.learningRate},
                             {"momentum", r.momentum}, {"seed", double(r.seed)},
                             {"limit", double(r.limit)}};
  QJsonObject series;
  for (auto it = points_.cbegin(); it != points_.cend(); ++it) {
    QJsonArray pts;
    for (const FinetunePoint& p : it.value())
      pts.append(QJsonObject{{"epoch", p.epoch},
                             {"accuracy", p.accuracy},
                             {"loss", p.loss},
                             {"trainLoss", std::isfinite(p.trainLoss) ? QJsonValue(p.trainLoss) : QJsonValue()},
                             {"lr", p.learningRate}});
    series[it.key()] = pts;
  }
  o["series"] = series;
  QJsonObject refs;
  for (auto it = references_.cbegin(); it != references_.cend(); ++it)
    refs[it.key()] = QJsonObject{{"label", it->first},
                                 {"accuracy", it->second.accuracy},
                                 {"loss", it->second.loss}};
  o["references"] = refs;
  return o;
}

void FinetuneView::fromJson(const QJsonObject& json) {
  if (job_ >= 0) return;  // a run is going: it owns the plot
  clear();
  plannedEpochs_ = 0;
  if (json.isEmpty()) {
    dirty_ = true;
    return;
  }
  const QJsonObject opt = json.value("options").toObject();
  if (opt.contains("epochs")) epochs_->setValue(opt.value("epochs").toInt(epochs_->value()));
  if (opt.contains("lr")) lr_->setValue(opt.value("lr").toDouble(lr_->value()));
  if (opt.contains("momentum")) momentum_->setValue(opt.value("momentum").toDouble(momentum_->value()));
  if (opt.contains("seed")) seed_->setValue(opt.value("seed").toInt());
  if (opt.contains("limit")) limit_->setValue(opt.value("limit").toInt());
  plannedEpochs_ = opt.value("epochs").toInt();
  const QJsonObject refs = json.value("references").toObject();
  for (auto it = refs.begin(); it != refs.end(); ++it) {
    const QJsonObject r = it.value().toObject();
    if (!r.value("accuracy").isDouble()) continue;
    addReference(it.key(), r.value("label").toString(it.key()),
                 {r.value("accuracy").toDouble(), r.value("loss").toDouble()});
  }
  const QJsonObject series = json.value("series").toObject();
  for (const QString& name : {QString("fused"), QString("vanilla")}) {
    for (const QJsonValue& v : series.value(name).toArray()) {
      const QJsonObject p = v.toObject();
      if (!p.value("epoch").isDouble() || !p.value("accuracy").isDouble()) continue;
      FinetunePoint pt;
      pt.epoch = p.value("epoch").toInt();
      pt.accuracy = p.value("accuracy").toDouble();
      pt.loss = p.value("loss").toDouble();
      pt.trainLoss = p.value("trainLoss").isDouble() ? p.value("trainLoss").toDouble()
                                                     : std::numeric_limits<double>::quiet_NaN();
      pt.learningRate = p.value("lr").toDouble();
      addPoint(name, pt);
    }
  }
  setStatus(tr("Stored fine-tuning run (from the session): %1 epochs.").arg(plannedEpochs_));
}

QString FinetuneView::status() const { return status_->text(); }
void FinetuneView::setStatus(const QString& text) { status_->setText(text); }
QList<QCustomPlot*> FinetuneView::plots() const { return {accuracy_, loss_}; }

void FinetuneView::replotIfDirty() {
  if (!dirty_) return;
  dirty_ = false;
  const double xMax = std::max(1, plannedEpochs_) + 0.3;
  for (QCustomPlot* p : plots()) p->xAxis->setRange(-0.3, xMax);
  const bool zoom = zoom_->isChecked();
  bool fineTuned = false;
  for (const auto& pts : points_)
    for (const FinetunePoint& p : pts) fineTuned = fineTuned || p.epoch >= 1;
  // The values the axes must show: every point (zoomed: of epochs >= 1, once there are
  // some) and every reference line.
  // Zoomed, an epoch-0 point stays in view unless it lies more than twice the spread of the
  // others away from them (the vanilla average before fine-tuning, typically).
  auto valuesOf = [&](bool loss) {
    QVector<double> v, start;
    for (const auto& pts : points_)
      for (const FinetunePoint& p : pts)
        (zoom && fineTuned && p.epoch == 0 ? start : v) << (loss ? p.loss : p.accuracy);
    for (const auto& ref : references_) v << (loss ? ref.second.loss : ref.second.accuracy);
    if (!v.isEmpty()) {
      const auto [mn, mx] = std::minmax_element(v.begin(), v.end());
      const double lo = *mn, hi = *mx, band = 2 * std::max(hi - lo, loss ? 0.01 : 0.5);
      for (double x : start)
        if (x >= lo - band && x <= hi + band) v << x;
    }
    return v;
  };
  // Epoch-0 points outside [lo, hi], named.
  auto offAxis = [&](bool loss, double lo, double hi) {
    QStringList out;
    for (auto it = points_.cbegin(); it != points_.cend(); ++it)
      for (const FinetunePoint& p : it.value()) {
        const double v = loss ? p.loss : p.accuracy;
        if (p.epoch == 0 && (v < lo || v > hi))
          out << tr("%1 at epoch 0: %2%3 (%4 the axis)")
                     .arg(it.key() == "fused" ? tr("OT fusion") : tr("vanilla average"))
                     .arg(v, 0, 'f', loss ? 3 : 2)
                     .arg(loss ? QString() : QString(" %"))
                     .arg(v < lo ? tr("below") : tr("above"));
      }
    return out.join("\n");
  };
  {
    const QVector<double> v = valuesOf(false);
    if (!v.isEmpty()) {
      const auto [mn, mx] = std::minmax_element(v.begin(), v.end());
      const double span = std::max(zoom ? 0.5 : 1.0, *mx - *mn);
      const double lo = std::max(0.0, *mn - 0.15 * span), hi = std::min(100.0, *mx + 0.12 * span);
      accuracy_->yAxis->setRange(zoom ? lo : std::floor(lo), zoom ? hi : std::ceil(hi));
    } else {
      accuracy_->yAxis->setRange(0, 100);
    }
    const QCPRange r = accuracy_->yAxis->range();
    const QString note = offAxis(false, r.lower, r.upper);
    accuracyOffAxis_->setText(QString::fromUtf8("\u25bc ") + note);
    accuracyOffAxis_->setVisible(!note.isEmpty());
  }
  {
    const QVector<double> v = valuesOf(true);
    if (!v.isEmpty()) {
      const double mx = *std::max_element(v.begin(), v.end());
      loss_->yAxis->setRange(0, mx > 0 ? mx * 1.15 : 1);
    }
    const QCPRange r = loss_->yAxis->range();
    const QString note = offAxis(true, r.lower, r.upper);
    lossOffAxis_->setText(QString::fromUtf8("\u25b2 ") + note);
    lossOffAxis_->setVisible(!note.isEmpty());
  }
  // Legends where the curves are not: accuracy rises (bottom right), loss falls (top right).
  accuracy_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
  loss_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  for (QCustomPlot* p : plots()) {
    p->legend->setVisible(p->graphCount() > 0);
    p->replot();
  }
}

}  // namespace otfuse::ui

#include "finetune_view.moc"
