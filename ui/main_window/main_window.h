#pragma once
// OTFuse Studio's main window: the models panel and settings form as docks, the results,
// transport-plan, neuron-matching and curves views as tabs, a status bar with a progress bar
// and a Cancel button. Owns the EngineController (the worker thread); all engine work is
// submitted there and results arrive as its signals. UI thread only.
//
// Errors (a file that cannot be read, an incompatible pair, a failed run) go to the error
// handler, by default a modal message box naming what failed and where; tests install their
// own handler. Closing the window cancels any running job and waits for the worker at most
// EngineController::kShutdownWaitMs (see EngineController::shutdown), so it closes within 2 s.
//
// A failed load changes nothing: a model file that cannot be read is reported and leaves the
// models, the pair and the views as they were; a session is restored all at once, only after
// every model it names has loaded (otherwise nothing of it is applied).
#include <QDateTime>
#include <QHash>
#include <QMainWindow>
#include <QSet>

#include <functional>
#include <optional>

#include "main_window/session_file.h"
#include "otfuse/engine/compare.h"
#include "otfuse/engine/skill_transfer.h"
#include "worker/engine_controller.h"

class QAction;
class QLabel;
class QMenu;
class QProgressBar;
class QPushButton;
class QTabWidget;
class QCustomPlot;

namespace otfuse::ui {

class CompareView;
class CurvesView;
class FinetuneView;
class CompressionView;
class ModelsPanel;
class NeuronMatchingView;
class PlanHeatmapView;
class ResultsView;
class SettingsForm;
class PerClassView;
class SkillTransferView;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  using ErrorHandler = std::function<void(const QString& title, const QString& message)>;

  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  /// Opens model files in the background. With `runWhenLoaded` (two or more paths), fuses
  /// all of them (default anchor) as soon as they are all loaded.
  void openFiles(const QStringList& paths, bool runWhenLoaded = false);
  /// Runs fusion + evaluation of the models checked in the models panel onto their anchor;
  /// returns the job id, or -1 (error reported).
  int runFusion();
  /// "interpolation", "progressive", "epsilon", "growth" or "all"; returns the last job id or
  /// -1. The two-model curves show the first aligned model onto the anchor; "growth" all the
  /// checked models.
  int computeCurves(const QString& which);
  /// The Compare tab: every alignment method on the current pair (engine runCompare) on the
  /// worker; returns the job id or -1.
  int runComparison();
  CompareView* compareView() const { return compare_; }
  /// Shows the per-layer maps of a method of the last comparison (CompareOutcome::layers) in
  /// the Transport plans and Neuron matching tabs, with a note saying so, until the next fusion
  /// run; false (nothing changed) when there is no such method.
  bool showCompareMaps(const QString& method);
  /// Cancels every queued and running job (direct store to their atomic flags).
  void cancelJobs();
  /// Trains or reuses the demo models, opens them, fuses them and shows the heatmaps.
  /// options.personalSplit: the parents are trained on the two parts of a personal split
  /// (Help ▸ Run the demo on split data…; the results then explain the special class).
  void runDemo(const otfuse::DemoOptions& options = {});
  /// Help ▸ Run the demo on split data…: asks for the special class and the fraction
  /// (remembered), then runDemo with the split.
  void runSplitDemoDialog();

  void saveSession(const QString& path);
  /// Reads the session file, loads the models it names (in the background) and then restores
  /// everything at once: models, pair, settings, curve ranges, and its results, shown as
  /// stored (with the date they were measured) until the fusion is run again. When the file
  /// or any of its models cannot be read, reports it and changes nothing.
  void openSession(const QString& path);
  /// A session is waiting for its models to load.
  bool sessionPending() const { return pendingSession_.has_value(); }

  /// Exports without a file dialog (the menu actions ask for the path, then call these).
  /// Failures go to the error handler. The fused model is a zip checkpoint whose metadata
  /// says which model it is: `which` is "fused" or "fused_bn" (the results table's rows),
  /// empty = the default, the re-estimated one when it was computed (what the results view
  /// says an export writes; the menu action asks when there is a choice). Plans are one CSV
  /// per layer (N models: one folder "model_<i>" per model aligned onto the anchor, i counted
  /// from 1); the report is JSON with matrices; plots of the current view are PNG or PDF by
  /// the suffix of `path` (further plots of the view get "-2", "-3", ...).
  bool exportModelTo(const QString& path, const QString& which = QString());
  QStringList exportPlansTo(const QString& dir);
  bool exportReportTo(const QString& path);
  QStringList exportPlotsTo(const QString& path);

  /// Asks for the skill-transfer settings (Run ▸ Skill transfer…) and runs the scenario.
  void showSkillTransferDialog();
  /// Runs the skill-transfer scenario on the worker (progress in the status bar, cancellable
  /// like every job); its table and per-class chart appear in the "Skill transfer" tab.
  /// `request.dataDir` empty = the settings' data folder. Returns the job id, -1 if one runs.
  int runSkillTransfer(const SkillTransferRequest& request);

  /// Renders every view to PNG files in `dir` (created if needed); returns the files.
  QStringList saveScreenshots(const QString& dir);

  void setErrorHandler(ErrorHandler handler) { errorHandler_ = std::move(handler); }
  /// Reports an error through the handler (and the status bar).
  void reportError(const QString& title, const QString& message);

  EngineController* controller() const { return controller_; }
  ModelsPanel* modelsPanel() const { return models_; }
  SettingsForm* settingsForm() const { return settings_; }
  ResultsView* resultsView() const { return results_; }
  PlanHeatmapView* heatmapView() const { return heatmap_; }
  NeuronMatchingView* matchingView() const { return matching_; }
  CurvesView* curvesView() const { return curves_; }
  FinetuneView* finetuneView() const { return finetune_; }
  PerClassView* perClassView() const { return perClass_; }
  SkillTransferView* skillTransferView() const { return skill_; }
  CompressionView* compressionView() const { return compression_; }
  /// Run ▸ Compression…: the compression experiment on the fusion set's A and anchor B.
  int runCompression();
  QTabWidget* tabs() const { return tabs_; }
  OutcomePtr outcome() const { return outcome_; }
  /// The request of the last fusion started.
  const FusionRequest& lastRequest() const { return lastRequest_; }
  QString statusText() const;

 signals:
  /// A fusion outcome reached every view.
  void fusionShown();
  /// A skill-transfer result reached its tab.
  void skillTransferShown();
  /// openSession() restored the session `path`.
  void sessionOpened(const QString& path);
  void errorReported(const QString& title, const QString& message);

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void createActions();
  void connectController();
  void setStatus(const QString& text);
  void addRecent(const QString& path);
  void rebuildRecentMenu();
  bool currentRequest(FusionRequest* request, const QString& what);
  /// Chooses the models `paths` (open ones) to fuse, `anchor` (a path; empty: the default) and
  /// their weights (one per path; empty: equal).
  void setFusionSetByPaths(const QStringList& paths, const QString& anchor,
                           const std::vector<double>& weights);
  QList<QCustomPlot*> currentPlots() const;
  void exportModel();
  void exportPlans();
  void exportReport();
  void exportPlot();
  void updateActions();
  void restoreState();
  void commitSession();
  /// Drops the pending session (its loaded models are not added); `why` for the status bar,
  /// `error` (if not empty) goes to the error handler.
  void abortSession(const QString& why, const QString& error);

  EngineController* controller_;
  ModelsPanel* models_;
  SettingsForm* settings_;
  ResultsView* results_;
  PlanHeatmapView* heatmap_;
  NeuronMatchingView* matching_;
  CurvesView* curves_;
  FinetuneView* finetune_;
  CompressionView* compression_ = nullptr;
  CompareView* compare_;
  int compareJob_ = -1;
  /// The last finished comparison and its pair (for showCompareMaps).
  std::shared_ptr<const CompareOutcome> compareOutcome_;
  CompareRequest compareRequest_;
  QTabWidget* tabs_;
  QLabel* status_;
  QProgressBar* progress_;
  QPushButton* cancelButton_;
  QMenu* recentMenu_ = nullptr;
  QAction* runAction_ = nullptr;
  QAction* cancelAction_ = nullptr;
  QAction* exportModelAction_ = nullptr;
  QAction* exportPlansAction_ = nullptr;
  QAction* exportReportAction_ = nullptr;

  OutcomePtr outcome_;
  FusionRequest lastRequest_;
  int fusionJob_ = -1;
  PerClassView* perClass_ = nullptr;
  SkillTransferView* skill_ = nullptr;
  int skillJob_ = -1;
  // The running scenario's result, written by the worker; read when the job has finished,
  // and only when `skillDone_` says the run completed.
  std::shared_ptr<SkillTransferResult> skillResult_;
  std::shared_ptr<bool> skillDone_;
  SkillTransferRequest skillRequest_;                // the dialog's last settings
  QHash<int, QString> loadJobs_;   // job -> path
  QHash<int, QString> evalJobs_;   // job -> path
  QHash<int, QString> curveJobs_;  // job -> curve
  QHash<int, JobKind> runningKinds_;
  QDateTime outcomeMeasuredAt_;  // when outcome_ was computed (UTC)
  // Results read from a session and shown as stored, with when they were measured.
  std::optional<FusionSummary> storedResults_;
  QDateTime storedMeasuredAt_;
  int storedAnchor_ = -1;
  // The models fused when the app was last closed (QSettings), chosen again once they are all
  // open again.
  struct RememberedSet {
    QStringList paths;
    QString anchor;
    std::vector<double> weights;
  };
  std::optional<RememberedSet> rememberedSet_;
  struct PendingSession {
    QString file;
    SessionFile session;
    QStringList paths;                // the session's models, absolute
    QHash<int, QString> jobs;         // load job -> path, still running
    QHash<QString, ModelPtr> loaded;  // path -> model, loaded or already open
  };
  std::optional<PendingSession> pendingSession_;
  QSet<int> droppedLoads_;  // loads of an aborted session: their models are not added
  QStringList autoRunPaths_;
  bool showPlansWhenDone_ = false;
  bool statusIsProgress_ = false;  // the status bar shows a progress line
  ErrorHandler errorHandler_;
};

}  // namespace otfuse::ui
