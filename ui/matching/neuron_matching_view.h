#pragma once
// The neuron-matching view: a layer selector, the bipartite drawing of that layer's plan, a
// read-out of the selected neuron's partners, and, for the first layer, the incoming weights of
// A's selected neuron, of its matched B neuron and of the fused neuron as images side by side
// (blue negative, white zero, red positive; each image scaled to its own largest |weight|).
// N-model outcomes: a selector picks the model whose matching onto the anchor is drawn.
// UI thread only.
#include <QImage>
#include <QWidget>

#include <vector>

#include "matching/bipartite_view.h"
#include "worker/studio_types.h"

class QComboBox;
class QLabel;

namespace otfuse::ui {

class NeuronMatchingView : public QWidget {
  Q_OBJECT
 public:
  explicit NeuronMatchingView(QWidget* parent = nullptr);

  /// `a` was aligned onto the anchor `b`; the outcome's fused model is in B's neuron order.
  void setOutcome(OutcomePtr outcome, ModelPtr a, ModelPtr b);
  /// N models, in the outcome's order (outcome->modelLayers), aligned onto models[anchor].
  void setOutcome(OutcomePtr outcome, std::vector<ModelPtr> models, int anchor);
  /// The model whose matching is drawn (index into the models; never the anchor).
  int currentModel() const;
  void setCurrentModel(int model);
  void setCurrentLayer(int index);
  int currentLayer() const;
  /// Selects A's neuron `i` (as if clicked).
  void selectNeuron(int i);
  BipartiteView* bipartite() const { return bipartite_; }
  /// The images shown (null images when not available), and why not.
  QImage imageA() const { return imageA_; }
  QImage imageB() const { return imageB_; }
  QImage imageFused() const { return imageFused_; }
  QString imageNote() const;

  /// A line above the drawing saying where the maps come from when it is not a fusion run (a
  /// method of the Compare tab: no fused model, so no fused image); empty hides it.
  void setSourceNote(const QString& text);
  QString sourceNote() const;

  /// Renders a weight image (rows x cols) with a diverging color map.
  static QImage weightImage(const Eigen::MatrixXf& weights);

 private:
  void rebuild();
  void fillLayers();
  const std::vector<LayerResult>& shownLayers() const;
  void onSelected(BipartiteView::Side side, int index);

  OutcomePtr outcome_;
  ModelPtr a_, b_;  // the shown model and the anchor
  std::vector<ModelPtr> models_;
  int anchor_ = 1;
  QLabel* modelLabel_;
  QComboBox* model_;
  QComboBox* layer_;
  BipartiteView* bipartite_;
  QLabel* detail_;
  QLabel* sourceNote_;
  QLabel* imageNote_;
  QLabel* picA_;
  QLabel* picB_;
  QLabel* picFused_;
  QLabel* capA_;
  QLabel* capB_;
  QLabel* capFused_;
  QImage imageA_, imageB_, imageFused_;
};

}  // namespace otfuse::ui
