#pragma once
// Accuracy per class, to *see* a skill arrive in a fused model: a grouped bar chart (one group
// per class, one bar per model, optional error bars) and the confusion matrix of one chosen
// model as a heatmap (rows: true class, columns: predicted class; colour = share of the row,
// text = image count). A class can be highlighted (the skill-transfer scenario's special
// class). UI thread only.
#include <QColor>
#include <QList>
#include <QStringList>
#include <QWidget>

#include <Eigen/Core>
#include <vector>

#include "otfuse/fusion/report.h"

class QComboBox;
class QCustomPlot;
class QLabel;

namespace otfuse::ui {

class PerClassView : public QWidget {
  Q_OBJECT
 public:
  /// One model's numbers.
  struct Series {
    QString key;    // e.g. "model_0", "fused", "fused@0.7"
    QString label;  // legend and chooser text
    QColor color;
    std::vector<double> accuracy;  // percent per class; NaN: no test image of the class
    std::vector<double> error;     // standard deviation per class (empty: no error bars)
    Eigen::MatrixXi confusion;     // classes x classes, may be empty (then no heatmap)
  };

  explicit PerClassView(QWidget* parent = nullptr);

  /// Shows `series` for `classes` (names; their count sets the groups). `highlight`: a class
  /// index to shade (-1: none). `note`: one line above the charts (rich text; empty hides it).
  void setSeries(const QStringList& classes, const QList<Series>& series, int highlight = -1,
                 const QString& note = QString());
  /// The per-class numbers of a Table-1 run (parents, ensemble, vanilla, fused, ...), in the
  /// results table's order and colours. Class names are the indices.
  void setSummary(const FusionSummary& summary, int anchor = -1);
  void clear();

  /// Which series the confusion heatmap shows (index into the series; clamped).
  void setConfusionSeries(int index);
  int confusionSeries() const;

  QStringList seriesKeys() const;
  /// The bar of `key` at class `cls` as drawn (NaN if absent), for tests.
  double barValue(const QString& key, int cls) const;
  /// The heatmap's count at (true, predicted) as drawn (-1 if none), for tests.
  int confusionCell(int trueClass, int predicted) const;
  int highlightedClass() const { return highlight_; }
  QCustomPlot* barChart() const { return bars_; }
  QCustomPlot* confusionPlot() const { return heat_; }
  QList<QCustomPlot*> plots() const;

 private:
  void drawBars();
  void drawConfusion();

  QLabel* note_;
  QLabel* legend_;
  QCustomPlot* bars_;
  QCustomPlot* heat_;
  QComboBox* chooser_;
  QLabel* empty_;
  QStringList classes_;
  QList<Series> series_;
  int highlight_ = -1;
};

}  // namespace otfuse::ui
