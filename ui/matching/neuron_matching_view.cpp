#include "matching/neuron_matching_view.h"

#include "widgets/note_banner.h"

#include <QComboBox>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPixmap>
#include <QVBoxLayout>
#include <cmath>

namespace otfuse::ui {

NeuronMatchingView::NeuronMatchingView(QWidget* parent) : QWidget(parent) {
  auto* outer = new QVBoxLayout(this);
  sourceNote_ = makeNoteBanner();
  outer->addWidget(sourceNote_);
  auto* layout = new QHBoxLayout;
  outer->addLayout(layout, 1);
  auto* left = new QVBoxLayout;
  auto* bar = new QHBoxLayout;
  layer_ = new QComboBox(this);  // the first combo box child (tests find it so)
  layer_->setObjectName("layer");
  modelLabel_ = new QLabel(tr("Matching of"));
  bar->addWidget(modelLabel_);
  model_ = new QComboBox;
  model_->setObjectName("matchingModel");
  model_->setToolTip(tr("The model whose neurons are matched onto the anchor's."));
  bar->addWidget(model_);
  modelLabel_->setVisible(false);
  model_->setVisible(false);
  bar->addWidget(new QLabel(tr("Layer")));
  layer_->setToolTip(tr("The layer whose neuron matching is drawn."));
  layer_->setMinimumContentsLength(14);
  bar->addWidget(layer_);
  bar->addStretch(1);
  left->addLayout(bar);
  bipartite_ = new BipartiteView;
  left->addWidget(bipartite_, 1);
  layout->addLayout(left, 3);

  auto* right = new QVBoxLayout;
  detail_ = new QLabel(tr("Click a neuron on either side of the drawing."));
  detail_->setWordWrap(true);
  detail_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  right->addWidget(detail_);
  auto* grid = new QGridLayout;
  auto makePic = [](QLabel** pic, QLabel** cap, const QString& caption) {
    *pic = new QLabel;
    (*pic)->setFixedSize(168, 168);
    (*pic)->setAlignment(Qt::AlignCenter);
    (*pic)->setStyleSheet("border: 1px solid palette(mid); background: palette(base);");
    *cap = new QLabel(caption);
    (*cap)->setAlignment(Qt::AlignHCenter);
    (*cap)->setWordWrap(true);
  };
  makePic(&picA_, &capA_, tr("A's neuron"));
  makePic(&picB_, &capB_, tr("matched B neuron"));
  makePic(&picFused_, &capFused_, tr("fused neuron"));
  grid->addWidget(picA_, 0, 0);
  grid->addWidget(picB_, 0, 1);
  grid->addWidget(picFused_, 0, 2);
  grid->addWidget(capA_, 1, 0);
  grid->addWidget(capB_, 1, 1);
  grid->addWidget(capFused_, 1, 2);
  right->addLayout(grid);
  imageNote_ = new QLabel;
  imageNote_->setWordWrap(true);
  right->addWidget(imageNote_);
  auto* legend =
      new QLabel(tr("Incoming weights of the first layer: <span style='color:#2166ac'>"
                    "blue</span> negative, white zero, <span style='color:#b2182b'>"
                    "red</span> positive."));
  legend->setWordWrap(true);
  right->addWidget(legend);
  right->addStretch(1);
  layout->addLayout(right, 2);

  connect(layer_, &QComboBox::currentIndexChanged, this, [this] { rebuild(); });
  connect(model_, &QComboBox::currentIndexChanged, this, [this] {
    const int m = currentModel();
    a_ = m >= 0 && m < int(models_.size()) ? models_[size_t(m)] : nullptr;
    fillLayers();
    rebuild();
  });
  connect(bipartite_, &BipartiteView::neuronSelected, this, &NeuronMatchingView::onSelected);
}

void NeuronMatchingView::setSourceNote(const QString& text) {
  setNoteBanner(sourceNote_, text);
}

QString NeuronMatchingView::sourceNote() const { return sourceNote_->text(); }

void NeuronMatchingView::setOutcome(OutcomePtr outcome, ModelPtr a, ModelPtr b) {
  setOutcome(std::move(outcome), std::vector<ModelPtr>{std::move(a), std::move(b)}, 1);
}

void NeuronMatchingView::setOutcome(OutcomePtr outcome, std::vector<ModelPtr> models, int anchor) {
  outcome_ = std::move(outcome);
  models_ = std::move(models);
  anchor_ = anchor;
  b_ = anchor >= 0 && anchor < int(models_.size()) ? models_[size_t(anchor)] : nullptr;
  {
    QSignalBlocker block(model_);
    const int previous = currentModel();
    model_->clear();
    const int n = int(models_.size());
    for (int i = 0; i < n; ++i) {
      if (i == anchor) continue;
      const QString file =
          models_[size_t(i)] ? QFileInfo(QString::fromStdString(models_[size_t(i)]->path)).fileName()
                             : QString();
      model_->addItem(n == 2 ? tr("A (%1)").arg(file) : tr("model %1 (%2)").arg(i + 1).arg(file), i);
    }
    const int keep = model_->findData(previous);
    model_->setCurrentIndex(keep >= 0 ? keep : 0);
    model_->setVisible(n > 2);
    modelLabel_->setVisible(n > 2);
  }
  const int m = currentModel();
  a_ = m >= 0 && m < int(models_.size()) ? models_[size_t(m)] : nullptr;
  fillLayers();
  rebuild();
}

int NeuronMatchingView::currentModel() const {
  return model_->currentIndex() >= 0 ? model_->currentData().toInt() : -1;
}

void NeuronMatchingView::setCurrentModel(int model) {
  const int k = model_->findData(model);
  if (k >= 0) model_->setCurrentIndex(k);
}

const std::vector<LayerResult>& NeuronMatchingView::shownLayers() const {
  static const std::vector<LayerResult> none;
  if (!outcome_) return none;
  const int m = currentModel();
  if (m >= 0 && m < int(outcome_->modelLayers.size()) && !outcome_->modelLayers[size_t(m)].empty())
    return outcome_->modelLayers[size_t(m)];
  return outcome_->layers;
}

void NeuronMatchingView::fillLayers() {
  QSignalBlocker block(layer_);
  const int previous = layer_->currentIndex();
  layer_->clear();
  for (const auto& l : shownLayers()) layer_->addItem(QString::fromStdString(l.name));
  if (previous >= 0 && previous < layer_->count()) layer_->setCurrentIndex(previous);
}

void NeuronMatchingView::setCurrentLayer(int index) {
  layer_->setCurrentIndex(index);
}
int NeuronMatchingView::currentLayer() const {
  return layer_->currentIndex();
}

void NeuronMatchingView::rebuild() {
  const int li = layer_->currentIndex();
  imageA_ = imageB_ = imageFused_ = QImage();
  for (QLabel* pic : {picA_, picB_, picFused_}) pic->clear();
  const auto& layers = shownLayers();
  if (!outcome_ || li < 0 || li >= int(layers.size())) {
    bipartite_->setPlan(Eigen::MatrixXd(), QString());
    return;
  }
  // A layer that reuses its residual stream's map: draw the map it reuses.
  const LayerResult* shown = &layers[size_t(li)];
  if (shown->plan.size() == 0 && !shown->mapFrom.empty())
    for (const auto& other : layers)
      if (other.name == shown->mapFrom.front() && other.plan.size() > 0) shown = &other;
  const LayerResult& l = *shown;
  if (models_.size() > 2)
    bipartite_->setSideNames(tr("model %1").arg(currentModel() + 1), tr("anchor"));
  else
    bipartite_->setSideNames(tr("A"), tr("B"));
  bipartite_->setPlan(l.plan, QString::fromStdString(l.name));
  detail_->setText(tr("Click a neuron on either side of the drawing."));
  imageNote_->setText(li == 0 ? QString()
                              : tr("Weight images are shown for the first layer only (its "
                                   "incoming weights live in the input's pixel space)."));
  if (l.plan.rows() > 0) bipartite_->select(BipartiteView::Side::A, 0);
}

void NeuronMatchingView::selectNeuron(int i) {
  bipartite_->select(BipartiteView::Side::A, i);
}

QString NeuronMatchingView::imageNote() const {
  return imageNote_->text();
}

QImage NeuronMatchingView::weightImage(const Eigen::MatrixXf& w) {
  if (w.size() == 0) return {};
  const float maxAbs = std::max(1e-12f, w.cwiseAbs().maxCoeff());
  QImage img(int(w.cols()), int(w.rows()), QImage::Format_RGB32);
  for (int r = 0; r < w.rows(); ++r)
    for (int c = 0; c < w.cols(); ++c) {
      const float v = std::clamp(w(r, c) / maxAbs, -1.0f, 1.0f);
      QColor color;
      if (v >= 0)  // white -> red (178, 24, 43)
        color = QColor(int(255 - v * (255 - 178)), int(255 - v * (255 - 24)),
                       int(255 - v * (255 - 43)));
      else  // white -> blue (33, 102, 172)
        color = QColor(int(255 + v * (255 - 33)), int(255 + v * (255 - 102)),
                       int(255 + v * (255 - 172)));
      img.setPixel(c, r, color.rgb());
    }
  return img;
}

void NeuronMatchingView::onSelected(BipartiteView::Side side, int index) {
  const int li = layer_->currentIndex();
  const auto& layers = shownLayers();
  if (!outcome_ || li < 0 || li >= int(layers.size())) return;
  const LayerResult* shown = &layers[size_t(li)];
  if (shown->plan.size() == 0 && !shown->mapFrom.empty())
    for (const auto& other : layers)
      if (other.name == shown->mapFrom.front() && other.plan.size() > 0) shown = &other;
  const LayerResult& l = *shown;
  if (l.plan.size() == 0) return;
  int i = 0, j = 0;
  double share = 0;
  const bool two = models_.size() <= 2;
  const QString aName = two ? tr("A") : tr("model %1").arg(currentModel() + 1);
  const QString bName = two ? tr("B") : tr("the anchor");
  if (side == BipartiteView::Side::A) {
    i = index;
    Eigen::Index best = 0;
    const double m = l.plan.row(i).maxCoeff(&best);
    j = int(best);
    const double total = l.plan.row(i).sum();
    share = total > 0 ? m / total : 0;
    detail_->setText(tr("<b>%1</b>: %5's neuron <b>%2</b> sends %3 % of its mass to %6's neuron "
                        "<b>%4</b>; in the fused model it is averaged into neuron %4.")
                         .arg(QString::fromStdString(l.name))
                         .arg(i)
                         .arg(100.0 * share, 0, 'f', 1)
                         .arg(j)
                         .arg(aName, bName));
  } else {
    j = index;
    Eigen::Index best = 0;
    const double m = l.plan.col(j).maxCoeff(&best);
    i = int(best);
    const double total = l.plan.col(j).sum();
    share = total > 0 ? m / total : 0;
    detail_->setText(tr("<b>%1</b>: %5's neuron <b>%2</b> receives %3 % of its mass from %6's "
                        "neuron <b>%4</b>.")
                         .arg(QString::fromStdString(l.name))
                         .arg(j)
                         .arg(100.0 * share, 0, 'f', 1)
                         .arg(i)
                         .arg(bName, aName));
  }
  capA_->setText(tr("%1's neuron %2").arg(aName).arg(i));
  capB_->setText(tr("matched %1 neuron %2").arg(two ? bName : tr("anchor")).arg(j));
  capFused_->setText(tr("fused neuron %1").arg(j));
  if (li != 0) return;
  if (!a_ || !b_) {
    imageNote_->setText(tr("The models are not available for weight images."));
    return;
  }
  Eigen::MatrixXf wa = firstLayerImage(*a_, i);
  Eigen::MatrixXf wb = firstLayerImage(*b_, j);
  // Maps without a fusion run (the Compare tab's methods) have no fused model.
  Eigen::MatrixXf wf = outcome_->fused ? firstLayerImage(*outcome_->fused, j) : Eigen::MatrixXf();
  if (wa.size() == 0 || wb.size() == 0 || (outcome_->fused && wf.size() == 0)) {
    imageNote_->setText(
        tr("No weight images: the first layer of %1 does not read an image-shaped input "
           "(input %2×%3×%4), so its incoming weights cannot be drawn as a picture.")
            .arg(QString::fromStdString(a_->architecture))
            .arg(a_->inChannels)
            .arg(a_->inHeight)
            .arg(a_->inWidth));
    return;
  }
  imageNote_->setText(tr("Each image: %1×%2 weights%3.")
                          .arg(wa.rows())
                          .arg(wa.cols())
                          .arg(a_->inChannels > 1 && wa.rows() > wa.cols()
                                   ? tr(", channels stacked vertically")
                                   : QString()));
  imageA_ = weightImage(wa);
  imageB_ = weightImage(wb);
  imageFused_ = outcome_->fused ? weightImage(wf) : QImage();
  auto show = [](QLabel* pic, const QImage& img) {
    pic->setPixmap(
        QPixmap::fromImage(img.scaled(160, 160, Qt::KeepAspectRatio, Qt::FastTransformation)));
  };
  show(picA_, imageA_);
  show(picB_, imageB_);
  if (outcome_->fused) {
    show(picFused_, imageFused_);
  } else {
    picFused_->clear();
    capFused_->setText(tr("no fused model (these maps come from the Compare tab)"));
  }
}

}  // namespace otfuse::ui
