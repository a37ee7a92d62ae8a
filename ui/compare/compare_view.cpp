#include "compare/compare_view.h"

#include <qcustomplot.h>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>

namespace otfuse::ui {

namespace {

// One colour per method (the corrected row: the same colour, dashed).
QColor methodColor(const QString& label) {
  const std::vector<std::string> keys = compareMethods();
  static const QColor colors[] = {QColor(230, 85, 13),  QColor(33, 113, 181), QColor(107, 174, 214),
                                  QColor(117, 107, 177), QColor(49, 163, 84),  QColor(203, 24, 29)};
  for (size_t i = 0; i < keys.size() && i < 6; ++i) {
    const QString name = QString::fromStdString(compareMethodLabel(keys[i]));
    if (label == name || label.startsWith(name + " + ")) return colors[i];
  }
  return QColor(99, 99, 99);
}

QTableWidgetItem* cell(const QString& text, bool number = true) {
  auto* item = new QTableWidgetItem(text);
  item->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
  if (number) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
  return item;
}

// Column headers of the agreement matrix (the rows carry the full names).
QString shortName(const std::string& key) {
  if (key == "vanilla") return QObject::tr("Vanilla");
  if (key == "ot-weights") return QObject::tr("OT (wts)");
  if (key == "ot-activations") return QObject::tr("OT (acts)");
  if (key == "ot-sinkhorn") return QObject::tr("Sinkhorn");
  if (key == "weight-matching") return QObject::tr("Wt. match");
  if (key == "activation-matching") return QObject::tr("Act. match");
  return QString::fromStdString(key);
}

QString num(double v, int decimals) {
  return std::isfinite(v) ? QString::number(v, 'f', decimals) : QStringLiteral("–");
}

}  // namespace

CompareView::CompareView(QWidget* parent) : QWidget(parent) {
  auto* controls = new QHBoxLayout;
  t_ = new QDoubleSpinBox;
  t_->setRange(0, 1);
  t_->setSingleStep(0.05);
  t_->setDecimals(2);
  t_->setValue(0.5);
  t_->setToolTip(tr("Weight of B in the merged models of the table"));
  pointCount_ = new QSpinBox;
  pointCount_->setRange(2, 201);
  pointCount_->setValue(25);
  pointCount_->setToolTip(tr("Values of t on every interpolation curve (Git Re-Basin uses 25)"));
  repair_ = new QComboBox;
  repair_->addItem(tr("REPAIR, exact"), "exact");
  repair_->addItem(tr("REPAIR, closed form"), "closed");
  repair_->addItem(tr("none"), "none");
  repair_->setToolTip(
      tr("Correction of the second row of every method: REPAIR resets each hidden channel's "
         "mean and std to the interpolation of the parents' (networks without BatchNorm); "
         "BatchNorm networks get their BN statistics re-estimated instead"));
  yAxis_ = new QComboBox;
  yAxis_->addItem(tr("Accuracy"));
  yAxis_->addItem(tr("Loss"));
  run_ = new QPushButton(tr("Compare methods"));
  run_->setToolTip(tr("Align A onto B with every method and evaluate along t (runs in the background)"));
  cancel_ = new QPushButton(tr("Cancel"));
  cancel_->setEnabled(false);
  controls->addWidget(new QLabel(tr("t")));
  controls->addWidget(t_);
  controls->addWidget(new QLabel(tr("points")));
  controls->addWidget(pointCount_);
  controls->addWidget(new QLabel(tr("correction")));
  controls->addWidget(repair_);
  controls->addWidget(run_);
  controls->addWidget(cancel_);
  controls->addStretch(1);
  controls->addWidget(new QLabel(tr("plot")));
  controls->addWidget(yAxis_);

  status_ = new QLabel(tr("Load two models, then press “Compare methods”."));
  status_->setWordWrap(true);
  parents_ = new QLabel;
  parents_->setTextFormat(Qt::RichText);

  table_ = new QTableWidget(0, 6);
  table_->setHorizontalHeaderLabels({tr("Method"), tr("Acc. at t (%)"), tr("Loss at t"),
                                     tr("Loss barrier"), tr("Acc. barrier"), tr("Time (s)")});
  table_->setWordWrap(false);
  table_->verticalHeader()->setVisible(false);
  table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  for (int c = 1; c < 6; ++c) table_->horizontalHeader()->setSectionResizeMode(c, QHeaderView::Stretch);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setToolTip(
      tr("Loss barrier: the largest loss(t) − ((1 − t)·loss(A) + t·loss(B)) along the curve. "
         "Accuracy barrier: the largest drop below the straight line between the parents' "
         "accuracies."));

  agreement_ = new QTableWidget(0, 0);
  agreement_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  agreement_->setToolTip(tr("Fraction of hidden neurons that two methods match to the same neuron of A"));
  agreement_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);

  plot_ = new QCustomPlot;
  plot_->setMinimumSize(420, 300);
  plot_->plotLayout()->insertRow(0);
  plot_->plotLayout()->addElement(
      0, 0, new QCPTextElement(plot_, tr("Interpolation (1 − t)·A aligned + t·B, every method"),
                               QFont(plot_->font().family(), 10, QFont::Bold)));
  plot_->xAxis->setLabel(tr("t (0 = A aligned, 1 = B)"));
  plot_->yAxis->setLabel(tr("test accuracy (%)"));
  plot_->xAxis->setRange(0, 1);
  plot_->legend->setVisible(false);
  plot_->legend->setFont(QFont(plot_->font().family(), 8));
  plot_->legend->setBrush(QColor(255, 255, 255, 220));
  // The legend sits under the axes (two columns): inside it would hide the curves' dips.
  auto* legendRow = new QCPLayoutGrid;
  plot_->plotLayout()->addElement(2, 0, legendRow);
  legendRow->setMargins(QMargins(5, 0, 5, 5));
  plot_->axisRect()->insetLayout()->take(plot_->legend);
  legendRow->addElement(0, 0, plot_->legend);
  plot_->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  plot_->legend->setWrap(2);
  plot_->legend->setBorderPen(Qt::NoPen);
  plot_->plotLayout()->setRowStretchFactor(2, 0.001);
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);

  auto* left = new QWidget;
  auto* leftLayout = new QVBoxLayout(left);
  leftLayout->setContentsMargins(0, 0, 0, 0);
  leftLayout->addWidget(parents_);
  leftLayout->addWidget(table_, 3);
  note_ = new QLabel;
  note_->setWordWrap(true);
  note_->setVisible(false);
  leftLayout->addWidget(note_);
  auto* agreementTitle = new QLabel(tr("<b>Agreement of the maps</b> (fraction of hidden neurons matched identically)"));
  agreementTitle->setWordWrap(true);
  leftLayout->addWidget(agreementTitle);
  leftLayout->addWidget(agreement_, 2);
  // Any method's maps in the plan and matching views (or double-click its row in the table).
  auto* mapsRow = new QHBoxLayout;
  mapsRow->addWidget(new QLabel(tr("Maps of")));
  mapsMethod_ = new QComboBox;
  mapsMethod_->setToolTip(tr("The method whose neuron maps to draw"));
  mapsRow->addWidget(mapsMethod_, 1);
  showMaps_ = new QPushButton(tr("Show in Transport plans and Neuron matching"));
  showMaps_->setToolTip(
      tr("Draw this method's per-layer maps in the Transport plans and Neuron matching tabs "
         "(double-clicking a row of the table does the same)"));
  mapsRow->addWidget(showMaps_);
  mapsMethod_->setEnabled(false);
  showMaps_->setEnabled(false);
  leftLayout->addLayout(mapsRow);
  leftLayout->addStretch(1);
  auto* split = new QSplitter(Qt::Horizontal);
  split->addWidget(left);
  split->addWidget(plot_);
  split->setStretchFactor(0, 1);
  split->setStretchFactor(1, 1);
  split->setSizes({640, 760});

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addWidget(status_);
  layout->addWidget(split, 1);

  connect(run_, &QPushButton::clicked, this, &CompareView::computeRequested);
  connect(cancel_, &QPushButton::clicked, this, &CompareView::cancelRequested);
  connect(showMaps_, &QPushButton::clicked, this,
          [this] { requestMaps(mapsMethod_->currentData().toString()); });
  connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
    if (row >= 0 && row < rowMethods_.size()) requestMaps(rowMethods_[row]);
  });
  connect(yAxis_, &QComboBox::currentIndexChanged, this, [this](int i) { setShowLoss(i == 1); });
  replotTimer_.setInterval(100);
  connect(&replotTimer_, &QTimer::timeout, this, &CompareView::replotIfDirty);
  replotTimer_.start();
}

void CompareView::fillRequest(CompareRequest* r) const {
  r->t = t_->value();
  r->points = pointCount_->value();
  r->repair = parseRepairMode(repair_->currentData().toString().toStdString());
}

void CompareView::setControls(double t, int points) {
  t_->setValue(t);
  pointCount_->setValue(points);
}

void CompareView::clear() {
  plot_->clearGraphs();
  graphs_.clear();
  points_.clear();
  order_.clear();
  table_->setRowCount(0);
  table_->setMaximumHeight(QWIDGETSIZE_MAX);
  agreement_->setRowCount(0);
  agreement_->setColumnCount(0);
  parents_->clear();
  rowMethods_.clear();
  mapsMethod_->clear();
  mapsMethod_->setEnabled(false);
  showMaps_->setEnabled(false);
  note_->clear();
  note_->setVisible(false);
  plot_->legend->setVisible(false);
  dirty_ = true;
}

QCPGraph* CompareView::graphFor(const QString& label) {
  if (auto it = graphs_.find(label); it != graphs_.end()) return it.value();
  QCPGraph* g = plot_->addGraph();
  g->setName(label);
  QPen pen(methodColor(label), 2);
  if (label.contains(" + ")) pen.setStyle(Qt::DashLine);
  g->setPen(pen);
  g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 3));
  graphs_.insert(label, g);
  order_ << label;
  plot_->legend->setVisible(true);
  return g;
}

void CompareView::addPoint(const QString& label, const CurvePoint& p) {
  points_[label].push_back(p);
  graphFor(label)->addData(p.x, yAxis_->currentIndex() == 1 ? p.loss : p.accuracy);
  dirty_ = true;
}

void CompareView::redrawGraphs() {
  const bool loss = yAxis_->currentIndex() == 1;
  for (auto it = graphs_.begin(); it != graphs_.end(); ++it) {
    QVector<double> x, y;
    for (const auto& p : points_.value(it.key())) {
      x << p.x;
      y << (loss ? p.loss : p.accuracy);
    }
    it.value()->setData(x, y, true);
  }
  plot_->yAxis->setLabel(loss ? tr("test loss (cross-entropy)") : tr("test accuracy (%)"));
  dirty_ = true;
}

void CompareView::setShowLoss(bool loss) {
  if (yAxis_->currentIndex() != (loss ? 1 : 0)) {
    yAxis_->setCurrentIndex(loss ? 1 : 0);  // comes back through the signal
    return;
  }
  redrawGraphs();
  replotIfDirty();
}

void CompareView::replotIfDirty() {
  if (!dirty_) return;
  dirty_ = false;
  if (!graphs_.isEmpty()) {
    bool found = false;
    QCPRange y = QCPRange();
    for (QCPGraph* g : graphs_) {
      bool ok = false;
      QCPRange r = g->getValueRange(ok);
      if (!ok) continue;
      y = found ? QCPRange(std::min(y.lower, r.lower), std::max(y.upper, r.upper)) : r;
      found = true;
    }
    if (found) {
      const double pad = std::max(1e-6, (y.upper - y.lower) * 0.05);
      plot_->yAxis->setRange(y.lower - pad, y.upper + pad);
    }
    plot_->xAxis->setRange(-0.02, 1.02);
  }
  plot_->replot();
}

void CompareView::setOutcome(const CompareOutcome& out) {
  parents_->setText(tr("A: <b>%1 %</b> (loss %2) · B: <b>%3 %</b> (loss %4) · merged at t = %5%6")
                        .arg(num(out.a.accuracy, 2), num(out.a.loss, 4), num(out.b.accuracy, 2),
                             num(out.b.loss, 4), num(out.t, 2))
                        .arg(out.correction.empty()
                                 ? QString()
                                 : tr(" · correction: %1").arg(QString::fromStdString(out.correction))));
  table_->setRowCount(int(out.rows.size()));
  rowMethods_.clear();
  for (int i = 0; i < int(out.rows.size()); ++i) {
    const CompareRow& row = out.rows[size_t(i)];
    rowMethods_ << QString::fromStdString(row.method);
    auto* name = cell(QString::fromStdString(row.label), false);
    name->setForeground(methodColor(QString::fromStdString(row.label)).darker(120));
    table_->setItem(i, 0, name);
    if (!row.error.empty()) {
      auto* why = cell(tr("not applicable: %1").arg(QString::fromStdString(row.error)), false);
      why->setToolTip(why->text());
      table_->setItem(i, 1, why);
      table_->setSpan(i, 1, 1, 5);
      continue;
    }
    table_->setItem(i, 1, cell(num(row.accuracy, 2)));
    table_->setItem(i, 2, cell(num(row.loss, 4)));
    table_->setItem(i, 3, cell(num(row.barrier, 4)));
    table_->setItem(i, 4, cell(num(row.accuracyBarrier, 2)));
    table_->setItem(i, 5, cell(num(row.seconds, 2)));
  }
  // A soft map (Sinkhorn) changes A's function: its curve does not start at A.
  QStringList soft;
  for (const CompareRow& row : out.rows) {
    if (row.corrected || !row.error.empty() || row.curve.empty()) continue;
    const double start = row.curve.front().accuracy;
    if (std::abs(start - out.a.accuracy) > 0.5)
      soft << tr("%1 starts at %2 % at t = 0, not at A's %3 %: its map is not a permutation, "
                 "so A aligned is not A.")
                  .arg(QString::fromStdString(row.label), num(start, 2), num(out.a.accuracy, 2));
  }
  note_->setText(soft.join(' '));
  note_->setVisible(!soft.isEmpty());
  // Both tables as tall as their rows (the space left goes under them).
  table_->resizeRowsToContents();
  int th = table_->horizontalHeader()->height() + 4;
  for (int i = 0; i < table_->rowCount(); ++i) th += table_->rowHeight(i);
  table_->setMaximumHeight(th);
  const int n = int(out.methods.size());
  agreement_->setRowCount(n);
  agreement_->setColumnCount(n);
  QStringList names;
  QStringList shortNames;
  for (const auto& m : out.methods) {
    names << QString::fromStdString(compareMethodLabel(m));
    shortNames << shortName(m);
  }
  agreement_->setHorizontalHeaderLabels(shortNames);
  agreement_->setVerticalHeaderLabels(names);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const double v = out.agreement(i, j);
      auto* c = cell(num(v, 3));
      if (std::isfinite(v)) c->setBackground(QColor::fromRgbF(1.0 - 0.55 * v, 1.0 - 0.25 * v, 1.0));
      agreement_->setItem(i, j, c);
    }
  agreement_->horizontalHeader()->setDefaultAlignment(Qt::AlignCenter);
  agreement_->resizeRowsToContents();
  int h = agreement_->horizontalHeader()->height() + 4;
  for (int i = 0; i < n; ++i) h += agreement_->rowHeight(i);
  agreement_->setMaximumHeight(h);
  mapsMethod_->clear();
  for (const auto& m : out.methods)
    if (out.layers.count(m) && !out.layers.at(m).empty())
      mapsMethod_->addItem(QString::fromStdString(compareMethodLabel(m)), QString::fromStdString(m));
  mapsMethod_->setEnabled(mapsMethod_->count() > 0);
  showMaps_->setEnabled(mapsMethod_->count() > 0);
  dirty_ = true;
  replotIfDirty();
}

void CompareView::setStatus(const QString& text) { status_->setText(text); }

void CompareView::setRunning(bool running) {
  run_->setEnabled(!running);
  cancel_->setEnabled(running);
}

QStringList CompareView::mapMethods() const {
  QStringList keys;
  for (int i = 0; i < mapsMethod_->count(); ++i) keys << mapsMethod_->itemData(i).toString();
  return keys;
}

void CompareView::requestMaps(const QString& method) {
  if (!mapMethods().contains(method)) return;  // an errored method, or nothing computed yet
  emit showMapsRequested(method);
}

QList<QCustomPlot*> CompareView::plots() const { return {plot_}; }
int CompareView::graphCount() const { return plot_->graphCount(); }
int CompareView::tableRows() const { return table_->rowCount(); }

}  // namespace otfuse::ui
