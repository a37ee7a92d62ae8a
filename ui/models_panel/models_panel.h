#pragma once
// The models panel: the opened models (by path), the set of models to fuse (two or more, checked
// in the list, in the list's order), the anchor they are aligned onto, optional weights, and the
// details of the selected model (architecture, layer table, stored metadata, test accuracy with
// a progress bar while it is computed in the background). Explains incompatible sets in words
// (otfuse::fusionIncompatibility of every model against the anchor). Accepts dropped files.
// UI thread only.
//
// Indices ("model index") are positions in the opened list (paths()); "positions" are places
// in the fusion set. The anchor follows defaultAnchor() until the user picks one.
#include <QWidget>

#include <optional>
#include <vector>

#include "otfuse/engine/engine.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QListWidget;
class QListWidgetItem;
class QProgressBar;
class QTableWidget;

namespace otfuse::ui {

class ModelsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ModelsPanel(QWidget* parent = nullptr);

  /// The anchor's position in a set of `n` models when the user has not picked one: the last
  /// model for two (model B, as the two-model app and `otfuse fuse A B` always did), the first
  /// for three or more (`otfuse fuse A B C ...`: every model onto the first).
  static int defaultAnchor(int n);

  /// Adds (or replaces) the model opened from `path`; selects it. The first two models opened
  /// become the set to fuse; later ones are added unchecked.
  void addModel(const QString& path, ModelPtr model);
  void clear();
  int count() const { return int(entries_.size()); }
  QStringList paths() const;
  ModelPtr model(const QString& path) const;

  /// Test accuracy of `path`: progress (done of total batches) and the final score, or why it
  /// could not be computed.
  void setEvaluationProgress(const QString& path, long long done, long long total);
  void setScore(const QString& path, const Score& score);
  void setScoreError(const QString& path, const QString& message);
  std::optional<Score> score(const QString& path) const;
  /// The dataset `path`'s accuracy is measured on and why (the main window sets it when it
  /// submits the evaluation; until then the model's own ModelHandle::dataset).
  void setEvaluationDataset(const QString& path, const DatasetChoice& dataset);
  /// What the panel shows about it, e.g. "Dataset: fashion-mnist (from the checkpoint's
  /// metadata)"; empty for an unknown path.
  QString datasetText(const QString& path) const;

  // ---- the set to fuse ----
  /// Model indices of the set, in order (ascending: the list's order).
  QVector<int> fusionSet() const;
  /// Replaces the set (indices out of range or repeated are dropped); `anchor` is a model
  /// index in the set, -1 = defaultAnchor (and the anchor then follows the set's size);
  /// `weights` one per model of the set, empty = equal weights (1/N).
  void setFusionSet(const QVector<int>& models, int anchor = -1,
                    const std::vector<double>& weights = {});
  /// The set's models in order, and the anchor's position among them (-1 without a set).
  std::vector<ModelPtr> fusionModels() const;
  QStringList fusionPaths() const;
  int anchorPosition() const;
  /// Model index of the anchor (-1 without a set).
  int anchorIndex() const;
  /// Picks the anchor by model index (must be in the set), as the user does in the combo box.
  void setAnchor(int modelIndex);
  /// The weights the user set, one per model of the set in order; empty = equal (1/N).
  std::vector<double> weights() const;
  void setWeights(const std::vector<double>& weights);

  /// Two-model view of the set (today's A/B): the first two models of the set, null when
  /// fewer than two models are open.
  ModelPtr first() const;
  ModelPtr second() const;
  int firstIndex() const;
  int secondIndex() const;
  /// The set {first, second} with `second` as the anchor (model B).
  void setPair(int first, int second);
  /// Empty if the set can be fused; otherwise the engine's explanation.
  QString incompatibility() const;
  QString incompatibilityText() const;

 signals:
  void openRequested(const QStringList& paths);
  /// The set, its anchor or its weights changed.
  void pairChanged();

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  struct Entry {
    QString path;
    ModelPtr model;
    std::optional<Score> score;
    QString scoreError;
    long long done = 0, total = 0;
    std::optional<DatasetChoice> dataset;  // set with the evaluation
    bool fuse = false;                     // checked: in the set to fuse
    double weight = 1.0;                   // used when custom weights are on
  };
  void refreshList();
  void refreshSet();  // anchor combo, weights table, compatibility text; emits pairChanged
  void updateCompatibility();
  void showDetails(int row);
  int indexOf(const QString& path) const;

  std::vector<Entry> entries_;
  int anchor_ = -1;             // model index the user picked (-1: defaultAnchor)
  QListWidget* list_;
  QComboBox* anchorBox_;
  QCheckBox* customWeights_;
  QTableWidget* weights_;
  QLabel* setSummary_;
  QLabel* compatibility_;
  QLabel* header_;
  QLabel* accuracy_;
  QProgressBar* evalProgress_;
  QTableWidget* layers_;
  QTableWidget* metadata_;
  bool refreshing_ = false;
};

}  // namespace otfuse::ui
