#pragma once
// The "Fine-tuning" tab (issue 10, section 1): the OT-fused model and the vanilla average of
// the last fusion, both fine-tuned with the same budget (epochs, learning rate, momentum,
// seed, so the same batches in the same order), test accuracy and loss per epoch (epoch 0 =
// before fine-tuning), drawn live as the epochs finish, with every parent and their prediction
// ensemble as horizontal dashed lines.
//
// The run is one EngineController task (engine compareFinetuning on the worker thread); its
// points come back through a relay QObject's queued signals, so a point never touches this
// widget from the worker. Cancel (the button here, Esc or the status bar's) stops it at the
// next batch. Plots are redrawn by a 100 ms timer when something changed. UI thread only.
#include <QJsonObject>
#include <QMap>
#include <QTimer>
#include <QVector>
#include <QWidget>

#include <functional>
#include <utility>

#include "otfuse/engine/engine.h"
#include "otfuse/engine/finetune.h"
#include "worker/studio_types.h"

class QCustomPlot;
class QCPGraph;
class QCPItemText;
class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSpinBox;

namespace otfuse::ui {

class EngineController;

class FinetuneView : public QWidget {
  Q_OBJECT
 public:
  /// The fusion to fine-tune: its request and outcome (null outcome: none yet).
  using FusionSource = std::function<std::pair<FusionRequest, OutcomePtr>()>;

  explicit FinetuneView(EngineController* controller, QWidget* parent = nullptr);

  void setFusionSource(FusionSource source) { source_ = std::move(source); }

  /// Starts the comparison with the fields' values on the current fusion; returns the job id,
  /// or -1 (no fusion yet, or a run is going: the status line says which).
  int start();
  /// Cancels the running comparison (no-op when none runs).
  void cancel();
  bool isRunning() const { return job_ >= 0; }
  int job() const { return job_; }

  /// The request the fields describe (dataset and data folder come from the fusion).
  FinetuneRequest request() const;
  void setEpochs(int epochs);
  int epochs() const;
  void setLearningRate(double lr);
  /// Training images per epoch (0 = all); for quick looks and tests.
  void setTrainingLimit(long long limit);
  /// Zoom the value axes on the fine-tuned epochs (>= 1) and the reference lines; epoch-0
  /// points outside are named in a note on the plot (default on).
  void setZoomed(bool zoomed);
  bool zoomed() const;
  /// The notes naming epoch-0 points outside the zoomed axes ("" when none).
  QString offAxisNote(bool loss) const;
  /// Test images per evaluation (0 = all); for tests.
  void setTestLimit(long long limit) { testLimit_ = limit; }

  /// Forgets every point and reference line.
  void clear();
  void addPoint(const QString& series, const FinetunePoint& point);
  void addReference(const QString& key, const QString& label, const Score& score);
  /// The points received for "fused" or "vanilla", in arrival order.
  QVector<FinetunePoint> points(const QString& series) const { return points_.value(series); }
  /// Reference lines received: key -> (label, score).
  QMap<QString, std::pair<QString, Score>> references() const { return references_; }
  /// Data points drawn in the accuracy plot for `series`; -1 if it has no graph.
  int drawnPoints(const QString& series) const;
  QString status() const;
  void setStatus(const QString& text);
  QList<QCustomPlot*> plots() const;

  /// The run shown, for the session file: {"options": {epochs, lr, momentum, seed, limit},
  /// "series": {"fused": [{epoch, accuracy, loss, trainLoss, lr}...], "vanilla": [...]},
  /// "references": {key: {label, accuracy, loss}}}; empty when nothing is shown.
  QJsonObject toJson() const;
  /// Shows a run stored by toJson (replacing what is shown; empty: clears). Malformed
  /// entries are skipped.
  void fromJson(const QJsonObject& json);
  void replotIfDirty();

 signals:
  /// A comparison ended (finished, failed or cancelled).
  void runEnded(int job);

 private:
  QCPGraph* graphFor(const QString& series, bool loss);
  void updateReferenceSpans();

  EngineController* controller_;
  FusionSource source_;
  QCustomPlot* accuracy_;
  QCustomPlot* loss_;
  QSpinBox* epochs_;
  QDoubleSpinBox* lr_;
  QDoubleSpinBox* momentum_;
  QSpinBox* seed_;
  QSpinBox* limit_;
  QCheckBox* zoom_;
  QCPItemText* accuracyOffAxis_;
  QCPItemText* lossOffAxis_;
  QPushButton* startButton_;
  QPushButton* cancelButton_;
  QLabel* status_;
  QLabel* note_;
  long long testLimit_ = 0;
  int job_ = -1;
  int plannedEpochs_ = 0;
  QMap<QString, QVector<FinetunePoint>> points_;
  QMap<QString, std::pair<QString, Score>> references_;
  QMap<QString, QCPGraph*> graphs_;  // "series[/loss]" and "ref/<key>[/loss]"
  QTimer replotTimer_;
  bool dirty_ = false;
};

}  // namespace otfuse::ui
