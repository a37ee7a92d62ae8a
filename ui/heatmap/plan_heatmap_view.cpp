#include "heatmap/plan_heatmap_view.h"

#include <qcustomplot.h>
#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QSplitter>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "heatmap/matrix_display.h"
#include "widgets/note_banner.h"

namespace otfuse::ui {

namespace {

QCPColorGradient planGradient() {
  QCPColorGradient g;
  g.setColorStopAt(0.0, QColor(255, 255, 255));
  g.setColorStopAt(0.15, QColor(198, 219, 239));
  g.setColorStopAt(0.5, QColor(66, 146, 198));
  g.setColorStopAt(1.0, QColor(8, 48, 107));
  g.setColorInterpolation(QCPColorGradient::ciRGB);
  return g;
}

QCPColorGradient costGradient() {  // viridis-like
  QCPColorGradient g;
  g.setColorStopAt(0.0, QColor(68, 1, 84));
  g.setColorStopAt(0.25, QColor(59, 82, 139));
  g.setColorStopAt(0.5, QColor(33, 145, 140));
  g.setColorStopAt(0.75, QColor(94, 201, 98));
  g.setColorStopAt(1.0, QColor(253, 231, 37));
  g.setColorInterpolation(QCPColorGradient::ciRGB);
  return g;
}

// Ticks at whole neuron indices: multiples of 1 chosen to give about five ticks.
QSharedPointer<QCPAxisTickerFixed> neuronTicker() {
  QSharedPointer<QCPAxisTickerFixed> ticker(new QCPAxisTickerFixed);
  ticker->setTickStep(1.0);
  ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  ticker->setTickCount(5);
  return ticker;
}

QCPColorMap* makeMap(QCustomPlot* plot, QCPColorScale** scaleOut, const QString& title,
                     const QString& scaleLabel, const QCPColorGradient& gradient) {
  plot->plotLayout()->insertRow(0);
  auto* titleElement =
      new QCPTextElement(plot, title, QFont(plot->font().family(), 10, QFont::Bold));
  plot->plotLayout()->addElement(0, 0, titleElement);
  plot->xAxis->setLabel(QObject::tr("B's neuron j (anchor)"));
  plot->yAxis->setLabel(QObject::tr("A's neuron i"));
  plot->yAxis->setRangeReversed(true);
  plot->xAxis->setTicker(neuronTicker());  // neurons are integers: no 2.5 on a 16-neuron axis
  plot->yAxis->setTicker(neuronTicker());
  plot->xAxis->grid()->setVisible(false);  // grid lines would show through empty cells
  plot->yAxis->grid()->setVisible(false);
  auto* map = new QCPColorMap(plot->xAxis, plot->yAxis);
  map->setInterpolate(false);
  map->setTightBoundary(true);
  auto* scale = new QCPColorScale(plot);
  plot->plotLayout()->addElement(1, 1, scale);
  scale->setType(QCPAxis::atRight);
  scale->setBarWidth(12);
  scale->axis()->setLabel(scaleLabel);
  map->setColorScale(scale);
  map->setGradient(gradient);
  auto* group = new QCPMarginGroup(plot);
  plot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  scale->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  *scaleOut = scale;
  return map;
}

}  // namespace

PlanHeatmapView::PlanHeatmapView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  sourceNote_ = makeNoteBanner();
  layout->addWidget(sourceNote_);
  auto* bar = new QHBoxLayout;
  layer_ = new QComboBox(this);  // the first combo box child (tests find it so)
  layer_->setObjectName("layer");
  modelLabel_ = new QLabel(tr("Plans of"));
  bar->addWidget(modelLabel_);
  model_ = new QComboBox;
  model_->setObjectName("planModel");
  model_->setToolTip(
      tr("Every model is aligned onto the anchor with its own transport plans: the model "
         "whose plans are shown."));
  model_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  bar->addWidget(model_);
  anchorLabel_ = new QLabel;
  bar->addWidget(anchorLabel_);
  modelLabel_->setVisible(false);
  model_->setVisible(false);
  anchorLabel_->setVisible(false);
  bar->addWidget(new QLabel(tr("Layer")));
  layer_->setToolTip(tr("The layer whose transport plan is shown."));
  layer_->setMinimumContentsLength(18);
  bar->addWidget(layer_);
  reorder_ = new QCheckBox(tr("Reorder rows to show the matching as a diagonal"));
  reorder_->setToolTip(
      tr("Sort A's neurons by the B neuron they send most mass to; a hard "
         "matching then appears as the diagonal."));
  bar->addWidget(reorder_);
  bar->addStretch(1);
  layout->addLayout(bar);

  // Second row: which plan (fused / exact / Sinkhorn at the slider's eps) and T or T~.
  auto* bar2 = new QHBoxLayout;
  bar2->addWidget(new QLabel(tr("Plan")));
  source_ = new QComboBox;
  source_->setObjectName("planSource");
  source_->addItem(tr("as the fusion solved it"));
  source_->addItem(tr("exact OT (re-solved)"));
  source_->addItem(tr("Sinkhorn at ε (re-solved)"));
  source_->setToolTip(
      tr("Re-solve this layer's transport problem (same cost and marginals) exactly or with "
         "Sinkhorn at the slider's ε, in the background; the fused model is not changed."));
  bar2->addWidget(source_);
  bar2->addWidget(new QLabel(tr("ε")));
  epsSlider_ = new QSlider(Qt::Horizontal);
  epsSlider_->setObjectName("epsilonSlider");
  epsSlider_->setRange(0, kSliderSteps);
  epsSlider_->setValue(68);  // 0.05 x the mean cost
  epsSlider_->setMinimumWidth(220);
  epsSlider_->setToolTip(
      tr("Entropic regularization, log scale from 0.001 to 1 times the layer's mean cost. "
         "Dragging re-solves the plan with Sinkhorn (warm-started) and redraws it."));
  bar2->addWidget(epsSlider_, 1);
  epsLabel_ = new QLabel;
  epsLabel_->setMinimumWidth(190);
  bar2->addWidget(epsLabel_);
  bar2->addWidget(new QLabel(tr("Show")));
  matrixKind_ = new QComboBox;
  matrixKind_->setObjectName("planMatrixKind");
  matrixKind_->addItem(tr("T (transport plan)"));
  matrixKind_->addItem(tr("T̃ = T diag(1/ν) (map applied)"));
  matrixKind_->setToolTip(
      tr("T: the mass moved between neurons. T̃: T with each column divided by ν_j, the "
         "averaging weights the fusion applies to A's neurons (columns sum to 1)."));
  bar2->addWidget(matrixKind_);
  layout->addLayout(bar2);
  preview_ = new PlanPreviewSolver(this);
  connect(preview_, &PlanPreviewSolver::solved, this, &PlanHeatmapView::onPreview);

  note_ = new QLabel(tr("Run a fusion (Ctrl+R) to see its transport plans."));
  note_->setWordWrap(true);
  layout->addWidget(note_);

  auto* split = new QSplitter(Qt::Horizontal);
  planPlot_ = new QCustomPlot;
  costPlot_ = new QCustomPlot;
  planMap_ =
      makeMap(planPlot_, &planScale_, tr("Transport plan T (mass moved from A's i to B's j)"),
              tr("mass"), planGradient());
  costMap_ = makeMap(costPlot_, &costScale_, tr("Ground cost M (same row order)"), tr("cost"),
                     costGradient());
  for (QCustomPlot* p : {planPlot_, costPlot_}) {
    p->setMinimumSize(300, 280);
    p->setMouseTracking(true);
    connect(p, &QCustomPlot::mouseMove, this, [this, p](QMouseEvent* e) { onHover(e, p); });
  }
  split->addWidget(planPlot_);
  split->addWidget(costPlot_);
  layout->addWidget(split, 1);

  readout_ = new QLabel(tr("Hover over a heatmap to read i, j, mass and cost."));
  readout_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  readout_->setStyleSheet("font-family: monospace;");
  layout->addWidget(readout_);

  auto* bottom = new QHBoxLayout;
  marginalPlot_ = new QCustomPlot;
  marginalPlot_->setMinimumHeight(170);
  marginalPlot_->setMaximumHeight(190);
  marginalPlot_->plotLayout()->insertRow(0);
  marginalPlot_->plotLayout()->addElement(
      0, 0,
      new QCPTextElement(marginalPlot_, tr("Marginals: mass per neuron"),
                         QFont(font().family(), 9, QFont::Bold)));
  marginalPlot_->addGraph();
  marginalPlot_->graph(0)->setName(tr("μ (A, rows)"));
  marginalPlot_->graph(0)->setPen(QPen(QColor(33, 113, 181), 1.5));
  marginalPlot_->graph(0)->setLineStyle(QCPGraph::lsStepCenter);
  marginalPlot_->addGraph();
  marginalPlot_->graph(1)->setName(tr("ν (B, columns)"));
  marginalPlot_->graph(1)->setPen(QPen(QColor(230, 85, 13), 1.5, Qt::DashLine));
  marginalPlot_->graph(1)->setLineStyle(QCPGraph::lsStepCenter);
  marginalPlot_->xAxis->setLabel(tr("neuron index (rows in display order)"));
  marginalPlot_->xAxis->setTicker(neuronTicker());
  marginalPlot_->yAxis->setLabel(tr("mass"));
  marginalPlot_->yAxis->setNumberFormat("g");
  marginalPlot_->yAxis->setNumberPrecision(2);
  marginalPlot_->yAxis->ticker()->setTickCount(3);
  marginalPlot_->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  marginalPlot_->legend->setVisible(true);
  marginalPlot_->legend->setFont(QFont(font().family(), 8));
  bottom->addWidget(marginalPlot_, 3);
  stats_ = new QLabel;
  stats_->setWordWrap(true);
  stats_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  stats_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  stats_->setMinimumWidth(260);
  bottom->addWidget(stats_, 2);
  layout->addLayout(bottom);

  connect(layer_, &QComboBox::currentIndexChanged, this, [this] { rebuild(); });
  connect(model_, &QComboBox::currentIndexChanged, this, [this] {
    fillLayers();
    rebuild();
  });
  connect(reorder_, &QCheckBox::toggled, this, [this] { rebuild(); });
  connect(matrixKind_, &QComboBox::currentIndexChanged, this, [this] { rebuild(); });
  connect(source_, &QComboBox::currentIndexChanged, this, [this] {
    previewAnswer_.reset();
    requested_.clear();
    requestPreview();
    rebuild();
  });
  connect(epsSlider_, &QSlider::valueChanged, this, [this] {
    updateEpsilonLabel();
    if (source_->currentIndex() != int(PlanSource::Sinkhorn))
      source_->setCurrentIndex(int(PlanSource::Sinkhorn));  // requests through the handler
    else
      requestPreview();
  });
  updateEpsilonLabel();
}

void PlanHeatmapView::setPlanSource(PlanSource source) {
  source_->setCurrentIndex(int(source));
}
PlanHeatmapView::PlanSource PlanHeatmapView::planSource() const {
  return PlanSource(source_->currentIndex());
}
double PlanHeatmapView::epsilonAt(int position) const {
  return meanCost_ * std::pow(10.0, position / 40.0 - 3.0);
}
int PlanHeatmapView::positionOf(double epsilon) const {
  if (!(epsilon > 0) || !(meanCost_ > 0)) return epsSlider_->value();
  const int p = int(std::lround((std::log10(epsilon / meanCost_) + 3.0) * 40.0));
  return std::clamp(p, 0, kSliderSteps);
}
void PlanHeatmapView::setPreviewEpsilon(double epsilon) {
  epsSlider_->setValue(positionOf(epsilon));
}
double PlanHeatmapView::previewEpsilon() const {
  return epsilonAt(epsSlider_->value());
}
void PlanHeatmapView::setShowCorrected(bool corrected) {
  matrixKind_->setCurrentIndex(corrected ? 1 : 0);
}
bool PlanHeatmapView::showCorrected() const {
  return matrixKind_->currentIndex() == 1;
}
const PlanPreviewSolver::Answer* PlanHeatmapView::shownPreview() const {
  return previewAnswer_ ? &*previewAnswer_ : nullptr;
}

void PlanHeatmapView::updateEpsilonLabel() {
  epsLabel_->setText(tr("ε = %1 (%2 × mean cost)")
                         .arg(previewEpsilon(), 0, 'g', 3)
                         .arg(std::pow(10.0, epsSlider_->value() / 40.0 - 3.0), 0, 'g', 2));
}

// Called when the layer, the model, the source or the slider changes: a new problem when the
// layer changed, then a request for the plan the source asks for.
void PlanHeatmapView::requestPreview() {
  const int li = displayedLayer(layer_->currentIndex());
  const auto& layers = shownLayers();
  if (!outcome_ || li < 0 || li >= int(layers.size())) return;
  const LayerResult& l = layers[size_t(li)];
  const QString key = QString("%1/%2/%3")
                          .arg(quintptr(outcome_.get()))
                          .arg(currentModel())
                          .arg(QString::fromStdString(l.name));
  if (problemKey_ != key) {
    // A new layer: its slider scale now, its problem (a copy of cost and marginals for the
    // solver's thread) only when a re-solve is asked for.
    previewAnswer_.reset();
    problemKey_ = key;
    problem_.reset();
    const double mean = l.cost.size() ? l.cost.mean() : 1.0;
    const double eps = previewEpsilon();
    meanCost_ = mean > 0 && std::isfinite(mean) ? mean : 1.0;
    {
      // Keep the absolute eps where the user left it (or at the fusion's eps) if in range.
      QSignalBlocker block(epsSlider_);
      const double want =
          outcome_->summary.options.solver == Solver::Sinkhorn && source_->currentIndex() !=
                  int(PlanSource::Sinkhorn)
              ? outcome_->summary.options.epsilon
              : eps;
      epsSlider_->setValue(positionOf(want));
    }
    updateEpsilonLabel();
  }
  const PlanSource src = planSource();
  if (src == PlanSource::Fused) {
    requested_.clear();
    return;
  }
  const bool solvable = l.cost.rows() == l.mu.size() && l.cost.cols() == l.nu.size() &&
                        l.cost.size() > 0 && !l.identity;
  if (!solvable) return;
  const QString what = QString("%1|%2|%3")
                           .arg(key)
                           .arg(int(src))
                           .arg(src == PlanSource::Exact ? 0.0 : previewEpsilon(), 0, 'g', 17);
  if (what == requested_) return;  // already asked (a redraw for another reason)
  requested_ = what;
  if (!problem_) {
    auto p = std::make_shared<PlanPreviewSolver::Problem>();
    p->key = key;
    p->cost = l.cost;
    p->mu = l.mu;
    p->nu = l.nu;
    problem_ = p;
  }
  preview_->request(problem_, previewEpsilon(), src == PlanSource::Exact);
}

void PlanHeatmapView::onPreview(const PlanPreviewSolver::Answer& answer) {
  if (answer.request != preview_->latestRequest() || answer.key != problemKey_ ||
      planSource() == PlanSource::Fused)
    return;
  previewAnswer_ = answer;
  rebuild();
  emit previewShown();
}

QList<QCustomPlot*> PlanHeatmapView::plots() const {
  return {planPlot_, costPlot_, marginalPlot_};
}

namespace {
QString modelFileName(const FusionOutcome& o, int i) {
  if (i < 0 || i >= int(o.summary.models.size())) return {};
  const std::string& p = o.summary.models[size_t(i)];
  const size_t slash = p.find_last_of('/');
  return QString::fromStdString(slash == std::string::npos ? p : p.substr(slash + 1));
}
// Models of an outcome: modelLayers for N-model runs, else two (A and the anchor B).
int modelCount(const FusionOutcome& o) {
  return std::max<int>(2, int(o.modelLayers.size()));
}
}  // namespace

void PlanHeatmapView::setSourceNote(const QString& text) {
  setNoteBanner(sourceNote_, text);
}

QString PlanHeatmapView::sourceNote() const { return sourceNote_->text(); }

void PlanHeatmapView::setOutcome(OutcomePtr outcome) {
  outcome_ = std::move(outcome);
  {
    QSignalBlocker block(model_);
    const int previous = model_->currentData().isValid() ? model_->currentData().toInt() : -1;
    model_->clear();
    if (outcome_) {
      const int n = modelCount(*outcome_);
      for (int i = 0; i < n; ++i) {
        if (i == outcome_->anchor) continue;
        const QString file = modelFileName(*outcome_, i);
        model_->addItem(n == 2 ? tr("A (%1)").arg(file) : tr("model %1 (%2)").arg(i + 1).arg(file),
                        i);
      }
      const int keep = model_->findData(previous);
      model_->setCurrentIndex(keep >= 0 ? keep : 0);
    }
    const bool many = outcome_ && modelCount(*outcome_) > 2;
    model_->setVisible(many);
    modelLabel_->setVisible(many);
    anchorLabel_->setVisible(many);
    if (outcome_)
      anchorLabel_->setText(tr("onto the anchor (%1)").arg(modelFileName(*outcome_, outcome_->anchor)));
  }
  fillLayers();
  rebuild();
}

int PlanHeatmapView::currentModel() const {
  return outcome_ && model_->currentIndex() >= 0 ? model_->currentData().toInt() : -1;
}

void PlanHeatmapView::setCurrentModel(int model) {
  const int k = model_->findData(model);
  if (k >= 0) model_->setCurrentIndex(k);
}

QVector<int> PlanHeatmapView::selectableModels() const {
  QVector<int> out;
  for (int k = 0; k < model_->count(); ++k) out << model_->itemData(k).toInt();
  return out;
}

const std::vector<LayerResult>& PlanHeatmapView::shownLayers() const {
  static const std::vector<LayerResult> none;
  if (!outcome_) return none;
  const int m = currentModel();
  if (m >= 0 && m < int(outcome_->modelLayers.size()) && !outcome_->modelLayers[size_t(m)].empty())
    return outcome_->modelLayers[size_t(m)];
  return outcome_->layers;
}

QStringList PlanHeatmapView::streamPartners(int layer) const {
  const auto& layers = shownLayers();
  QStringList out;
  if (layer < 0 || layer >= int(layers.size())) return out;
  const LayerResult& l = layers[size_t(layer)];
  if (l.stream < 0) return out;
  for (const std::string& w : l.streamWriters)
    if (w != l.name) out << QString::fromStdString(w);
  return out;
}

void PlanHeatmapView::fillLayers() {
  QSignalBlocker block(layer_);
  const int previous = layer_->currentIndex();
  layer_->clear();
  const int n = outcome_ ? modelCount(*outcome_) : 2;
  const int m = currentModel();
  aName_ = n == 2 ? tr("A") : tr("model %1").arg(m + 1);
  bName_ = n == 2 ? tr("B") : tr("the anchor");
  for (QCustomPlot* p : {planPlot_, costPlot_}) {
    p->xAxis->setLabel(n == 2 ? tr("B's neuron j (anchor)") : tr("anchor's neuron j"));
    p->yAxis->setLabel(n == 2 ? tr("A's neuron i") : tr("model %1's neuron i").arg(m + 1));
  }
  if (auto* title = qobject_cast<QCPTextElement*>(planPlot_->plotLayout()->element(0, 0)))
    title->setText(n == 2 ? tr("Transport plan T (mass moved from A's i to B's j)")
                          : tr("Transport plan T (mass moved from model %1's i to the anchor's j)")
                                .arg(m + 1));
  marginalPlot_->graph(0)->setName(tr("μ (%1, rows)").arg(n == 2 ? tr("A") : tr("model %1").arg(m + 1)));
  marginalPlot_->graph(1)->setName(tr("ν (%1, columns)").arg(n == 2 ? tr("B") : tr("anchor")));
  const auto& layers = shownLayers();
  for (int k = 0; k < int(layers.size()); ++k) {
    const LayerResult& l = layers[size_t(k)];
    QString label = QString("%1  (%2×%3)")
                        .arg(QString::fromStdString(l.name))
                        .arg(l.plan.rows())
                        .arg(l.plan.cols());
    if (l.plan.size() == 0 && !l.mapFrom.empty())
      label = tr("%1  (map of %2)")
                  .arg(QString::fromStdString(l.name), QString::fromStdString(l.mapFrom.front()));
    if (l.identity) label += tr(", kept in place");
    if (l.stream >= 0) label += tr(", stream %1").arg(l.stream);
    if (l.reused) label += tr(", reused");
    if (l.status == ot::Status::IterationLimit) label += tr(", iteration limit: approximate");
    layer_->addItem(label);
  }
  if (previous >= 0 && previous < layer_->count()) layer_->setCurrentIndex(previous);
}

void PlanHeatmapView::setCurrentLayer(int index) {
  layer_->setCurrentIndex(index);
}
int PlanHeatmapView::currentLayer() const {
  return layer_->currentIndex();
}
void PlanHeatmapView::setReorder(bool diagonal) {
  reorder_->setChecked(diagonal);
}
bool PlanHeatmapView::reorder() const {
  return reorder_->isChecked();
}

void PlanHeatmapView::rebuild() {
  const int li = layer_->currentIndex();
  const auto& layers = shownLayers();
  if (!outcome_ || li < 0 || li >= int(layers.size())) {
    planMap_->data()->clear();
    costMap_->data()->clear();
    marginalPlot_->graph(0)->data()->clear();
    marginalPlot_->graph(1)->data()->clear();
    stats_->clear();
    order_.clear();
    note_->setVisible(true);
    for (QCustomPlot* p : plots()) p->replot();
    return;
  }
  // A layer that reuses its stream's map has no plan of its own: show the plan it reuses.
  const LayerResult& own = layers[size_t(li)];
  const int source = displayedLayer(li);
  const LayerResult& l = layers[size_t(source)];
  const int nA = int(l.plan.rows()), nB = int(l.plan.cols());
  // A layer change asks for the new layer's preview (answered later); until it arrives the
  // fused plan is drawn.
  requestPreview();
  const bool preview = previewAnswer_ && problem_ && planSource() != PlanSource::Fused &&
                       previewAnswer_->result.plan.rows() == nA &&
                       previewAnswer_->result.plan.cols() == nB;
  const Eigen::MatrixXd& planT = preview ? previewAnswer_->result.plan : l.plan;
  Eigen::MatrixXd corrected;
  if (showCorrected()) {
    if (!preview && l.corrected.rows() == nA && l.corrected.cols() == nB) {
      corrected = l.corrected;
    } else {
      corrected = planT;
      for (int j = 0; j < nB && j < l.nu.size(); ++j)
        corrected.col(j) *= l.nu(j) > 0 ? 1.0 / l.nu(j) : 0.0;
    }
  }
  const Eigen::MatrixXd& drawn = showCorrected() ? corrected : planT;
  order_ = reorder_->isChecked() ? MatrixDisplay::diagonalOrder(l.plan)
                                 : MatrixDisplay::identityOrder(nA);
  const bool downsampled = nA > kMaxDisplay || nB > kMaxDisplay;
  note_->setVisible(downsampled || source != li);
  if (source != li)
    note_->setText(tr("%1 reuses the neuron map of %2 (residual stream %3): the plans shown are "
                      "those of %2.")
                       .arg(QString::fromStdString(own.name), QString::fromStdString(l.name))
                       .arg(own.stream));
  else if (downsampled)
    note_->setText(tr("This layer is %1×%2: the heatmaps show block maxima (plan) and block "
                      "means (cost) at %3×%4; the read-out and exports use the exact values.")
                       .arg(nA)
                       .arg(nB)
                       .arg(std::min(nA, kMaxDisplay))
                       .arg(std::min(nB, kMaxDisplay)));

  auto fill = [&](QCPColorMap* map, const Eigen::MatrixXd& exact, bool blockMax) {
    Eigen::MatrixXd shown =
        MatrixDisplay::displayMatrix(exact, order_, kMaxDisplay, kMaxDisplay, blockMax);
    const int rows = int(shown.rows()), cols = int(shown.cols());
    map->data()->setSize(cols, rows);
    map->data()->setRange(QCPRange(0, std::max(1, nB - 1)), QCPRange(0, std::max(1, nA - 1)));
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) map->data()->setCell(c, r, shown(r, c));
    map->rescaleDataRange(true);
    if (map->dataRange().size() <= 0)
      map->setDataRange(QCPRange(map->dataRange().lower, map->dataRange().lower + 1));
  };
  if (nA > 0 && nB > 0) {
    fill(planMap_, drawn, true);
    if (l.cost.rows() == nA && l.cost.cols() == nB)
      fill(costMap_, l.cost, false);
    else
      costMap_->data()->clear();
  }
  if (auto* title = qobject_cast<QCPTextElement*>(planPlot_->plotLayout()->element(0, 0))) {
    QString what = showCorrected() ? tr("Map T̃ = T diag(1/ν) (weight of %1's i in %2's j)")
                                         .arg(aName_, bName_)
                                   : tr("Transport plan T (mass moved from %1's i to %2's j)")
                                         .arg(aName_, bName_);
    if (preview)
      what += previewAnswer_->exact ? tr(" — exact OT")
                                    : tr(" — Sinkhorn ε = %1").arg(previewAnswer_->epsilon, 0, 'g', 3);
    title->setText(what);
  }
  planScale_->axis()->setLabel(showCorrected() ? tr("weight") : tr("mass"));
  // A plan with mass >= 0 starts its scale at 0 so empty cells are white.
  planMap_->setDataRange(QCPRange(0, std::max(1e-300, planMap_->dataRange().upper)));
  for (QCustomPlot* p : {planPlot_, costPlot_}) {
    p->xAxis->setRange(-0.5, nB - 0.5);
    p->yAxis->setRange(-0.5, nA - 0.5);
  }

  QVector<double> xs, mus, nus, xb;
  for (int k = 0; k < int(l.mu.size()); ++k) {
    xs << k;
    mus << l.mu(order_.empty() || k >= int(order_.size()) ? k : order_[size_t(k)]);
  }
  for (int k = 0; k < int(l.nu.size()); ++k) {
    xb << k;
    nus << l.nu(k);
  }
  marginalPlot_->graph(0)->setData(xs, mus, true);
  marginalPlot_->graph(1)->setData(xb, nus, true);
  marginalPlot_->xAxis->setRange(-0.5, std::max(nA, nB) - 0.5);
  const double top =
      std::max(l.mu.size() ? l.mu.maxCoeff() : 0.0, l.nu.size() ? l.nu.maxCoeff() : 0.0);
  marginalPlot_->yAxis->setRange(0, top > 0 ? top * 2.2 : 1);  // room for the legend

  const double maxEntropy = std::log(double(std::max(1, std::max(nA, nB))));
  QString status;
  switch (l.status) {
    case ot::Status::Optimal:
      status = tr("optimal");
      break;
    case ot::Status::Converged:
      status = tr("converged");
      break;
    case ot::Status::IterationLimit:
      status = tr("<span style='color:#cb181d'><b>iteration limit reached: the plan is "
                  "approximate</b></span>");
      break;
    case ot::Status::Infeasible:
      status = tr("infeasible");
      break;
    case ot::Status::InvalidInput:
      status = tr("invalid input");
      break;
  }
  QString kind = l.identity ? tr("output layer kept in place (identity plan, no OT solved)")
                 : l.reused ? tr("map reused from an earlier layer writing the same stream")
                 : source != li
                     ? tr("<b>%1</b> reuses this map; %2: %3, %4 iterations")
                           .arg(QString::fromStdString(own.name), QString::fromStdString(l.name),
                                status)
                           .arg(l.iterations)
                            : tr("solved: %1, %2 iterations, marginal error %3, %4 s")
                                  .arg(status)
                                  .arg(l.iterations)
                                  .arg(l.marginalError, 0, 'g', 2)
                                  .arg(l.seconds, 0, 'f', 3);
  const QStringList partners = streamPartners(li);
  if (own.stream >= 0) {
    QStringList from;
    for (const std::string& w : own.mapFrom) from << QString::fromStdString(w);
    const StreamMap map = outcome_->summary.options.streamMap;
    const QString how = map == StreamMap::FirstWriter ? tr("first writer")
                        : map == StreamMap::Average   ? tr("average of the writers' maps")
                                                      : tr("one plan on the writers' summed costs");
    kind += tr("<br><span style='color:#6a3d9a'><b>Residual stream %1</b>: shared with %2 — "
               "every layer writing this stream uses one neuron map (%3%4).%5</span>")
                .arg(own.stream)
                .arg(partners.isEmpty() ? tr("no other layer") : partners.join(", ").toHtmlEscaped())
                .arg(how)
                .arg(from.isEmpty() ? QString()
                                    : tr(", made from %1").arg(from.join(", ").toHtmlEscaped()))
                .arg(l.sharedPlan ? tr(" The plan shown is the stream's one plan (summed cost).")
                                  : QString());
  }
  if (preview) {
    const ot::Result& r = previewAnswer_->result;
    const double total = r.plan.sum();
    double entropy = 0, best = 0;
    for (int i = 0; i < r.plan.rows(); ++i) best += r.plan.row(i).maxCoeff();
    for (Eigen::Index k = 0; k < r.plan.size(); ++k) {
      const double p = r.plan.data()[k] / (total > 0 ? total : 1);
      if (p > 0) entropy -= p * std::log(p);
    }
    const QString how =
        previewAnswer_->exact
            ? tr("exact OT: %1").arg(QString::fromStdString(ot::toString(r.status)))
            : tr("Sinkhorn ε = %1: %2 after %3 iterations%4")
                  .arg(previewAnswer_->epsilon, 0, 'g', 3)
                  .arg(r.status == ot::Status::IterationLimit
                           ? tr("<span style='color:#cb181d'><b>stopped at the preview's "
                                "iteration limit (approximate)</b></span>")
                           : QString::fromStdString(ot::toString(r.status)))
                  .arg(r.iterations)
                  .arg((previewAnswer_->warmStarted ? tr(" (warm start)") : QString()) +
                       (previewAnswer_->final ? QString() : tr(", <b>refining…</b>")));
    kind += tr("<br><span style='color:#08519c'><b>Shown: re-solved plan</b> — %1, %2 ms; "
               "OT cost %3, entropy %4, mass on best match %5 %</span>")
                .arg(how)
                .arg(previewAnswer_->seconds * 1000, 0, 'f', 1)
                .arg(r.cost, 0, 'g', 6)
                .arg(entropy, 0, 'f', 3)
                .arg(total > 0 ? 100.0 * best / total : 0.0, 0, 'f', 1);
  } else if (planSource() != PlanSource::Fused) {
    kind += tr("<br><span style='color:#08519c'>Re-solving…</span>");
  }
  stats_->setText(
      tr("<b>%1</b> — %2 neurons of %10 × %3 of %11<br>"
         "OT cost ⟨T, M⟩: <b>%4</b><br>"
         "Entropy of T: <b>%5</b> (a permutation: %6; uniform: %7)<br>"
         "Mass on each row's best match: <b>%8 %</b><br>%9")
          .arg(QString::fromStdString(l.name))
          .arg(nA)
          .arg(nB)
          .arg(l.otCost, 0, 'g', 6)
          .arg(l.entropy, 0, 'f', 3)
          .arg(std::log(double(std::max(1, nA))), 0, 'f', 3)
          .arg(std::log(double(std::max(1, nA))) + std::log(double(std::max(1, nB))), 0, 'f', 3)
          .arg(100.0 * l.massOnBest, 0, 'f', 1)
          .arg(kind, aName_, bName_));
  Q_UNUSED(maxEntropy);
  for (QCustomPlot* p : plots()) p->replot(QCustomPlot::rpQueuedReplot);
}

QString PlanHeatmapView::statistics() const {
  return stats_->text();
}

int PlanHeatmapView::displayedLayer(int layer) const {
  const auto& layers = shownLayers();
  if (layer < 0 || layer >= int(layers.size())) return layer;
  const LayerResult& l = layers[size_t(layer)];
  if (l.plan.size() > 0 || l.mapFrom.empty()) return layer;
  for (size_t k = 0; k < layers.size(); ++k)
    if (layers[k].name == l.mapFrom.front() && layers[k].plan.size() > 0) return int(k);
  return layer;
}

QString PlanHeatmapView::readout(double x, double y) const {
  const int li = displayedLayer(layer_->currentIndex());
  const auto& layers = shownLayers();
  if (!outcome_ || li < 0 || li >= int(layers.size())) return {};
  const LayerResult& l = layers[size_t(li)];
  const int j = int(std::lround(x)), k = int(std::lround(y));
  if (j < 0 || j >= l.plan.cols() || k < 0 || k >= l.plan.rows() || k >= int(order_.size()))
    return {};
  const int i = order_[size_t(k)];
  QString text = QString("%1: i = %2 (%6), j = %3 (%7)   mass T[i,j] = %4   (%5 % of row i)")
                     .arg(QString::fromStdString(l.name))
                     .arg(i)
                     .arg(j)
                     .arg(l.plan(i, j), 0, 'g', 6)
                     .arg(l.mu(i) > 0 ? 100.0 * l.plan(i, j) / l.mu(i) : 0.0, 0, 'f', 1)
                     .arg(aName_, bName_);
  if (l.cost.rows() == l.plan.rows() && l.cost.cols() == l.plan.cols())
    text += QString("   cost M[i,j] = %1").arg(l.cost(i, j), 0, 'g', 6);
  return text;
}

void PlanHeatmapView::onHover(QMouseEvent* event, QCustomPlot* plot) {
  const double x = plot->xAxis->pixelToCoord(event->position().x());
  const double y = plot->yAxis->pixelToCoord(event->position().y());
  const QString text = readout(x, y);
  if (!text.isEmpty()) readout_->setText(text);
}

}  // namespace otfuse::ui
