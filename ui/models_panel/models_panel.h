#pragma once
// The models panel: the opened models (by path), the pair to fuse, and the details of the
// selected model (architecture, layer table, stored metadata, test accuracy with a progress bar
// while it is computed in the background). Explains incompatible pairs in words
// (otfuse::fusionIncompatibility). Accepts dropped files. UI thread only.
#include <QWidget>

#include <optional>

#include "otfuse/engine/engine.h"

class QComboBox;
class QLabel;
class QListWidget;
class QProgressBar;
class QTableWidget;

namespace otfuse::ui {

class ModelsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ModelsPanel(QWidget* parent = nullptr);

  /// Adds (or replaces) the model opened from `path`; selects it. The first two models become
  /// the pair to fuse.
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

  /// The pair to fuse, in the order chosen (first, second); null when fewer than two models.
  ModelPtr first() const;
  ModelPtr second() const;
  int firstIndex() const;
  int secondIndex() const;
  void setPair(int first, int second);
  /// Empty if the pair can be fused; otherwise the engine's explanation.
  QString incompatibility() const;
  QString incompatibilityText() const;

 signals:
  void openRequested(const QStringList& paths);
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
  };
  void refreshList();
  void refreshPair();
  void showDetails(int row);
  int indexOf(const QString& path) const;

  std::vector<Entry> entries_;
  QListWidget* list_;
  QComboBox* first_;
  QComboBox* second_;
  QLabel* compatibility_;
  QLabel* header_;
  QLabel* accuracy_;
  QProgressBar* evalProgress_;
  QTableWidget* layers_;
  QTableWidget* metadata_;
};

}  // namespace otfuse::ui
