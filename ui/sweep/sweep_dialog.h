#pragma once
// The "Sweep…" dialog: choose the axes of a sweep (modes x solvers x eps x t x seeds) for one
// model pair, run it here on a worker thread (runSweep: one LibTorch thread per point worker)
// with progress and cancel, and show the collected table (mean ± std over seeds per
// configuration, exactly what `otfuse collect DIR` prints) and a plot with error bars.
// "Export jobs…" writes the same sweep as one `otfuse fuse` command per line (GNU parallel,
// or the Slurm array script written next to it).
//
// Threads: the sweep runs on a QThread the dialog owns; progress comes back as queued calls
// carrying copies; Cancel sets an atomic flag (no waiting on the worker); closing the dialog
// cancels and waits for the running points to stop.
#include <QDialog>
#include <QString>
#include <QStringList>

#include <atomic>
#include <memory>
#include <vector>

#include "otfuse/engine/sweep.h"

class QCheckBox;
class QCustomPlot;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QThread;

namespace otfuse::ui {

class SweepDialog : public QDialog {
  Q_OBJECT
 public:
  explicit SweepDialog(QWidget* parent = nullptr);
  ~SweepDialog() override;

  void setModels(const QString& a, const QString& b);
  /// Comma-separated lists, as typed in the dialog ("weights,activations", "0.01,0.05", ...).
  void setAxes(const QString& modes, const QString& solvers, const QString& eps,
               const QString& t, const QString& seeds);
  void setSamples(int samples);
  void setOutputDir(const QString& dir);
  void setDataDir(const QString& dir) { dataDir_ = dir; }

  /// Starts the sweep; false (with a message box unless quiet) when the axes are invalid.
  bool start();
  void cancel();
  bool running() const { return thread_ != nullptr; }
  /// Writes the jobs file (and FILE.sbatch) for the current axes; empty string on success,
  /// else the error.
  QString exportJobs(const QString& file);

  const CollectResult& result() const { return result_; }
  QTableWidget* table() const { return table_; }
  QCustomPlot* plot() const { return plot_; }
  /// Whether the plot shows the vanilla-average series (the table always does).
  void setPlotVanilla(bool on);

 Q_SIGNALS:
  /// The sweep ended: `ok` false when it failed or was cancelled (`message` says why).
  void sweepFinished(bool ok, const QString& message);

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  struct Plan;  // the points and shared settings of the current axes
  std::unique_ptr<Plan> plan(QString* error) const;
  void updatePointCount();
  void onProgress(int done, int total, const QString& last);
  void onThreadDone();
  void showResult();
  void setBusy(bool busy);

  QLineEdit *modelA_, *modelB_, *eps_, *t_, *seeds_, *outDir_;
  QCheckBox *weights_, *activations_, *exact_, *sinkhorn_, *showVanilla_;
  QSpinBox *samples_, *workers_;
  QLabel *points_, *status_;
  QProgressBar* progress_;
  QPushButton *run_, *cancel_, *export_;
  QTableWidget* table_;
  QCustomPlot* plot_;
  QString dataDir_;

  QThread* thread_ = nullptr;
  std::shared_ptr<std::atomic<bool>> cancelFlag_;
  // Written by the worker thread, read after it finished.
  struct Outcome;
  std::shared_ptr<Outcome> outcome_;
  CollectResult result_;
};

}  // namespace otfuse::ui
