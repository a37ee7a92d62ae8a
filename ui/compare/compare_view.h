#pragma once
// The "Compare" tab (issue 11): every alignment method on the current pair, side by side.
// A table (accuracy and loss at t, loss barrier, accuracy barrier, time; one row per method
// without and with REPAIR / BN reset), the agreement of the methods' maps, and every
// interpolation curve overlaid in one plot (accuracy or loss against t), drawn as the worker
// reports points (replotted by a 100 ms timer, never once per point). The computation itself
// runs on the worker (MainWindow submits engine runCompare); this view only shows it.
// UI thread only.
#include <QMap>
#include <QTimer>
#include <QVector>
#include <QWidget>

#include "otfuse/engine/compare.h"

class QComboBox;
class QCustomPlot;
class QCPGraph;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace otfuse::ui {

class CompareView : public QWidget {
  Q_OBJECT
 public:
  explicit CompareView(QWidget* parent = nullptr);

  /// The request's settings chosen in the view: t, points, repair (models and dataset are
  /// the caller's).
  void fillRequest(CompareRequest* request) const;
  /// Sets the controls to a run's t and number of points (e.g. a saved result shown again).
  void setControls(double t, int points);
  /// Forgets everything shown (before a new run).
  void clear();
  /// One curve point of row `label` (CompareRow::label); the row's graph is created on first use.
  void addPoint(const QString& label, const CurvePoint& point);
  /// The finished comparison: table and agreement.
  void setOutcome(const CompareOutcome& outcome);
  void setStatus(const QString& text);
  void setRunning(bool running);
  /// "Accuracy" (default) or "Loss" on the plot's y axis.
  void setShowLoss(bool loss);

  /// Keys of the methods whose maps can be shown (those that ran), in table order.
  QStringList mapMethods() const;
  /// Asks for `method`'s maps in the plan and matching views (as the "Show maps" button does).
  void requestMaps(const QString& method);

  QList<QCustomPlot*> plots() const;
  int graphCount() const;
  int tableRows() const;
  void replotIfDirty();

 signals:
  void computeRequested();
  void cancelRequested();
  /// Show this method's per-layer maps (CompareOutcome::layers[method]) in the Transport plans
  /// and Neuron matching tabs.
  void showMapsRequested(const QString& method);

 private:
  QCPGraph* graphFor(const QString& label);
  void redrawGraphs();

  QDoubleSpinBox* t_;
  QSpinBox* pointCount_;
  QComboBox* repair_;
  QComboBox* yAxis_;
  QPushButton* run_;
  QPushButton* cancel_;
  QLabel* status_;
  QLabel* parents_;
  QLabel* note_;
  QTableWidget* table_;
  QTableWidget* agreement_;
  QComboBox* mapsMethod_;
  QPushButton* showMaps_;
  QStringList rowMethods_;  // method key of every table row
  QCustomPlot* plot_;
  QStringList order_;                        // labels in arrival order
  QMap<QString, QVector<CurvePoint>> points_;
  QMap<QString, QCPGraph*> graphs_;
  QTimer replotTimer_;
  bool dirty_ = false;
};

}  // namespace otfuse::ui
