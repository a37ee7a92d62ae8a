#pragma once
// Compression vs pruning (issue 10, section 3): accuracy against kept width for OT fusion into
// the pruned anchor, structured magnitude pruning and a narrow model trained from scratch,
// dashed before and solid after the same fine-tuning budget, with the wide parents as
// reference lines, and the table width x method x before/after. The experiment runs on the
// engine worker (engine/compression.h) with progress and cancel; points arrive as they are
// computed. UI thread only.
#include <QVector>
#include <QWidget>

#include "otfuse/engine/compression.h"

class QCustomPlot;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace otfuse::ui {

class EngineController;

/// Fills `plot` (cleared first) with `points`; accA / accB < 0: no parent lines.
void fillCompressionPlot(QCustomPlot* plot, const QVector<CompressionPoint>& points, double accA,
                         double accB);
/// A QCustomPlot set up as the view's (title, axis labels, legend).
QCustomPlot* makeCompressionPlot(QWidget* parent = nullptr);

class CompressionView : public QWidget {
  Q_OBJECT
 public:
  explicit CompressionView(EngineController* controller, QWidget* parent = nullptr);

  /// Starts the experiment on base.a (aligned) and base.b (pruned, anchor) with base's fusion
  /// options, dataset and seed and this view's settings; returns the job id, or -1 when the
  /// settings are invalid or a run is going on (the status line says why).
  int run(const FusionRequest& base);
  void cancel();
  bool isRunning() const { return job_ >= 0; }
  int job() const { return job_; }

  void clear();
  /// A point computed (replaces the earlier report of the same width and method).
  void addPoint(const CompressionPoint& point);
  void setParents(double accuracyA, double accuracyB);
  /// A finished run's result (every point, the parents, a summary in the status line).
  void showResult(const CompressionResult& result);
  QVector<CompressionPoint> points() const { return points_; }
  /// Points drawn in the graph of `method` ("fusion", "pruning", "scratch"), before or after
  /// fine-tuning.
  int drawnPoints(const QString& method, bool after) const;
  QList<QCustomPlot*> plots() const;
  QTableWidget* table() const { return table_; }
  QString status() const;

  /// Settings (the controls above the plot).
  void setWidths(const QString& widths);
  void setFinetuneEpochs(int epochs);
  void setScratchEpochs(int epochs);  // 0: the parents' budget from B's metadata
  void setTrainingLimit(long long images) { limit_ = images; }  // 0 = all (tests use less)
  void setLearningRate(double lr);

 signals:
  /// The Run button: the main window answers with run(current request).
  void runRequested();
  /// A run ended: done, failed or cancelled.
  void finished(bool ok);

 private:
  void setStatus(const QString& text);
  void refresh();
  void end(bool ok, const QString& status);

  EngineController* controller_;
  QLineEdit* widths_;
  QSpinBox* finetune_;
  QSpinBox* scratch_;
  QDoubleSpinBox* lr_;
  QPushButton* runButton_;
  QPushButton* cancelButton_;
  QLabel* status_;
  QLabel* note_;
  QProgressBar* bar_;
  QCustomPlot* plot_;
  QTableWidget* table_;
  QVector<CompressionPoint> points_;
  double accA_ = -1, accB_ = -1;
  long long limit_ = 0;
  int job_ = -1;
};

}  // namespace otfuse::ui
