#pragma once
// The run's results: the paper's Table-1 row (model A, model B, prediction ensemble, vanilla
// average, OT fusion; for BatchNorm models also both averages with re-estimated BatchNorm
// statistics) as a table of test accuracy and loss, two bar charts of the same numbers,
// and the run's settings and timings. UI thread only.
#include <QWidget>

#include <map>
#include <string>

#include "otfuse/fusion/report.h"

class QCustomPlot;
class QLabel;
class QTableWidget;

namespace otfuse::ui {

class ResultsView : public QWidget {
  Q_OBJECT
 public:
  /// Row order of the table and the charts, with the summary keys they show.
  /// model_0, model_1, ensemble, vanilla, fused, vanilla_bn, fused_bn; the last two (BatchNorm
  /// re-estimated) are shown only when the summary has them.
  static const QStringList& keys();

  explicit ResultsView(QWidget* parent = nullptr);

  void setSummary(const FusionSummary& summary);
  /// A line under the table saying which model File ▸ Export fused model writes (rich text);
  /// empty hides it. clear() empties it.
  void setExportNote(const QString& note);
  QString exportNote() const;
  void clear();
  /// The table as shown (for tests): accuracy of `key`, NaN if absent.
  double tableAccuracy(const QString& key) const;
  double tableLoss(const QString& key) const;
  QTableWidget* table() const { return table_; }
  QList<QCustomPlot*> plots() const;

 private:
  void showRows(const std::map<std::string, double>& present);
  void fillChart(QCustomPlot* plot, const std::map<std::string, double>& values, bool percent);

  QTableWidget* table_;
  QLabel* info_;
  QLabel* exportNote_;
  QCustomPlot* accuracyChart_;
  QCustomPlot* lossChart_;
};

}  // namespace otfuse::ui
