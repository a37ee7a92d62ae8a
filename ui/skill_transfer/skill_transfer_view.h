#pragma once
// The skill-transfer scenario's results (engine/skill_transfer.h): the settings in one line,
// the table of overall / special-class / other-classes accuracy for A, B, the ensemble,
// vanilla averaging and OT fusion at every t (mean ± std over seeds when there are several),
// and the per-class chart of A, B, the ensemble and both averages at one chosen t, with the
// special class highlighted. UI thread only.
#include <QWidget>

#include <memory>

#include "otfuse/engine/skill_transfer.h"

class QComboBox;
class QCustomPlot;
class QLabel;
class QPushButton;
class QTableWidget;

namespace otfuse::ui {

class PerClassView;

class SkillTransferView : public QWidget {
  Q_OBJECT
 public:
  explicit SkillTransferView(QWidget* parent = nullptr);

  void setResult(const SkillTransferResult& result);
  void clear();
  bool hasResult() const { return bool(result_); }
  const SkillTransferResult* result() const { return result_.get(); }
  /// The t whose vanilla and fused rows the chart shows (the nearest computed one).
  void setChartT(double t);
  double chartT() const;

  QTableWidget* table() const { return table_; }
  PerClassView* perClassView() const { return perClass_; }
  QPushButton* runButton() const { return run_; }
  QList<QCustomPlot*> plots() const;

 signals:
  /// The user asked to run the scenario (the "Run skill transfer…" button).
  void runRequested();

 private:
  void fillChart();

  QLabel* header_;
  QPushButton* run_;
  QTableWidget* table_;
  QComboBox* tChooser_;
  PerClassView* perClass_;
  std::unique_ptr<SkillTransferResult> result_;
};

}  // namespace otfuse::ui
