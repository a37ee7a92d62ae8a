#include "curves/curves_view.h"

#include <qcustomplot.h>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace otfuse::ui {

namespace {

QCustomPlot* makePlot(const QString& title, const QString& xLabel, const QString& yLabel) {
  auto* plot = new QCustomPlot;
  plot->setMinimumSize(320, 220);
  plot->plotLayout()->insertRow(0);
  plot->plotLayout()->addElement(
      0, 0, new QCPTextElement(plot, title, QFont(plot->font().family(), 10, QFont::Bold)));
  plot->xAxis->setLabel(xLabel);
  plot->yAxis->setLabel(yLabel);
  plot->legend->setVisible(false);
  plot->legend->setFont(QFont(plot->font().family(), 8));
  plot->legend->setBrush(QColor(255, 255, 255, 220));
  plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  return plot;
}

QColor seriesColor(const QString& series) {
  if (series == "vanilla") return QColor(230, 85, 13);
  if (series == "aligned") return QColor(33, 113, 181);
  if (series == "progressive") return QColor(49, 163, 84);
  if (series == "sinkhorn") return QColor(117, 107, 177);
  if (series == "sinkhorn_limit") return QColor(203, 24, 29);
  if (series == "fused") return QColor(33, 113, 181);
  if (series == "fused_bn") return QColor(107, 174, 214);
  if (series == "ensemble") return QColor(117, 107, 177);
  return QColor(99, 99, 99);
}

QString seriesName(const QString& curve, const QString& series) {
  if (series == "vanilla") return QObject::tr("vanilla (A as is)");
  if (series == "aligned") return QObject::tr("OT-aligned A");
  if (series == "progressive") return QObject::tr("l = 0: vanilla average, l = L: OT fusion");
  if (series == "sinkhorn") return QObject::tr("Sinkhorn fusion");
  if (series == "sinkhorn_limit") return QObject::tr("iteration limit reached (approximate plans)");
  if (curve == "growth" && series == "fused") return QObject::tr("OT fusion of the n models");
  if (curve == "growth" && series == "fused_bn")
    return QObject::tr("OT fusion, BN re-estimated");
  if (curve == "growth" && series == "ensemble")
    return QObject::tr("prediction ensemble of the same n");
  return curve + "/" + series;
}

}  // namespace

CurvesView::CurvesView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  auto* controls = new QHBoxLayout;
  auto* all = new QPushButton(tr("Compute all curves"));
  all->setToolTip(tr("Compute the three curves for the current pair and settings."));
  controls->addWidget(all);
  controls->addSpacing(12);
  controls->addWidget(new QLabel(tr("t points")));
  interpPoints_ = new QSpinBox;
  interpPoints_->setRange(2, 101);
  interpPoints_->setValue(11);
  interpPoints_->setToolTip(tr("Number of evenly spaced t values in [0, 1] on the path."));
  controls->addWidget(interpPoints_);
  auto* interp = new QPushButton(tr("Interpolation"));
  interp->setToolTip(tr("Accuracy along (1 − t)·A + t·B, with and without aligning A first."));
  controls->addWidget(interp);
  auto* prog = new QPushButton(tr("Progressive"));
  prog->setToolTip(tr("Accuracy of A after aligning its layers 1..l onto B."));
  controls->addWidget(prog);
  controls->addSpacing(12);
  controls->addWidget(new QLabel(tr("ε from")));
  epsFrom_ = new QDoubleSpinBox;
  epsFrom_->setDecimals(4);
  epsFrom_->setRange(0.0001, 1000);
  epsFrom_->setValue(0.01);
  epsFrom_->setToolTip(tr("Smallest Sinkhorn epsilon of the sweep."));
  controls->addWidget(epsFrom_);
  controls->addWidget(new QLabel(tr("to")));
  epsTo_ = new QDoubleSpinBox;
  epsTo_->setDecimals(4);
  epsTo_->setRange(0.0001, 1000);
  epsTo_->setValue(10);
  epsTo_->setToolTip(tr("Largest Sinkhorn epsilon of the sweep (log-spaced)."));
  controls->addWidget(epsTo_);
  epsPoints_ = new QSpinBox;
  epsPoints_->setRange(1, 50);
  epsPoints_->setValue(7);
  epsPoints_->setToolTip(tr("Number of epsilon values in the sweep."));
  controls->addWidget(epsPoints_);
  auto* eps = new QPushButton(tr("Sinkhorn ε"));
  eps->setToolTip(tr("Fused accuracy against the Sinkhorn regularization."));
  controls->addWidget(eps);
  controls->addSpacing(12);
  auto* growth = new QPushButton(tr("As N grows"));
  growth->setToolTip(
      tr("Fused accuracy of the anchor plus the first n − 1 other checked models, n = 1..N, "
         "against the prediction ensemble of the same n models."));
  controls->addWidget(growth);
  controls->addStretch(1);
  layout->addLayout(controls);
  pairNote_ = new QLabel;
  pairNote_->setWordWrap(true);
  pairNote_->setVisible(false);
  layout->addWidget(pairNote_);
  connect(all, &QPushButton::clicked, this, [this] { emit computeRequested("all"); });
  connect(interp, &QPushButton::clicked, this, [this] { emit computeRequested("interpolation"); });
  connect(prog, &QPushButton::clicked, this, [this] { emit computeRequested("progressive"); });
  connect(eps, &QPushButton::clicked, this, [this] { emit computeRequested("epsilon"); });
  connect(growth, &QPushButton::clicked, this, [this] { emit computeRequested("growth"); });

  interpAcc_ = makePlot(tr("(a) Path (1 − t)·A + t·B: accuracy"), tr("t"),
                        tr("test accuracy (%)"));
  interpLoss_ = makePlot(tr("(a) Interpolation path: loss"), tr("t"), tr("test loss"));
  progressive_ = makePlot(tr("(b) Align layers 1..l, average the rest"),
                          tr("layers aligned (l)"), tr("test accuracy of the average (%)"));
  epsilon_ = makePlot(tr("(c) Fused accuracy against Sinkhorn ε"), tr("ε (log scale)"),
                      tr("test accuracy (%)"));
  growth_ = makePlot(tr("(d) Fusion as N grows vs. the ensemble"), tr("models fused (n)"),
                     tr("test accuracy (%)"));
  growth_->yAxis->setRange(0, 100);
  growth_->xAxis->setRange(0.7, 2.3);
  {
    QSharedPointer<QCPAxisTickerFixed> fixed(new QCPAxisTickerFixed);
    fixed->setTickStep(1);
    fixed->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    growth_->xAxis->setTicker(fixed);
  }
  epsilon_->xAxis->setScaleType(QCPAxis::stLogarithmic);
  epsilon_->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
  interpAcc_->xAxis->setRange(0, 1);
  interpLoss_->xAxis->setRange(0, 1);
  interpAcc_->yAxis->setRange(0, 100);
  progressive_->yAxis->setRange(0, 100);
  epsilon_->yAxis->setRange(0, 100);
  epsilon_->xAxis->setRange(0.01, 10);
  exactLine_ = new QCPItemStraightLine(epsilon_);
  exactLine_->setPen(QPen(QColor(99, 99, 99), 1.2, Qt::DashLine));
  exactLine_->setVisible(false);
  exactLabel_ = new QCPItemText(epsilon_);
  exactLabel_->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
  exactLabel_->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
  exactLabel_->position->setTypeY(QCPItemPosition::ptPlotCoords);
  exactLabel_->setColor(QColor(80, 80, 80));
  exactLabel_->setVisible(false);

  auto* grid = new QGridLayout;
  auto addCell = [&](QCustomPlot* plot, const QString& curve, int row, int col) {
    auto* box = new QVBoxLayout;
    box->addWidget(plot, 1);
    auto* label = new QLabel;
    label->setStyleSheet("color: palette(placeholder-text);");
    box->addWidget(label);
    if (!curve.isEmpty()) status_.insert(curve, label);
    if (curve == "epsilon") {
      epsilonWarning_ = new QLabel;
      epsilonWarning_->setObjectName("epsilonWarning");
      epsilonWarning_->setWordWrap(true);
      epsilonWarning_->setStyleSheet("color: rgb(203, 24, 29);");
      epsilonWarning_->setVisible(false);
      box->addWidget(epsilonWarning_);
    }
    grid->addLayout(box, row, col);
  };
  addCell(interpAcc_, "interpolation", 0, 0);
  addCell(interpLoss_, QString(), 0, 1);
  addCell(progressive_, "progressive", 1, 0);
  addCell(epsilon_, "epsilon", 1, 1);
  {
    auto* box = new QVBoxLayout;
    box->addWidget(growth_, 1);
    auto* label = new QLabel;
    label->setStyleSheet("color: palette(placeholder-text);");
    box->addWidget(label);
    status_.insert("growth", label);
    grid->addLayout(box, 0, 2, 2, 1);  // both rows: the reviewers' question gets room
  }
  grid->setColumnStretch(0, 1);
  grid->setColumnStretch(1, 1);
  grid->setColumnStretch(2, 1);
  layout->addLayout(grid, 1);
  for (const QString& c : curveNames()) setStatus(c, tr("Not computed yet."));

  replotTimer_.setInterval(100);
  connect(&replotTimer_, &QTimer::timeout, this, &CurvesView::replotIfDirty);
  replotTimer_.start();
}

QList<QCustomPlot*> CurvesView::plots() const {
  return {interpAcc_, interpLoss_, progressive_, epsilon_, growth_};
}

const QStringList& CurvesView::curveNames() {
  static const QStringList names{"interpolation", "progressive", "epsilon", "growth"};
  return names;
}

void CurvesView::setModelsNote(const QString& note) {
  pairNote_->setText(note);
  pairNote_->setVisible(!note.isEmpty());
}

QString CurvesView::modelsNote() const {
  return pairNote_->text();
}

void CurvesView::setStatus(const QString& curve, const QString& text) {
  if (QLabel* l = status_.value(curve)) l->setText(text);
}

int CurvesView::interpolationPoints() const {
  return interpPoints_->value();
}
double CurvesView::epsilonFrom() const {
  return epsFrom_->value();
}
double CurvesView::epsilonTo() const {
  return epsTo_->value();
}
int CurvesView::epsilonPoints() const {
  return epsPoints_->value();
}
void CurvesView::setRanges(int interpolationPoints, double epsFrom, double epsTo, int epsPoints) {
  interpPoints_->setValue(interpolationPoints);
  epsFrom_->setValue(epsFrom);
  epsTo_->setValue(epsTo);
  epsPoints_->setValue(epsPoints);
}

QCPGraph* CurvesView::graphFor(const QString& curve, const QString& series, bool loss) {
  const QString key = curve + "/" + series + (loss ? "/loss" : "");
  if (QCPGraph* g = graphs_.value(key)) return g;
  QCustomPlot* plot = curve == "interpolation" ? (loss ? interpLoss_ : interpAcc_)
                      : curve == "progressive" ? progressive_
                      : curve == "growth"      ? growth_
                                               : epsilon_;
  QCPGraph* g = plot->addGraph();
  // Accuracy curves sit high: keep their legend at the bottom; loss curves sit low.
  plot->axisRect()->insetLayout()->setInsetAlignment(
      0, loss ? (Qt::AlignTop | Qt::AlignRight) : (Qt::AlignBottom | Qt::AlignRight));
  g->setName(seriesName(curve, series));
  g->setPen(QPen(seriesColor(series), 2));
  g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, seriesColor(series), Qt::white, 7));
  if (series == "sinkhorn_limit") {
    // Marks on top of the Sinkhorn curve, no line of their own.
    g->setLineStyle(QCPGraph::lsNone);
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCrossCircle, seriesColor(series),
                                       Qt::white, 11));
  }
  graphs_.insert(key, g);
  return g;
}

void CurvesView::clearCurve(const QString& curve) {
  for (auto it = points_.begin(); it != points_.end();)
    it = it.key().startsWith(curve + "/") ? points_.erase(it) : std::next(it);
  for (auto it = graphs_.begin(); it != graphs_.end();) {
    if (it.key().startsWith(curve + "/")) {
      it.value()->parentPlot()->removeGraph(it.value());
      it = graphs_.erase(it);
    } else {
      ++it;
    }
  }
  if (curve == "epsilon") {
    exactLine_->setVisible(false);
    exactLabel_->setVisible(false);
    updateEpsilonWarning();
  }
  dirty_ = true;
}

QString CurvesView::epsilonWarning() const {
  return epsilonWarning_->text();
}

void CurvesView::updateEpsilonWarning() {
  QStringList at;
  for (const QString& series : {QString("exact"), QString("sinkhorn")})
    for (const CurvePoint& p : points_.value("epsilon/" + series))
      if (p.layersAtIterationLimit > 0)
        at << (series == "exact" ? tr("exact OT") : tr("ε = %1").arg(p.x, 0, 'g', 3)) +
                  tr(" (%n layer(s), marginal error up to %1)", nullptr, p.layersAtIterationLimit)
                      .arg(p.maxMarginalError, 0, 'g', 2);
  epsilonWarning_->setText(at.isEmpty() ? QString()
                                        : tr("Solver stopped at its iteration limit at %1: "
                                             "those points come from approximate plans.")
                                              .arg(at.join(", ")));
  epsilonWarning_->setVisible(!at.isEmpty());
}

void CurvesView::clearAll() {
  for (const QString& c : curveNames()) {
    clearCurve(c);
    setStatus(c, tr("Not computed yet."));
  }
}

void CurvesView::addPoint(const QString& curve, const QString& series, const CurvePoint& point) {
  points_[curve + "/" + series].append(point);
  if (curve == "epsilon" && series == "exact") {
    exactLine_->point1->setCoords(1e-9, point.accuracy);
    exactLine_->point2->setCoords(1e9, point.accuracy);
    exactLine_->setVisible(true);
    exactLabel_->position->setCoords(0.02, point.accuracy);
    exactLabel_->setText(tr("exact OT: %1 %").arg(point.accuracy, 0, 'f', 2));
    exactLabel_->setVisible(true);
  } else {
    graphFor(curve, series, false)->addData(point.x, point.accuracy);
    if (curve == "interpolation") graphFor(curve, series, true)->addData(point.x, point.loss);
    if (curve == "epsilon" && point.layersAtIterationLimit > 0)
      graphFor(curve, "sinkhorn_limit", false)->addData(point.x, point.accuracy);
  }
  if (curve == "epsilon") updateEpsilonWarning();
  dirty_ = true;
}

QVector<CurvePoint> CurvesView::points(const QString& curve, const QString& series) const {
  return points_.value(curve + "/" + series);
}

int CurvesView::drawnPoints(const QString& curve, const QString& series) const {
  QCPGraph* g = graphs_.value(curve + "/" + series);
  return g ? g->dataCount() : -1;
}

void CurvesView::replotIfDirty() {
  if (!dirty_) return;
  dirty_ = false;
  // Accuracy axes: 0..100 unless all points sit high, then zoom in with a margin.
  auto fitAccuracy = [](QCustomPlot* plot) {
    bool found = false;
    QCPRange r;
    for (int i = 0; i < plot->graphCount(); ++i) {
      bool ok = false;
      QCPRange gr = plot->graph(i)->getValueRange(ok);
      if (!ok) continue;
      r = found ? QCPRange(std::min(r.lower, gr.lower), std::max(r.upper, gr.upper)) : gr;
      found = true;
    }
    if (!found) return;
    const double lo = std::max(0.0, std::floor((r.lower - 5) / 10) * 10);
    plot->yAxis->setRange(lo, std::min(100.0, std::ceil((r.upper + 2) / 5) * 5));
  };
  fitAccuracy(interpAcc_);
  fitAccuracy(progressive_);
  fitAccuracy(epsilon_);
  fitAccuracy(growth_);
  for (int i = 0; i < growth_->graphCount(); ++i) {
    bool found = false;
    QCPRange kr = growth_->graph(i)->getKeyRange(found);
    if (found) growth_->xAxis->setRange(std::min(0.7, kr.lower - 0.3), std::max(2.3, kr.upper + 0.3));
  }
  if (exactLine_->visible()) {
    const double acc = exactLine_->point1->coords().y();
    QCPRange r = epsilon_->yAxis->range();
    epsilon_->yAxis->setRange(std::min(r.lower, std::floor(acc - 5)), std::max(r.upper, acc + 2));
  }
  interpLoss_->rescaleAxes();
  interpLoss_->xAxis->setRange(0, 1);
  QCPRange lr = interpLoss_->yAxis->range();
  interpLoss_->yAxis->setRange(0, lr.upper > 0 ? lr.upper * 1.1 : 1);
  bool ok = false;
  for (int i = 0; i < progressive_->graphCount(); ++i) {
    QCPRange kr = progressive_->graph(i)->getKeyRange(ok);
    if (ok) progressive_->xAxis->setRange(kr.lower - 0.3, kr.upper + 0.3);
  }
  progressive_->xAxis->ticker()->setTickCount(5);
  {
    QSharedPointer<QCPAxisTickerFixed> fixed(new QCPAxisTickerFixed);
    fixed->setTickStep(1);
    fixed->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    progressive_->xAxis->setTicker(fixed);
  }
  {
    bool found = false;
    QCPRange all;
    for (int i = 0; i < epsilon_->graphCount(); ++i) {
      QCPRange kr = epsilon_->graph(i)->getKeyRange(ok);
      if (!ok) continue;
      all = found ? QCPRange(std::min(all.lower, kr.lower), std::max(all.upper, kr.upper)) : kr;
      found = true;
    }
    if (found) epsilon_->xAxis->setRange(all.lower / 1.6, all.upper * 1.6);
  }
  for (QCustomPlot* p : plots()) {
    p->legend->setVisible(p->graphCount() > 0);
    p->replot();
  }
}

}  // namespace otfuse::ui
