#pragma once
// Accuracy curves, each filled point by point as the worker reports them:
//  (a) "interpolation": accuracy and loss along (1 - t) A + t B, series "vanilla" and "aligned";
//  (b) "progressive": accuracy of A after aligning layers 1..l;
//  (c) "epsilon": fused accuracy against Sinkhorn eps (log axis), series "sinkhorn", with the
//      exact-OT fusion ("exact", x = 0) drawn as a horizontal reference line;
//  (d) "growth": fused accuracy as N grows (the anchor plus the first n - 1 other models,
//      n = 1..N), series "fused", against the prediction ensemble of the same n models,
//      series "ensemble" (does fusion blur as N grows?).
// The two-model curves (a)-(c) show the first aligned model onto the anchor.
// Points are stored as received; plots are redrawn by a 100 ms timer when something changed
// (never once per signal). UI thread only.
#include <QMap>
#include <QTimer>
#include <QVector>
#include <QWidget>

#include "otfuse/engine/engine.h"

class QCustomPlot;
class QCPGraph;
class QCPItemStraightLine;
class QCPItemText;
class QDoubleSpinBox;
class QLabel;
class QSpinBox;

namespace otfuse::ui {

class CurvesView : public QWidget {
  Q_OBJECT
 public:
  explicit CurvesView(QWidget* parent = nullptr);

  /// The curves, in the order they are computed by "all".
  static const QStringList& curveNames();
  /// Forgets the points of `curve` ("interpolation" | "progressive" | "epsilon" | "growth").
  void clearCurve(const QString& curve);
  void clearAll();
  void addPoint(const QString& curve, const QString& series, const CurvePoint& point);
  /// The points received for (curve, series), in arrival order.
  QVector<CurvePoint> points(const QString& curve, const QString& series) const;
  /// Number of data points drawn in the accuracy graph of (curve, series); -1 if none.
  int drawnPoints(const QString& curve, const QString& series) const;
  void setStatus(const QString& curve, const QString& text);
  /// Which models the curves show (rich text, above the plots); empty hides it.
  void setModelsNote(const QString& note);
  QString modelsNote() const;
  /// The warning under the epsilon plot: which points came from plans whose solver stopped
  /// at its iteration limit (empty when none did). Such points are also marked on the plot.
  QString epsilonWarning() const;

  int interpolationPoints() const;
  double epsilonFrom() const;
  double epsilonTo() const;
  int epsilonPoints() const;
  void setRanges(int interpolationPoints, double epsFrom, double epsTo, int epsPoints);
  QList<QCustomPlot*> plots() const;
  /// Replots now if points arrived since the last replot.
  void replotIfDirty();

 signals:
  /// The user asked for a curve ("interpolation", "progressive", "epsilon", "growth" or "all").
  void computeRequested(const QString& curve);

 private:
  QCPGraph* graphFor(const QString& curve, const QString& series, bool loss);
  void updateEpsilonWarning();

  QCustomPlot* interpAcc_;
  QCustomPlot* interpLoss_;
  QCustomPlot* progressive_;
  QCustomPlot* epsilon_;
  QCustomPlot* growth_;
  QCPItemStraightLine* exactLine_;
  QCPItemText* exactLabel_;
  QSpinBox* interpPoints_;
  QDoubleSpinBox* epsFrom_;
  QDoubleSpinBox* epsTo_;
  QSpinBox* epsPoints_;
  QMap<QString, QLabel*> status_;
  QLabel* epsilonWarning_ = nullptr;
  QLabel* pairNote_ = nullptr;
  QMap<QString, QVector<CurvePoint>> points_;  // key "curve/series"
  QMap<QString, QCPGraph*> graphs_;            // key "curve/series[/loss]"
  QTimer replotTimer_;
  bool dirty_ = false;
};

}  // namespace otfuse::ui
