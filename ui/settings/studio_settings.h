#pragma once
// Everything the user chooses for a run, with the paper's defaults (weights mode, exact OT,
// Sinkhorn eps 0.01, Euclidean ground cost, no normalization, 200 activation samples, seed 0,
// anchor = second model, t = 0.5, dataset from the models' input kind), plus curve ranges.
#include <QJsonObject>
#include <QSettings>
#include <QString>

#include "otfuse/engine/engine.h"

namespace otfuse::ui {

struct StudioSettings {
  FusionOptions options;  // mode, solver, epsilon, metric, normalization, marginals, t
  QString dataset;        // "" = the models' own (ModelHandle::dataset); else "mnist", "folder:<root>"
  QString dataDir;        // "" = the core's default resolution
  int samples = 200;      // activation samples (activations mode)
  quint64 seed = 0;
  bool anchorIsSecond = true;  // B = the second model chosen in the models panel
  bool probabilityEnsemble = false;
  int interpolationPoints = 11;
  double epsilonFrom = 0.01, epsilonTo = 10.0;
  int epsilonPoints = 7;

  /// The dataset used for `model` and why: the choice made in the settings, else the one
  /// the model's checkpoint names (ModelHandle::dataset: metadata first, then input shape).
  DatasetChoice datasetChoiceFor(const ModelHandle& model) const;
  std::string datasetFor(const ModelHandle& model) const { return datasetChoiceFor(model).name; }
  /// A fusion request for (first, second) following anchorIsSecond; its dataset is the
  /// settings' choice, else commonDataset of B and A (the reason goes to datasetSource).
  FusionRequest request(const ModelPtr& first, const ModelPtr& second) const;

  QJsonObject toJson() const;
  /// Missing or malformed keys keep their defaults.
  static StudioSettings fromJson(const QJsonObject& json);
  void save(QSettings& settings) const;
  static StudioSettings load(QSettings& settings);
};

}  // namespace otfuse::ui
