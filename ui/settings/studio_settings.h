#pragma once
// Everything the user chooses for a run, with the paper's defaults (weights mode, exact OT,
// Sinkhorn eps 0.01, Euclidean ground cost, no normalization, 200 activation samples, seed 0,
// anchor = second model, t = 0.5, dataset from the models' input kind), plus curve ranges.
// Which models are fused, their anchor and weights are chosen in the models panel.
#include <QJsonObject>
#include <QSettings>
#include <QString>

#include "otfuse/engine/engine.h"

namespace otfuse::ui {

struct StudioSettings {
  FusionOptions options;  // mode, solver, epsilon, metric, normalization, marginals, t,
                          // streamMap (residual networks)
  QString dataset;        // "" = the models' own (ModelHandle::dataset); else "mnist", "folder:<root>"
  QString dataDir;        // "" = the core's default resolution
  int samples = 200;      // activation samples (activations mode)
  quint64 seed = 0;
  /// Sessions of the two-model app (version 2) chose the anchor here: B = the second model.
  /// Read from such files; the models panel's anchor is what a run uses.
  bool anchorIsSecond = true;
  /// N-model runs: also fuse sequentially (fuse two, then the result with the next), the
  /// table's "sequential" row.
  bool sequential = false;
  bool probabilityEnsemble = false;
  /// Networks without BatchNorm: also REPAIR the fused model and the vanilla average (rows
  /// "… + REPAIR"), statistics over repairBatches batches of 128 training images.
  RepairMode repair = RepairMode::None;
  int repairBatches = 10;
  int interpolationPoints = 11;
  double epsilonFrom = 0.01, epsilonTo = 10.0;
  int epsilonPoints = 7;

  /// The dataset used for `model` and why: the choice made in the settings, else the one
  /// the model's checkpoint names (ModelHandle::dataset: metadata first, then input shape).
  DatasetChoice datasetChoiceFor(const ModelHandle& model) const;
  std::string datasetFor(const ModelHandle& model) const { return datasetChoiceFor(model).name; }
  /// A fusion request for `models` (two or more, in order) aligned onto models[anchor] with
  /// `weights` (one per model, normalized; empty: equal). Two models give the two-model
  /// request (a = the other, b = the anchor, t = the settings' t, or the anchor's share of
  /// custom weights): exactly the run of the two-model app. More fill models/anchor/weights.
  /// Its dataset is the settings' choice, else commonDataset of the anchor, then the others
  /// (the reason goes to datasetSource).
  FusionRequest request(const std::vector<ModelPtr>& models, int anchor,
                        const std::vector<double>& weights = {}) const;
  /// The two-model request for (first, second) following anchorIsSecond.
  FusionRequest request(const ModelPtr& first, const ModelPtr& second) const;

  QJsonObject toJson() const;
  /// Missing or malformed keys keep their defaults.
  static StudioSettings fromJson(const QJsonObject& json);
  void save(QSettings& settings) const;
  static StudioSettings load(QSettings& settings);
};

}  // namespace otfuse::ui
