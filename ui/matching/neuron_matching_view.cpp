#include "matching/neuron_matching_view.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPixmap>
#include <QVBoxLayout>
#include <cmath>

namespace otfuse::ui {

NeuronMatchingView::NeuronMatchingView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QHBoxLayout(this);
  auto* left = new QVBoxLayout;
  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("Layer")));
  layer_ = new QComboBox;
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
  connect(bipartite_, &BipartiteView::neuronSelected, this, &NeuronMatchingView::onSelected);
}

void NeuronMatchingView::setOutcome(OutcomePtr outcome, ModelPtr a, ModelPtr b) {
  outcome_ = std::move(outcome);
  a_ = std::move(a);
  b_ = std::move(b);
  QSignalBlocker block(layer_);
  layer_->clear();
  if (outcome_)
    for (const auto& l : outcome_->layers) layer_->addItem(QString::fromStdString(l.name));
  rebuild();
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
  if (!outcome_ || li < 0 || li >= int(outcome_->layers.size())) {
    bipartite_->setPlan(Eigen::MatrixXd(), QString());
    return;
  }
  const LayerResult& l = outcome_->layers[size_t(li)];
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
  if (!outcome_ || li < 0 || li >= int(outcome_->layers.size())) return;
  const LayerResult& l = outcome_->layers[size_t(li)];
  int i = 0, j = 0;
  double share = 0;
  if (side == BipartiteView::Side::A) {
    i = index;
    Eigen::Index best = 0;
    const double m = l.plan.row(i).maxCoeff(&best);
    j = int(best);
    const double total = l.plan.row(i).sum();
    share = total > 0 ? m / total : 0;
    detail_->setText(tr("<b>%1</b>: A's neuron <b>%2</b> sends %3 % of its mass to B's neuron "
                        "<b>%4</b>; in the fused model it is averaged into neuron %4.")
                         .arg(QString::fromStdString(l.name))
                         .arg(i)
                         .arg(100.0 * share, 0, 'f', 1)
                         .arg(j));
  } else {
    j = index;
    Eigen::Index best = 0;
    const double m = l.plan.col(j).maxCoeff(&best);
    i = int(best);
    const double total = l.plan.col(j).sum();
    share = total > 0 ? m / total : 0;
    detail_->setText(tr("<b>%1</b>: B's neuron <b>%2</b> receives %3 % of its mass from A's "
                        "neuron <b>%4</b>.")
                         .arg(QString::fromStdString(l.name))
                         .arg(j)
                         .arg(100.0 * share, 0, 'f', 1)
                         .arg(i));
  }
  capA_->setText(tr("A's neuron %1").arg(i));
  capB_->setText(tr("matched B neuron %1").arg(j));
  capFused_->setText(tr("fused neuron %1").arg(j));
  if (li != 0) return;
  if (!a_ || !b_ || !outcome_->fused) {
    imageNote_->setText(tr("The models are not available for weight images."));
    return;
  }
  Eigen::MatrixXf wa = firstLayerImage(*a_, i);
  Eigen::MatrixXf wb = firstLayerImage(*b_, j);
  Eigen::MatrixXf wf = firstLayerImage(*outcome_->fused, j);
  if (wa.size() == 0 || wb.size() == 0 || wf.size() == 0) {
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
  imageFused_ = weightImage(wf);
  auto show = [](QLabel* pic, const QImage& img) {
    pic->setPixmap(
        QPixmap::fromImage(img.scaled(160, 160, Qt::KeepAspectRatio, Qt::FastTransformation)));
  };
  show(picA_, imageA_);
  show(picB_, imageB_);
  show(picFused_, imageFused_);
}

}  // namespace otfuse::ui
