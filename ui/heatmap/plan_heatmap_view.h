#pragma once
// The transport-plan view: for the layer chosen in the selector, the plan T (rows = A's
// neurons, columns = B's) as a heatmap with a color scale, the ground cost matrix beside it in
// the same row order, the marginals mu and nu below, and the layer's statistics. Rows can be
// reordered so the matching shows as a diagonal. Matrices larger than kMaxDisplay per side are
// block-downsampled for display (block maximum for plans, mean for costs); the hover read-out
// always uses the exact values. Holds the outcome by shared pointer. UI thread only.
//
// N-model outcomes hold one set of plans per model aligned onto the anchor
// (FusionOutcome::modelLayers): a selector picks the model whose plans are shown. In residual
// networks the layers writing one residual stream share one neuron map: the statistics say
// which layers share the current layer's stream, and the layer selector marks them.
//
// Issue 11: the plan shown can be the one the fusion used, the exact OT plan of the same cost
// and marginals, or a Sinkhorn plan at the epsilon of a slider, re-solved off the UI thread
// while the user drags (PlanPreviewSolver: newest request wins, warm starts); and it can be T or
// the corrected map T~ = T diag(1/nu) that the fusion applies. The row order stays the fused
// plan's, so a drag shows mass spreading around the same diagonal.
#include <QWidget>

#include <QVector>

#include <memory>
#include <optional>
#include <vector>

#include "heatmap/plan_preview.h"
#include "worker/studio_types.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;
class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QMouseEvent;

namespace otfuse::ui {

class PlanHeatmapView : public QWidget {
  Q_OBJECT
 public:
  static constexpr int kMaxDisplay = 512;

  explicit PlanHeatmapView(QWidget* parent = nullptr);

  void setOutcome(OutcomePtr outcome);
  OutcomePtr outcome() const { return outcome_; }
  /// The model (index into the outcome's models, not the anchor) whose plans onto the anchor
  /// are shown; -1 without an outcome.
  int currentModel() const;
  void setCurrentModel(int model);
  /// Models that can be chosen (every model but the anchor), in order.
  QVector<int> selectableModels() const;
  /// The layers of the model shown.
  const std::vector<LayerResult>& shownLayers() const;
  /// For a layer of the shown model: the other layers writing the same residual stream (empty
  /// for layers with a stream of their own, e.g. every layer of a plain network).
  QStringList streamPartners(int layer) const;
  /// The layer whose plans are drawn for `layer`: itself, or for a layer that reuses its
  /// residual stream's map (no plan of its own) the layer the map was solved at.
  int displayedLayer(int layer) const;
  void setCurrentLayer(int index);
  int currentLayer() const;
  void setReorder(bool diagonal);
  bool reorder() const;

  /// The color maps as drawn (tests compare their cells with the core's plan).
  QCPColorMap* planMap() const { return planMap_; }
  QCPColorMap* costMap() const { return costMap_; }
  /// Display row k shows A's neuron rowOrder()[k].
  const std::vector<int>& rowOrder() const { return order_; }
  /// Read-out text for plot coordinates (x = B's neuron, y = display row), "" outside.
  QString readout(double x, double y) const;
  QList<QCustomPlot*> plots() const;
  /// The statistics panel of the current layer (rich text), including the solver's status.
  QString statistics() const;

  /// Which plan is drawn: the fusion's, exact OT of the same problem, or Sinkhorn at the
  /// slider's epsilon (both re-solved in the background).
  enum class PlanSource { Fused, Exact, Sinkhorn };
  void setPlanSource(PlanSource source);
  PlanSource planSource() const;
  /// Epsilon of the slider (absolute, in cost units); setting it moves the slider to the
  /// nearest position and, in Sinkhorn mode, asks for that plan.
  void setPreviewEpsilon(double epsilon);
  double previewEpsilon() const;
  /// A line above the plans saying where they come from when it is not a fusion run (e.g. a
  /// method of the Compare tab); empty hides it.
  void setSourceNote(const QString& text);
  QString sourceNote() const;
  /// Show T~ = T diag(1/nu) (the map applied to A's outputs) instead of T.
  void setShowCorrected(bool corrected);
  bool showCorrected() const;
  /// The plan drawn now (before display downsampling): the fused plan, or the last preview
  /// answer for the current layer (T, before correction). Null answer when the fused plan is
  /// drawn or the requested preview has not arrived yet.
  const PlanPreviewSolver::Answer* shownPreview() const;
  PlanPreviewSolver* previewSolver() const { return preview_; }
  /// Slider positions: epsilon = mean cost x 10^(position / 40 - 3), position 0..120.
  static constexpr int kSliderSteps = 120;

 signals:
  /// A preview plan was drawn (tests, and the status bar).
  void previewShown();

 private:
  void requestPreview();
  void onPreview(const PlanPreviewSolver::Answer& answer);
  double epsilonAt(int position) const;
  int positionOf(double epsilon) const;
  void updateEpsilonLabel();
  void rebuild();
  void fillLayers();
  void onHover(QMouseEvent* event, QCustomPlot* plot);

  OutcomePtr outcome_;
  std::vector<int> order_;
  QComboBox* model_;
  QLabel* modelLabel_;
  QLabel* anchorLabel_;
  QComboBox* layer_;
  QString aName_ = "A", bName_ = "B";  // how the shown model and the anchor are called
  QCheckBox* reorder_;
  QComboBox* source_;
  QSlider* epsSlider_;
  QLabel* epsLabel_;
  QComboBox* matrixKind_;
  PlanPreviewSolver* preview_;
  QString problemKey_;  // the layer shown (outcome, model, layer name)
  std::shared_ptr<PlanPreviewSolver::Problem> problem_;  // its problem, once a re-solve is asked
  std::optional<PlanPreviewSolver::Answer> previewAnswer_;
  QString requested_;     // what the last request asked for (key, source, eps)
  double meanCost_ = 1;  // mean cost of the current layer: the slider's unit
  QLabel* stats_;
  QLabel* sourceNote_;
  QLabel* readout_;
  QLabel* note_;
  QCustomPlot* planPlot_;
  QCustomPlot* costPlot_;
  QCustomPlot* marginalPlot_;
  QCPColorMap* planMap_;
  QCPColorMap* costMap_;
  QCPColorScale* planScale_;
  QCPColorScale* costScale_;
};

}  // namespace otfuse::ui
