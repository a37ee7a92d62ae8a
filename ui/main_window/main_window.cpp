#include "main_window/main_window.h"

#include <qcustomplot.h>
#include <QAction>
#include <QApplication>
#include <QBuffer>
#include <QCloseEvent>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QDoubleSpinBox>
#include <QInputDialog>
#include <QKeySequence>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPageLayout>
#include <QPdfWriter>
#include <QSvgGenerator>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolBar>

#include "compression/compression_view.h"
#include "compare/compare_view.h"
#include "curves/curves_view.h"
#include "finetune/finetune_view.h"
#include "heatmap/plan_heatmap_view.h"
#include "matching/neuron_matching_view.h"
#include "models_panel/models_panel.h"
#include "otfuse/error.h"
#include "per_class/per_class_view.h"
#include "results/results_view.h"
#include "settings/settings_form.h"
#include "sweep/sweep_dialog.h"
#include "skill_transfer/skill_transfer_dialog.h"
#include "skill_transfer/skill_transfer_view.h"

namespace otfuse::ui {

namespace {
constexpr int kMaxRecent = 10;
const char* kModelFilter = "Models (*.pt *.pth *.checkpoint *.tar *.zip);;All files (*)";
}  // namespace

namespace {

// "OT fusion, BN re-estimated (test accuracy 70.52 %)": a row of the results table.
QString exportChoiceText(const FusionOutcome& outcome, const QString& which) {
  QString text = which == "sequential"      ? QObject::tr("OT fusion, sequential")
                 : which == "sequential_bn" ? QObject::tr("OT fusion, sequential, BN re-estimated")
                                            : QString::fromStdString(exportModelLabel(which.toStdString()));
  const auto& acc = outcome.summary.accuracy;
  if (auto it = acc.find(which.toStdString()); it != acc.end())
    text += QObject::tr(" (test accuracy %1 %)").arg(it->second, 0, 'f', 2);
  return text;
}

// What "Export fused model" writes by default, said under the results table.
QString exportNote(const FusionOutcome& outcome) {
  const QString which = QString::fromStdString(defaultExportModel(outcome));
  QString note = QObject::tr("File ▸ Export fused model writes: <b>%1</b>")
                     .arg(exportChoiceText(outcome, which).toHtmlEscaped());
  if (outcome.fusedBn || outcome.fusedRepair)
    note += QObject::tr("; it offers “%1” too.")
                .arg(exportChoiceText(outcome, "fused").toHtmlEscaped());
  else
    note += ".";
  return note;
}

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(tr("OTFuse Studio"));
  setObjectName("OTFuseStudioMainWindow");
  controller_ = new EngineController(this);

  models_ = new ModelsPanel;
  auto* modelsDock = new QDockWidget(tr("Models"), this);
  modelsDock->setObjectName("modelsDock");
  modelsDock->setWidget(models_);
  addDockWidget(Qt::LeftDockWidgetArea, modelsDock);

  settings_ = new SettingsForm;
  auto* scroll = new QScrollArea;
  scroll->setWidget(settings_);
  scroll->setWidgetResizable(true);
  auto* settingsDock = new QDockWidget(tr("Settings"), this);
  settingsDock->setObjectName("settingsDock");
  settingsDock->setWidget(scroll);
  addDockWidget(Qt::LeftDockWidgetArea, settingsDock);
  tabifyDockWidget(modelsDock, settingsDock);
  modelsDock->raise();

  tabs_ = new QTabWidget;
  results_ = new ResultsView;
  heatmap_ = new PlanHeatmapView;
  matching_ = new NeuronMatchingView;
  curves_ = new CurvesView;
  perClass_ = new PerClassView;
  skill_ = new SkillTransferView;
  tabs_->addTab(results_, tr("Results"));
  tabs_->addTab(perClass_, tr("Per class"));
  tabs_->addTab(heatmap_, tr("Transport plans"));
  tabs_->addTab(matching_, tr("Neuron matching"));
  tabs_->addTab(curves_, tr("Accuracy curves"));
  finetune_ = new FinetuneView(controller_);
  finetune_->setFusionSource([this] { return std::make_pair(lastRequest_, outcome_); });
  tabs_->addTab(finetune_, tr("Fine-tuning"));
  tabs_->addTab(skill_, tr("Skill transfer"));
  connect(skill_, &SkillTransferView::runRequested, this, &MainWindow::showSkillTransferDialog);
  compression_ = new CompressionView(controller_);
  tabs_->addTab(compression_, tr("Compression"));
  connect(compression_, &CompressionView::runRequested, this, [this] { runCompression(); });
  compare_ = new CompareView;
  tabs_->addTab(compare_, tr("Compare"));
  setCentralWidget(tabs_);

  status_ = new QLabel(tr("Ready."));
  progress_ = new QProgressBar;
  progress_->setMaximumWidth(260);
  progress_->setVisible(false);
  cancelButton_ = new QPushButton(tr("Cancel"));
  cancelButton_->setToolTip(tr("Stop the running computation (Esc)."));
  cancelButton_->setVisible(false);
  statusBar()->addWidget(status_, 1);
  statusBar()->addPermanentWidget(progress_);
  statusBar()->addPermanentWidget(cancelButton_);
  connect(cancelButton_, &QPushButton::clicked, this, &MainWindow::cancelJobs);

  createActions();
  connectController();
  connect(models_, &ModelsPanel::openRequested, this, [this](const QStringList& paths) {
    if (paths.isEmpty()) {
      QSettings s;
      const QStringList files = QFileDialog::getOpenFileNames(
          this, tr("Open models"), s.value("lastDir").toString(), tr(kModelFilter));
      if (!files.isEmpty()) s.setValue("lastDir", QFileInfo(files.first()).absolutePath());
      openFiles(files);
    } else {
      openFiles(paths);
    }
  });
  connect(models_, &ModelsPanel::pairChanged, this, [this] {
    bool residual = models_->fusionSet().isEmpty();  // unknown: leave the choice enabled
    for (const ModelPtr& m : models_->fusionModels())
      residual = residual || QString::fromStdString(m->architecture).startsWith("resnet");
    settings_->setResidualModels(residual);
    updateActions();
  });
  connect(curves_, &CurvesView::computeRequested, this,
          [this](const QString& which) { computeCurves(which); });
  connect(compare_, &CompareView::computeRequested, this, [this] { runComparison(); });
  connect(compare_, &CompareView::showMapsRequested, this,
          [this](const QString& method) { showCompareMaps(method); });
  connect(compare_, &CompareView::cancelRequested, this, [this] {
    if (compareJob_ > 0) controller_->cancel(compareJob_);
  });
  connect(controller_, &EngineController::jobFinished, this, [this](int job, JobKind) {
    if (job != compareJob_) return;
    compareJob_ = -1;
    compare_->setRunning(false);
  });
  connect(controller_, &EngineController::jobCancelled, this, [this](int job, JobKind) {
    if (job == compareJob_) compare_->setStatus(tr("Cancelled."));
  });
  connect(controller_, &EngineController::jobFailed, this, [this](int job, JobKind, const QString& m) {
    if (job == compareJob_) compare_->setStatus(tr("Failed: %1").arg(m));
  });
  setAcceptDrops(true);  // model files dropped anywhere on the window are opened
  resize(1440, 900);
  restoreState();
  updateActions();
}

MainWindow::~MainWindow() {
  // What the worker still reports must not reach the handlers of a window being destroyed.
  controller_->disconnect(this);
  controller_->shutdown();
}

void MainWindow::createActions() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QMenu* run = menuBar()->addMenu(tr("&Run"));
  QMenu* help = menuBar()->addMenu(tr("&Help"));
  QToolBar* tools = addToolBar(tr("Main"));
  tools->setObjectName("mainToolBar");
  tools->setToolButtonStyle(Qt::ToolButtonTextOnly);

  QAction* open = file->addAction(tr("&Open models…"), this, [this] {
    QSettings s;
    const QStringList files = QFileDialog::getOpenFileNames(
        this, tr("Open models"), s.value("lastDir").toString(), tr(kModelFilter));
    if (!files.isEmpty()) s.setValue("lastDir", QFileInfo(files.first()).absolutePath());
    openFiles(files);
  });
  open->setShortcut(QKeySequence::Open);
  recentMenu_ = file->addMenu(tr("Open &recent"));
  file->addSeparator();
  QAction* openSess = file->addAction(tr("Open &session…"), this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open session"), QString(),
                                                      tr("Sessions (*.otfuse.json *.json)"));
    if (!path.isEmpty()) openSession(path);
  });
  openSess->setShortcut(QKeySequence(tr("Ctrl+Shift+O")));
  QAction* saveSess = file->addAction(tr("&Save session…"), this, [this] {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Save session"), "session.otfuse.json", tr("Sessions (*.otfuse.json *.json)"));
    if (!path.isEmpty()) saveSession(path);
  });
  saveSess->setShortcut(QKeySequence::Save);
  file->addSeparator();
  exportModelAction_ = file->addAction(tr("Export fused &model…"), this, &MainWindow::exportModel);
  exportModelAction_->setShortcut(QKeySequence(tr("Ctrl+Shift+E")));
  exportReportAction_ =
      file->addAction(tr("Export run &report (JSON)…"), this, &MainWindow::exportReport);
  exportReportAction_->setShortcut(QKeySequence(tr("Ctrl+E")));
  exportPlansAction_ = file->addAction(tr("Export &plans (CSV)…"), this, &MainWindow::exportPlans);
  QAction* exportPlot =
      file->addAction(tr("Export plots of this &view (PNG/PDF)…"), this, &MainWindow::exportPlot);
  exportPlot->setShortcut(QKeySequence(tr("Ctrl+P")));
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence::Quit);

  runAction_ = run->addAction(tr("&Run fusion"), this, [this] { runFusion(); });
  runAction_->setShortcut(QKeySequence(tr("Ctrl+R")));
  runAction_->setToolTip(
      tr("Fuse the checked models onto the anchor and evaluate every parent, the ensemble, "
         "vanilla averaging and OT fusion (Ctrl+R)."));
  QAction* curves =
      run->addAction(tr("Compute accuracy &curves"), this, [this] { computeCurves("all"); });
  curves->setShortcut(QKeySequence(tr("Ctrl+L")));
  QAction* finetune = run->addAction(tr("&Fine-tune…"), this, [this] {
    tabs_->setCurrentWidget(finetune_);
    bool ok = false;
    const int epochs = QInputDialog::getInt(
        this, tr("Fine-tune after fusion"),
        tr("Fine-tune OT fusion and the vanilla average of the last fusion, same budget.\nEpochs:"),
        finetune_->epochs(), 1, 1000, 1, &ok);
    if (!ok) return;
    finetune_->setEpochs(epochs);
    finetune_->start();
  });
  finetune->setShortcut(QKeySequence(tr("Ctrl+T")));
  run->addAction(tr("&Sweep…"), this, [this] {  // a grid of fusions, mean ± std over seeds
    auto* d = new SweepDialog(this);
    d->setAttribute(Qt::WA_DeleteOnClose);
    const QStringList m = models_->paths();
    if (m.size() >= 2) d->setModels(m[0], m[1]);
    d->setDataDir(settings_->settings().dataDir);
    d->show();
  });
  run->addSeparator();
  QAction* skill =
      run->addAction(tr("&Skill transfer…"), this, &MainWindow::showSkillTransferDialog);
  skill->setToolTip(tr("The paper's skill-transfer experiment: train two models on a "
                       "personalised split, fuse them, compare accuracy per class."));
  run->addSeparator();
  QAction* compression = run->addAction(tr("Co&mpression…"), this, [this] { runCompression(); });
  compression->setToolTip(tr("Compress A and the anchor B to narrower models: OT fusion vs "
                             "pruning vs training from scratch, before and after fine-tuning "
                             "(settings in the Compression tab)."));
  cancelAction_ = run->addAction(tr("&Cancel"), this, &MainWindow::cancelJobs);
  cancelAction_->setShortcut(QKeySequence(Qt::Key_Escape));
  cancelAction_->setShortcutContext(Qt::ApplicationShortcut);
  QAction* demo = help->addAction(tr("Run the MNIST &demo"), this, [this] { runDemo(); });
  demo->setShortcut(QKeySequence(tr("Ctrl+D")));
  QAction* splitDemo = help->addAction(tr("Run the MNIST demo on &split data…"), this,
                                       &MainWindow::runSplitDemoDialog);
  splitDemo->setShortcut(QKeySequence(tr("Ctrl+Shift+D")));
  splitDemo->setToolTip(tr("The demo with heterogeneous data (the paper's skill-transfer "
                           "setting): A sees one special digit and a fraction of the others, "
                           "B the rest."));
  help->addAction(tr("&About OTFuse Studio"), this, [this] {
    QMessageBox::about(this, tr("About OTFuse Studio"),
                       tr("<b>OTFuse Studio</b><br>Model fusion via optimal transport "
                          "(Singh &amp; Jaggi, 2020): fuse two networks, inspect the transport "
                          "plans, neuron matchings and accuracy curves."));
  });

  tools->addAction(open);
  tools->addAction(runAction_);
  tools->addAction(curves);
  tools->addAction(cancelAction_);
  tools->addSeparator();
  tools->addAction(demo);
  addAction(cancelAction_);
  rebuildRecentMenu();
}

void MainWindow::connectController() {
  connect(controller_, &EngineController::jobStarted, this, [this](int job, JobKind kind) {
    runningKinds_.insert(job, kind);
    QString what = jobKindName(kind);
    if (kind == JobKind::LoadModel || kind == JobKind::Evaluate) {
      const QString path = loadJobs_.value(job, evalJobs_.value(job));
      what += " " + QFileInfo(path).fileName();
    }
    setStatus(what + "…");
    progress_->setVisible(true);
    progress_->setRange(0, 0);
    cancelButton_->setVisible(true);
  });
  connect(controller_, &EngineController::progress, this, [this](int job, const Progress& p) {
    const JobKind kind = runningKinds_.value(job, JobKind::Fusion);
    QString text = jobKindName(kind) + ": " + QString::fromStdString(p.stage);
    if (p.total > 0) text += QString(" (%1/%2)").arg(p.done).arg(p.total);
    if (!p.message.empty()) text += " — " + QString::fromStdString(p.message);
    setStatus(text);
    statusIsProgress_ = true;
    if (p.total > 0) {
      progress_->setRange(0, int(std::min<long long>(p.total, 1 << 30)));
      progress_->setValue(int(std::min<long long>(p.done, 1 << 30)));
    }
    if (evalJobs_.contains(job))
      models_->setEvaluationProgress(evalJobs_.value(job), p.done, p.total);
  });
  connect(controller_, &EngineController::modelLoaded, this,
          [this](int job, const QString& path, ModelPtr model) {
            if (droppedLoads_.contains(job)) return;  // of an aborted session
            if (pendingSession_ && pendingSession_->jobs.contains(job)) {
              pendingSession_->jobs.remove(job);
              pendingSession_->loaded.insert(path, model);
              if (pendingSession_->jobs.isEmpty()) commitSession();
              return;
            }
            models_->addModel(path, model);
            addRecent(path);
            const StudioSettings s = settings_->settings();
            const DatasetChoice dataset = s.datasetChoiceFor(*model);
            models_->setEvaluationDataset(path, dataset);
            const int evalJob =
                controller_->submitEvaluate(path, model, dataset.name, s.dataDir.toStdString());
            evalJobs_.insert(evalJob, path);
            if (!autoRunPaths_.isEmpty()) {
              bool all = true;
              for (const QString& p : std::as_const(autoRunPaths_)) all = all && models_->model(p);
              if (all) {
                setFusionSetByPaths(autoRunPaths_, QString(), {});
                autoRunPaths_.clear();
                runFusion();
              }
            } else if (rememberedSet_) {
              // The set of the last session of the app, once all its models are open again.
              bool all = true;
              for (const QString& p : std::as_const(rememberedSet_->paths))
                all = all && models_->model(p);
              if (all) {
                setFusionSetByPaths(rememberedSet_->paths, rememberedSet_->anchor,
                                    rememberedSet_->weights);
                rememberedSet_.reset();
              }
            }
            updateActions();
          });
  connect(controller_, &EngineController::modelEvaluated, this,
          [this](int, const QString& path, const Score& score) { models_->setScore(path, score); });
  connect(controller_, &EngineController::fusionFinished, this, [this](int, OutcomePtr outcome) {
    outcome_ = outcome;
    outcomeMeasuredAt_ = QDateTime::currentDateTimeUtc();
    storedResults_.reset();  // the table now shows what was just measured
    {
      // Parents trained on the two parts of a personal split get the skill-transfer reading.
      ModelPtr first = lastRequest_.models.size() == 2 ? lastRequest_.models[0] : lastRequest_.a;
      ModelPtr second = lastRequest_.models.size() == 2 ? lastRequest_.models[1] : lastRequest_.b;
      if (lastRequest_.models.size() > 2) first = second = nullptr;
      results_->setDataSplit(first && second
                                 ? ResultsView::dataSplitOf(first->metadata, second->metadata)
                                 : std::nullopt);
    }
    results_->setSummary(outcome->summary, outcome->anchor);
    results_->setExportNote(exportNote(*outcome));
    perClass_->setSummary(outcome->summary, outcome->anchor);
    heatmap_->setOutcome(outcome);
    heatmap_->setSourceNote({});  // the fusion's own plans again
    matching_->setSourceNote({});
    if (lastRequest_.models.size() >= 2)
      matching_->setOutcome(outcome, lastRequest_.models, lastRequest_.anchor);
    else
      matching_->setOutcome(outcome, lastRequest_.a, lastRequest_.b);
    const auto& acc = outcome->summary.accuracy;
    auto fused = acc.find("fused");
    setStatus(fused != acc.end()
                  ? tr("Fusion done: OT fusion %1 % test accuracy.").arg(fused->second, 0, 'f', 2)
                  : tr("Fusion done."));
    if (showPlansWhenDone_) {
      // The demo (issue 11): open on the results and their explanation; the plans are sorted
      // by the matching; the interpolation curves are computed right away.
      tabs_->setCurrentWidget(results_);
      heatmap_->setReorder(true);
      showPlansWhenDone_ = false;
      computeCurves("interpolation");
    }
    updateActions();
    emit fusionShown();
  });
  connect(controller_, &EngineController::curvePoint, this,
          [this](int, const QString& curve, const QString& series, const CurvePoint& p) {
            curves_->addPoint(curve, series, p);
          });
  connect(controller_, &EngineController::demoReady, this, [this](int, const QStringList& paths) {
    showPlansWhenDone_ = true;
    openFiles(paths, true);
  });
  connect(controller_, &EngineController::jobFailed, this,
          [this](int job, JobKind kind, const QString& message) {
            if (kind == JobKind::Evaluate) {
              models_->setScoreError(evalJobs_.value(job), message);
              setStatus(tr("Could not compute the test accuracy: %1").arg(message));
              return;
            }
            if (kind == JobKind::LoadModel) {
              if (droppedLoads_.contains(job)) return;
              if (pendingSession_ && pendingSession_->jobs.contains(job)) {
                const QString file = pendingSession_->file;
                abortSession(tr("Session not opened."),
                             tr("The session %1 names %2, which could not be opened:\n\n%3\n\n"
                                "Nothing of the session was applied.")
                                 .arg(file, pendingSession_->jobs.value(job), message));
                return;
              }
              // The pair to run when loaded can no longer be formed: run nothing.
              if (autoRunPaths_.contains(loadJobs_.value(job))) autoRunPaths_.clear();
              reportError(tr("Could not open the model"),
                          tr("Opening %1 failed:\n\n%2").arg(loadJobs_.value(job), message));
              return;
            }
            if (curveJobs_.contains(job))
              curves_->setStatus(curveJobs_.value(job), tr("Failed: %1").arg(message));
            reportError(tr("%1 failed").arg(jobKindName(kind)), message);
          });
  auto onStopped = [this](int job, JobKind kind) {
    if (pendingSession_ && pendingSession_->jobs.contains(job)) {
      abortSession(tr("Session not opened (cancelled); nothing was changed."), QString());
      return;
    }
    if (kind == JobKind::Evaluate) models_->setScoreError(evalJobs_.value(job), tr("cancelled"));
    if (curveJobs_.contains(job)) curves_->setStatus(curveJobs_.value(job), tr("Cancelled."));
    setStatus(tr("%1 cancelled.").arg(jobKindName(kind)));
  };
  connect(controller_, &EngineController::jobCancelled, this, onStopped);
  connect(controller_, &EngineController::jobAbandoned, this, onStopped);
  connect(controller_, &EngineController::jobFinished, this, [this](int job, JobKind kind) {
    if (curveJobs_.contains(job) && kind != JobKind::Fusion) {
      const QString curve = curveJobs_.value(job);
      if (!curves_
               ->points(curve, curve == "interpolation" ? "aligned"
                               : curve == "progressive" ? "progressive"
                               : curve == "growth"      ? "fused"
                                                        : "sinkhorn")
               .isEmpty())
        curves_->setStatus(curve, tr("Done."));
    }
    loadJobs_.remove(job);
    droppedLoads_.remove(job);
    evalJobs_.remove(job);
    curveJobs_.remove(job);
    runningKinds_.remove(job);
    if (job == fusionJob_) fusionJob_ = -1;
    if (job == skillJob_) {
      skillJob_ = -1;
      const bool ok = skillDone_ && *skillDone_ && skillResult_;
      if (ok) skill_->setResult(*skillResult_);
      skillResult_.reset();
      skillDone_.reset();
      if (ok) {
        tabs_->setCurrentWidget(skill_);
        setStatus(tr("Skill transfer done."));
        emit skillTransferShown();
      }
    }
    updateActions();
  });
  connect(controller_, &EngineController::idle, this, [this] {
    progress_->setVisible(false);
    cancelButton_->setVisible(false);
    if (statusIsProgress_ || status_->text().endsWith("…")) setStatus(tr("Ready."));
  });
}

void MainWindow::setStatus(const QString& text) {
  status_->setText(text);
  statusIsProgress_ = false;
}
QString MainWindow::statusText() const {
  return status_->text();
}

void MainWindow::reportError(const QString& title, const QString& message) {
  setStatus(title + ": " + message.section('\n', 0, 0));
  emit errorReported(title, message);
  if (errorHandler_)
    errorHandler_(title, message);
  else
    QMessageBox::critical(this, title, message);
}

void MainWindow::updateActions() {
  const bool pairOk = models_->incompatibility().isEmpty();
  runAction_->setEnabled(pairOk && fusionJob_ < 0);
  const bool haveOutcome = bool(outcome_);
  exportModelAction_->setEnabled(haveOutcome && outcome_->fused);
  exportPlansAction_->setEnabled(haveOutcome || heatmap_->outcome());
  exportReportAction_->setEnabled(haveOutcome);
}

void MainWindow::openFiles(const QStringList& paths, bool runWhenLoaded) {
  if (runWhenLoaded) autoRunPaths_.clear();
  for (const QString& p : paths) {
    const QString path = QFileInfo(p).absoluteFilePath();
    if (runWhenLoaded) autoRunPaths_ << path;
    if (models_->model(path)) continue;
    const int job = controller_->submitLoad(path);
    loadJobs_.insert(job, path);
  }
  if (runWhenLoaded && autoRunPaths_.size() >= 2) {
    bool all = true;
    for (const QString& p : std::as_const(autoRunPaths_)) all = all && models_->model(p);
    if (all) {  // already open
      setFusionSetByPaths(autoRunPaths_, QString(), {});
      autoRunPaths_.clear();
      runFusion();
    }
  } else if (runWhenLoaded) {
    autoRunPaths_.clear();
  }
}

bool MainWindow::currentRequest(FusionRequest* request, const QString& what) {
  const QString why = models_->incompatibility();
  if (!why.isEmpty()) {
    reportError(tr("Cannot %1").arg(what), why);
    return false;
  }
  *request = settings_->settings().request(models_->fusionModels(), models_->anchorPosition(),
                                           models_->weights());
  return true;
}

void MainWindow::setFusionSetByPaths(const QStringList& paths, const QString& anchor,
                                     const std::vector<double>& weights) {
  const QStringList open = models_->paths();
  // The panel keeps the list's order: weights follow their models.
  QVector<int> set;
  std::vector<std::pair<int, double>> weighted;
  for (int k = 0; k < paths.size(); ++k) {
    const int i = int(open.indexOf(paths[k]));
    if (i < 0 || set.contains(i)) continue;
    set << i;
    weighted.push_back({i, k < int(weights.size()) ? weights[size_t(k)] : 1.0});
  }
  std::sort(weighted.begin(), weighted.end());
  std::vector<double> ordered;
  if (weights.size() == size_t(paths.size()))
    for (const auto& [i, w] : weighted) ordered.push_back(w);
  models_->setFusionSet(set, anchor.isEmpty() ? -1 : int(open.indexOf(anchor)), ordered);
}

int MainWindow::runFusion() {
  if (fusionJob_ >= 0) return fusionJob_;
  FusionRequest request;
  if (!currentRequest(&request, tr("run the fusion"))) return -1;
  lastRequest_ = request;
  fusionJob_ = controller_->submitFusion(request);
  setStatus(tr("Fusion queued…"));
  updateActions();
  return fusionJob_;
}

int MainWindow::runComparison() {
  FusionRequest request;
  if (!currentRequest(&request, tr("compare the methods"))) return -1;
  CompareRequest c;
  c.a = request.a;
  c.b = request.b;
  c.dataset = request.dataset;
  c.dataDir = request.dataDir;
  c.samples = request.samples;
  c.seed = request.seed;
  c.options = request.options;
  compare_->fillRequest(&c);
  compare_->clear();
  compare_->setRunning(true);
  compare_->setStatus(tr("Comparing: A = <b>%1</b> aligned onto B = <b>%2</b>…")
                          .arg(QFileInfo(QString::fromStdString(c.a->path)).fileName().toHtmlEscaped(),
                               QFileInfo(QString::fromStdString(c.b->path)).fileName().toHtmlEscaped()));
  // Points and the outcome are handed to the view on the UI thread (queued); the view outlives
  // the job (shutdown() stops the worker before the window goes).
  QPointer<CompareView> view = compare_;
  QPointer<MainWindow> self = this;
  compareJob_ = controller_->submitTask(
      JobKind::Task, [c, view, self](const ProgressFn& progress, const CancelFlag* cancel) {
        auto out = std::make_shared<CompareOutcome>(runCompare(
            c,
            [view](const std::string& series, const CurvePoint& p) {
              QMetaObject::invokeMethod(view.data(), [view, series, p] {
                if (view) view->addPoint(QString::fromStdString(series), p);
              }, Qt::QueuedConnection);
            },
            progress, cancel));
        QMetaObject::invokeMethod(view.data(), [view, self, out, c] {
          if (!view) return;
          if (self) {
            self->compareOutcome_ = out;
            self->compareRequest_ = c;
          }
          view->setOutcome(*out);
          view->setStatus(QObject::tr("Done."));
        }, Qt::QueuedConnection);
      });
  updateActions();
  return compareJob_;
}

bool MainWindow::showCompareMaps(const QString& method) {
  if (!compareOutcome_) return false;
  const auto it = compareOutcome_->layers.find(method.toStdString());
  if (it == compareOutcome_->layers.end() || it->second.empty()) return false;
  const CompareRequest& c = compareRequest_;
  // The views read plans, costs and marginals from an outcome: one with this method's maps and
  // no models of its own (no fused model: the matching view shows A's and B's images only).
  auto shown = std::make_shared<FusionOutcome>();
  shown->layers = it->second;
  shown->modelLayers = {it->second, {}};
  shown->anchor = 1;
  shown->summary.models = {c.a->path, c.b->path};
  shown->summary.anchor = 1;
  shown->summary.options = c.options;
  const bool sinkhorn = method == "ot-sinkhorn";
  shown->summary.options.solver = sinkhorn ? Solver::Sinkhorn : Solver::Exact;
  const QString label = QString::fromStdString(compareMethodLabel(method.toStdString()));
  const QString note =
      tr("Showing the maps of <b>%1</b> from the Compare tab (A = %2 aligned onto B = %3)%4. "
         "Run a fusion (Ctrl+R) to show OT fusion's plans again.")
          .arg(label.toHtmlEscaped(),
               QFileInfo(QString::fromStdString(c.a->path)).fileName().toHtmlEscaped(),
               QFileInfo(QString::fromStdString(c.b->path)).fileName().toHtmlEscaped(),
               method == "vanilla" ? tr(": vanilla averaging aligns nothing, every map is the identity")
               : method.endsWith("matching")
                   ? tr(": a permutation per layer; the cost drawn is the negative similarity the "
                        "assignment maximized")
                   : QString());
  heatmap_->setOutcome(shown);
  heatmap_->setSourceNote(note);
  matching_->setOutcome(shown, c.a, c.b);
  matching_->setSourceNote(note);
  tabs_->setCurrentWidget(heatmap_);
  setStatus(tr("Transport plans and Neuron matching show the maps of %1.").arg(label));
  updateActions();
  return true;
}

int MainWindow::computeCurves(const QString& which) {
  FusionRequest request;
  if (!currentRequest(&request, tr("compute the curves"))) return -1;
  request.evaluate = false;
  int job = -1;
  auto submit = [&](const QString& curve) {
    curves_->clearCurve(curve);
    curves_->setStatus(curve, tr("Computing…"));
    if (curve == "growth") {
      // Every checked model, equal weights, in the panel's order, onto the anchor.
      FusionRequest growth = request;
      growth.models = models_->fusionModels();
      growth.anchor = models_->anchorPosition();
      growth.weights.clear();
      growth.sequential = false;
      job = controller_->submitGrowth(growth);
    } else if (curve == "interpolation")
      job = controller_->submitInterpolation(request, curves_->interpolationPoints());
    else if (curve == "progressive")
      job = controller_->submitProgressive(request);
    else
      job = controller_->submitEpsilon(request, curves_->epsilonFrom(), curves_->epsilonTo(),
                                       curves_->epsilonPoints());
    curveJobs_.insert(job, curve);
  };
  // The two-model curves show the first aligned model onto the anchor.
  if (models_->fusionSet().size() > 2 && request.a && request.b) {
    auto name = [](const ModelPtr& m) {
      return QFileInfo(QString::fromStdString(m->path)).fileName().toHtmlEscaped();
    };
    curves_->setModelsNote(
        tr("%1 checked models: curves (a)–(c) show the first of them aligned onto the anchor, "
           "A = <b>%2</b> onto B = <b>%3</b>; (d) all of them.")
            .arg(models_->fusionSet().size())
            .arg(name(request.a), name(request.b)));
  } else {
    curves_->setModelsNote(QString());
  }
  FusionRequest pair = request;
  pair.models.clear();
  pair.weights.clear();
  pair.sequential = false;
  for (const QString& c : CurvesView::curveNames()) {
    if (which != "all" && which != c) continue;
    if (c != "growth") std::swap(request, pair);
    submit(c);
    if (c != "growth") std::swap(request, pair);
  }
  return job;
}

int MainWindow::runCompression() {
  FusionRequest request;
  if (!currentRequest(&request, tr("compare compression"))) return -1;
  tabs_->setCurrentWidget(compression_);
  return compression_->run(request);
}

void MainWindow::cancelJobs() {
  if (!controller_->isBusy()) return;
  controller_->cancelAll();
  autoRunPaths_.clear();
  setStatus(tr("Cancelling…"));
}

void MainWindow::runDemo(const DemoOptions& options) {
  const QString cache =
      QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + "/demo-models";
  QDir().mkpath(cache);
  controller_->submitDemo(cache.toStdString(), settings_->settings().dataDir.toStdString(),
                          options);
  setStatus(options.personalSplit
                ? tr("Preparing the demo models on split data (special digit %1, %2 % of the "
                     "others for A; trained once, then cached in %3)…")
                      .arg(options.specialClass)
                      .arg(options.fraction * 100, 0, 'g', 3)
                      .arg(cache)
                : tr("Preparing the demo models (trained once, then cached in %1)…").arg(cache));
}

void MainWindow::runSplitDemoDialog() {
  QSettings settings;
  QDialog dialog(this);
  dialog.setWindowTitle(tr("Demo on split data"));
  auto* text = new QLabel(
      tr("The paper's heterogeneous-data setting (Section 5.1): model A is trained on every "
         "example of one special digit plus a fraction of the other digits; model B on the "
         "rest, without a single example of the special digit. Both are then fused as in the "
         "demo. Can one network know what A knows about the special digit and what B knows "
         "about the others? The results and the Per class tab show it."),
      &dialog);
  text->setWordWrap(true);
  auto* special = new QSpinBox(&dialog);
  special->setRange(0, 9);
  special->setValue(settings.value("demoSplit/specialClass", 4).toInt());
  auto* percent = new QDoubleSpinBox(&dialog);
  percent->setRange(0, 100);
  percent->setDecimals(1);
  percent->setSuffix(tr(" %"));
  percent->setValue(settings.value("demoSplit/percent", 10.0).toDouble());
  auto* form = new QFormLayout;
  form->addRow(tr("Special digit:"), special);
  form->addRow(tr("Other digits A sees:"), percent);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
  buttons->button(QDialogButtonBox::Ok)->setText(tr("Run the demo"));
  connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
  auto* layout = new QVBoxLayout(&dialog);
  layout->addWidget(text);
  layout->addLayout(form);
  layout->addWidget(buttons);
  dialog.resize(460, dialog.sizeHint().height());
  if (dialog.exec() != QDialog::Accepted) return;
  settings.setValue("demoSplit/specialClass", special->value());
  settings.setValue("demoSplit/percent", percent->value());
  DemoOptions options;
  options.personalSplit = true;
  options.specialClass = special->value();
  options.fraction = percent->value() / 100.0;
  runDemo(options);
}

void MainWindow::saveSession(const QString& path) {
  SessionFile s;
  s.models = models_->paths();
  s.first = models_->firstIndex();
  s.second = models_->secondIndex();
  s.fuse = models_->fusionSet();
  s.anchor = models_->anchorIndex();
  s.weights = models_->weights();
  s.settings = settings_->settings();
  s.settings.anchorIsSecond = true;  // "second" is the anchor (for the two-model app)
  s.settings.interpolationPoints = curves_->interpolationPoints();
  s.settings.epsilonFrom = curves_->epsilonFrom();
  s.settings.epsilonTo = curves_->epsilonTo();
  s.settings.epsilonPoints = curves_->epsilonPoints();
  s.finetune = finetune_->toJson();
  if (outcome_) {
    s.results = outcome_->summary;
    s.resultsMeasuredAt = outcomeMeasuredAt_;
    s.resultsAnchor = outcome_->anchor;
  } else if (storedResults_) {  // still the stored ones, with their original date
    s.results = storedResults_;
    s.resultsMeasuredAt = storedMeasuredAt_;
    s.resultsAnchor = storedAnchor_;
  }
  try {
    s.save(path);
    setStatus(tr("Session saved to %1.").arg(path));
  } catch (const std::exception& e) {
    reportError(tr("Could not save the session"), QString::fromStdString(e.what()));
  }
}

void MainWindow::openSession(const QString& path) {
  SessionFile s;
  try {
    s = SessionFile::load(path);
  } catch (const std::exception& e) {
    reportError(tr("Could not open the session"), QString::fromStdString(e.what()));
    return;
  }
  if (pendingSession_) abortSession(QString(), QString());  // the newer request wins
  PendingSession pending;
  pending.file = path;
  pending.session = s;
  for (const QString& p : std::as_const(s.models)) {
    // Relative paths are relative to the session file's folder.
    const QString abs = QFileInfo(QFileInfo(path).dir(), p).absoluteFilePath();
    pending.paths << abs;
    if (ModelPtr open = models_->model(abs)) {
      pending.loaded.insert(abs, open);
    } else if (!pending.jobs.values().contains(abs)) {  // listed twice: load once
      const int job = controller_->submitLoad(abs);
      pending.jobs.insert(job, abs);
      loadJobs_.insert(job, abs);  // for the status line
    }
  }
  pendingSession_ = std::move(pending);
  if (pendingSession_->jobs.isEmpty())
    commitSession();
  else
    setStatus(tr("Opening session %1: loading %2 model(s)…")
                  .arg(path)
                  .arg(pendingSession_->jobs.size()));
}

void MainWindow::abortSession(const QString& why, const QString& error) {
  if (!pendingSession_) return;
  for (auto it = pendingSession_->jobs.cbegin(); it != pendingSession_->jobs.cend(); ++it) {
    controller_->cancel(it.key());
    droppedLoads_.insert(it.key());
  }
  pendingSession_.reset();
  if (!error.isEmpty())
    reportError(tr("Could not open the session"), error);
  else if (!why.isEmpty())
    setStatus(why);
}

void MainWindow::commitSession() {
  PendingSession p = std::move(*pendingSession_);
  pendingSession_.reset();
  const SessionFile& s = p.session;
  settings_->setSettings(s.settings);
  finetune_->fromJson(s.finetune);
  curves_->setRanges(s.settings.interpolationPoints, s.settings.epsilonFrom, s.settings.epsilonTo,
                     s.settings.epsilonPoints);
  for (const QString& path : std::as_const(p.paths)) {
    if (models_->model(path)) continue;
    ModelPtr model = p.loaded.value(path);
    models_->addModel(path, model);
    addRecent(path);
    const StudioSettings settings = settings_->settings();
    const DatasetChoice dataset = settings.datasetChoiceFor(*model);
    models_->setEvaluationDataset(path, dataset);
    const int job = controller_->submitEvaluate(path, model, dataset.name,
                                                settings.dataDir.toStdString());
    evalJobs_.insert(job, path);
  }
  // The set by path: models opened before the session shift the panel's indices.
  if (s.fuse.size() >= 2) {
    QStringList set;
    for (int i : s.fuse) set << p.paths.value(i);
    setFusionSetByPaths(set, p.paths.value(s.anchor), s.weights);
  }
  // Plans and curves of an earlier run belong to another pair or other settings.
  outcome_.reset();
  heatmap_->setOutcome(nullptr);
  matching_->setOutcome(nullptr, nullptr, nullptr);
  heatmap_->setSourceNote({});
  matching_->setSourceNote({});
  curves_->clearAll();
  perClass_->clear();  // sessions store no per-class numbers: none of the old run stays shown
  if (s.results) {
    storedResults_ = s.results;
    storedMeasuredAt_ = s.resultsMeasuredAt;
    storedAnchor_ = s.resultsAnchor;
    results_->setStoredSummary(*s.results, s.resultsMeasuredAt, p.file, s.savedAt,
                               s.resultsAnchor);
    // Stored numbers have no model behind them: nothing to export until the run is repeated.
    results_->setExportNote(tr("Stored results: run the fusion again to export its model."));
  } else {
    storedResults_.reset();
    results_->clear();
  }
  updateActions();
  setStatus(tr("Session %1 opened.").arg(p.file));
  emit sessionOpened(p.file);
}

void MainWindow::exportModel() {
  if (!outcome_ || !outcome_->fused) return;
  QString which = QString::fromStdString(defaultExportModel(*outcome_));
  QStringList keys;  // the table's OT fusion rows that have a model
  if (outcome_->fusedBn) keys << "fused_bn";
  if (outcome_->fusedRepair) keys << "fused_repair";
  keys << "fused";
  if (outcome_->sequentialBn) keys << "sequential_bn";
  if (outcome_->sequential) keys << "sequential";
  if (keys.size() > 1) {
    QStringList items;
    for (const QString& k : keys) items << exportChoiceText(*outcome_, k);
    bool ok = false;
    const QString item = QInputDialog::getItem(
        this, tr("Export fused model"),
        tr("Which fused model? The file's metadata records the choice."), items,
        int(keys.indexOf(which)), false, &ok);
    if (!ok) return;
    which = keys.value(int(items.indexOf(item)), which);
  }
  const QString path = QFileDialog::getSaveFileName(this, tr("Export fused model"), "fused.pt",
                                                    tr("PyTorch checkpoint (*.pt)"));
  if (!path.isEmpty()) exportModelTo(path, which);
}

bool MainWindow::exportModelTo(const QString& path, const QString& which) {
  if (!outcome_ || !outcome_->fused) return false;
  try {
    const std::string key = saveFusedModel(*outcome_, which.toStdString(), path.toStdString());
    setStatus(tr("Saved %1 to %2 (a checkpoint torch.load reads; its metadata says which model "
                 "it is).")
                  .arg(exportChoiceText(*outcome_, QString::fromStdString(key)), path));
    return true;
  } catch (const std::exception& e) {
    reportError(tr("Could not save the fused model"), QString::fromStdString(e.what()));
    return false;
  }
}

void MainWindow::exportPlans() {
  if (!outcome_ && !heatmap_->outcome()) return;
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Folder for the plan CSV files"));
  if (!dir.isEmpty()) exportPlansTo(dir);
}

QStringList MainWindow::exportPlansTo(const QString& dir) {
  // The plans shown: the fusion's, or a compared method's (showCompareMaps).
  const OutcomePtr shown = heatmap_->outcome() ? heatmap_->outcome() : outcome_;
  if (!shown) return {};
  try {
    QStringList out;
    if (shown->modelLayers.size() > 2) {
      // N models: one folder per model aligned onto the anchor, "model_<i>" (1-based).
      for (size_t i = 0; i < shown->modelLayers.size(); ++i)
        if (int(i) != shown->anchor && !shown->modelLayers[i].empty())
          for (const auto& f : writePlansCsv(QString("%1/model_%2").arg(dir).arg(i + 1).toStdString(),
                                             shown->modelLayers[i]))
            out << QString::fromStdString(f);
    } else {
      for (const auto& f : writePlansCsv(dir.toStdString(), shown->layers))
        out << QString::fromStdString(f);
    }
    setStatus(tr("%1 plan files written to %2.").arg(out.size()).arg(dir));
    return out;
  } catch (const std::exception& e) {
    reportError(tr("Could not write the plans"), QString::fromStdString(e.what()));
    return {};
  }
}

void MainWindow::exportReport() {
  if (!outcome_) return;
  const QString path = QFileDialog::getSaveFileName(this, tr("Export run report"), "report.json",
                                                    tr("JSON (*.json)"));
  if (!path.isEmpty()) exportReportTo(path);
}

bool MainWindow::exportReportTo(const QString& path) {
  if (!outcome_) return false;
  try {
    writeFileAtomically(path.toStdString(),
                        reportJson(outcome_->summary, &outcome_->layers, /*includeMatrices=*/true,
                                   // N models: every model's plans onto the anchor
                                   outcome_->modelLayers.size() > 2 ? &outcome_->modelLayers
                                                                    : nullptr));
    setStatus(tr("Report written to %1.").arg(path));
    return true;
  } catch (const std::exception& e) {
    reportError(tr("Could not write the report"), QString::fromStdString(e.what()));
    return false;
  }
}

QList<QCustomPlot*> MainWindow::currentPlots() const {
  QWidget* w = tabs_->currentWidget();
  if (w == results_) return results_->plots();
  if (w == heatmap_) return heatmap_->plots();
  if (w == curves_) return curves_->plots();
  if (w == finetune_) return finetune_->plots();
  if (w == compression_) return compression_->plots();
  if (w == compare_) return compare_->plots();
  return {};
}

void MainWindow::exportPlot() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export plots"), "plot.png",
                                                    tr("PNG image (*.png);;PDF document (*.pdf);;SVG drawing (*.svg)"));
  if (!path.isEmpty()) exportPlotsTo(path);
}

namespace {

// PNG of a widget or plot, PDF of a plot, in memory: written to disk by writeFileAtomically
// (temporary file, fsync, rename), whose write errors are all detected, unlike an image
// writer's.
QByteArray pngBytes(const QPixmap& pixmap, int dpi) {
  QImage image = pixmap.toImage();
  const int dpm = qRound(dpi / 0.0254);
  image.setDotsPerMeterX(dpm);
  image.setDotsPerMeterY(dpm);
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  if (!image.save(&buffer, "PNG")) return {};
  return bytes;
}

// What QCustomPlot::savePdf draws (vector output, page = the plot's size in points), into
// memory.
QByteArray pdfBytes(QCustomPlot* plot) {
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  const int w = plot->width(), h = plot->height();
  QPdfWriter writer(&buffer);
  writer.setResolution(72);
  writer.setCreator(QStringLiteral("OTFuse Studio"));
  writer.setPageLayout(QPageLayout(QPageSize(QSizeF(w, h), QPageSize::Point, QString(),
                                             QPageSize::ExactMatch),
                                   QPageLayout::Portrait, QMarginsF(0, 0, 0, 0)));
  QCPPainter painter;
  if (!painter.begin(&writer)) return {};
  painter.setMode(QCPPainter::pmVectorized);
  painter.setMode(QCPPainter::pmNoCaching);
  painter.setWindow(QRect(0, 0, w, h));
  plot->toPainter(&painter, w, h);
  painter.end();
  return bytes;
}

// The same vector drawing as SVG (Qt SVG's QSvgGenerator: editable in Inkscape, embeddable in
// papers and slides).
QByteArray svgBytes(QCustomPlot* plot) {
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  const int w = plot->width(), h = plot->height();
  QSvgGenerator generator;
  generator.setOutputDevice(&buffer);
  generator.setSize(QSize(w, h));
  generator.setViewBox(QRect(0, 0, w, h));
  generator.setTitle(QStringLiteral("OTFuse Studio plot"));
  generator.setDescription(QStringLiteral("Exported by OTFuse Studio"));
  QCPPainter painter;
  if (!painter.begin(&generator)) return {};
  painter.setMode(QCPPainter::pmVectorized);
  painter.setMode(QCPPainter::pmNoCaching);
  plot->toPainter(&painter, w, h);
  painter.end();
  return bytes;
}

void writeBytesAtomically(const QString& path, const QByteArray& bytes) {
  if (bytes.isEmpty()) throw FileError(path.toStdString(), "nothing to write (rendering failed)");
  writeFileAtomically(path.toStdString(), std::string(bytes.constData(), size_t(bytes.size())));
}

}  // namespace

QStringList MainWindow::exportPlotsTo(const QString& path) {
  const QList<QCustomPlot*> plots = currentPlots();
  QFileInfo info(path);
  const bool pdf = info.suffix().compare("pdf", Qt::CaseInsensitive) == 0;
  const bool svg = info.suffix().compare("svg", Qt::CaseInsensitive) == 0;
  QStringList written, failures;
  auto save = [&](const QString& out, const std::function<QByteArray()>& render) {
    try {
      writeBytesAtomically(out, render());
      written << out;
    } catch (const std::exception& e) {
      failures << QString::fromStdString(e.what());
    }
  };
  if (plots.isEmpty()) {  // the matching view: grab the widget
    const QString out = info.path() + "/" + info.completeBaseName() + ".png";
    save(out, [this] { return pngBytes(tabs_->currentWidget()->grab(), 96); });
  }
  for (int i = 0; i < plots.size(); ++i) {
    const QString out = i == 0 ? path
                               : info.path() + "/" + info.completeBaseName() +
                                     QString("-%1.").arg(i + 1) +
                                     (pdf ? "pdf" : svg ? "svg" : "png");
    QCustomPlot* plot = plots[i];
    save(out, [&] {
      return pdf ? pdfBytes(plot) : svg ? svgBytes(plot) : pngBytes(plot->toPixmap(0, 0, 2.0), 96);
    });
  }
  if (!failures.isEmpty())
    reportError(tr("Could not export the plots"),
                failures.join("\n") +
                    (written.isEmpty() ? QString()
                                       : tr("\n\nWritten: %1").arg(written.join(", "))));
  else
    setStatus(tr("Exported %1.").arg(written.join(", ")));
  return written;
}

void MainWindow::showSkillTransferDialog() {
  if (skillJob_ >= 0) {
    setStatus(tr("A skill-transfer run is already under way (Esc cancels it)."));
    return;
  }
  SkillTransferDialog dialog(this);
  SkillTransferRequest r = skillRequest_;
  if (r.cacheDir.empty())
    r.cacheDir = (QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
                  "/skill-transfer")
                     .toStdString();
  dialog.setRequest(r);
  if (dialog.exec() != QDialog::Accepted) return;
  skillRequest_ = dialog.request();
  runSkillTransfer(skillRequest_);
}

int MainWindow::runSkillTransfer(const SkillTransferRequest& request) {
  if (skillJob_ >= 0) return -1;
  SkillTransferRequest r = request;
  if (r.dataDir.empty()) r.dataDir = settings_->settings().dataDir.toStdString();
  auto holder = std::make_shared<SkillTransferResult>();
  auto done = std::make_shared<bool>(false);
  skillJob_ = controller_->submitTask(
      JobKind::Task, [r, holder, done](const ProgressFn& progress, const CancelFlag* cancel) {
        ProgressFn named;
        if (progress)
          named = [progress](const Progress& p) {
            Progress q = p;
            q.stage = "skill transfer, " + p.stage;
            progress(q);
          };
        *holder = otfuse::runSkillTransfer(r, named, cancel);
        *done = true;
      });
  // Read on the UI thread when the job has finished (jobFinished is emitted after the body
  // returned); a failed or cancelled run leaves `done` false.
  skillResult_ = holder;
  skillDone_ = done;
  setStatus(tr("Skill transfer: training both parents…"));
  return skillJob_;
}

QStringList MainWindow::saveScreenshots(const QString& dir) {
  QDir().mkpath(dir);
  QStringList files;
  const QList<QPair<QWidget*, QString>> views = {
      {results_, "results"}, {perClass_, "per-class"}, {heatmap_, "heatmap"},
      {matching_, "matching"}, {curves_, "curves"}};
  QWidget* keep = tabs_->currentWidget();
  const bool keepReorder = heatmap_->reorder();
  heatmap_->setReorder(true);  // the matching reads best as a diagonal
  for (const auto& [widget, name] : views) {
    tabs_->setCurrentWidget(widget);
    QApplication::processEvents();
    for (QCustomPlot* p : results_->plots() + perClass_->plots() + heatmap_->plots() + curves_->plots())
      p->replot();
    curves_->replotIfDirty();
    const QString file = dir + "/studio-" + name + ".png";
    if (grab().save(file, "PNG", 0)) files << file;  // 0: smallest file
  }
  // N models: the plans of another model onto the anchor too.
  if (const QVector<int> others = heatmap_->selectableModels(); others.size() > 1) {
    const int keepModel = heatmap_->currentModel();
    const int keepLayer = heatmap_->currentLayer();
    heatmap_->setCurrentModel(others.last());
    heatmap_->setCurrentLayer(keepLayer);
    tabs_->setCurrentWidget(heatmap_);
    QApplication::processEvents();
    for (QCustomPlot* p : heatmap_->plots()) p->replot();
    const QString file = dir + QString("/studio-heatmap-model%1.png").arg(others.last() + 1);
    if (grab().save(file, "PNG", 0)) files << file;
    heatmap_->setCurrentModel(keepModel);
    heatmap_->setCurrentLayer(keepLayer);
  }
  tabs_->setCurrentWidget(keep);
  heatmap_->setReorder(keepReorder);
  const QString panel = dir + "/models-panel.png";
  if (QWidget* dock = models_->parentWidget(); dock && dock->grab().save(panel, "PNG", 0))
    files << panel;
  auto* modelsDock = findChild<QDockWidget*>("modelsDock");
  auto* settingsDock = findChild<QDockWidget*>("settingsDock");
  if (modelsDock && settingsDock) {
    settingsDock->raise();
    QApplication::processEvents();
    const QString form = dir + "/settings.png";
    if (settingsDock->grab().save(form, "PNG", 0)) files << form;
    modelsDock->raise();
  }
  return files;
}

void MainWindow::addRecent(const QString& path) {
  QSettings s;
  QStringList recent = s.value("recentFiles").toStringList();
  recent.removeAll(path);
  recent.prepend(path);
  while (recent.size() > kMaxRecent) recent.removeLast();
  s.setValue("recentFiles", recent);
  rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
  recentMenu_->clear();
  const QStringList recent = QSettings().value("recentFiles").toStringList();
  for (const QString& path : recent)
    recentMenu_->addAction(path, this, [this, path] { openFiles({path}); });
  recentMenu_->setEnabled(!recent.isEmpty());
}

void MainWindow::restoreState() {
  QSettings s;
  if (s.contains("window/geometry")) restoreGeometry(s.value("window/geometry").toByteArray());
  if (s.contains("window/state")) QMainWindow::restoreState(s.value("window/state").toByteArray());
  const StudioSettings settings = StudioSettings::load(s);
  settings_->setSettings(settings);
  // The models fused last time: chosen again when they are all opened again.
  const QStringList set = s.value("fusion/models").toStringList();
  if (set.size() >= 2) {
    RememberedSet r;
    r.paths = set;
    r.anchor = s.value("fusion/anchor").toString();
    for (const QVariant& w : s.value("fusion/weights").toList()) r.weights.push_back(w.toDouble());
    if (r.weights.size() != size_t(set.size())) r.weights.clear();
    rememberedSet_ = r;
  }
  curves_->setRanges(settings.interpolationPoints, settings.epsilonFrom, settings.epsilonTo,
                     settings.epsilonPoints);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  QStringList files;
  for (const QUrl& url : event->mimeData()->urls())
    if (url.isLocalFile()) files << url.toLocalFile();
  if (files.isEmpty()) return;
  event->acceptProposedAction();
  if (files.size() == 1 && files.first().endsWith(".json"))
    openSession(files.first());
  else
    openFiles(files);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  QSettings s;
  s.setValue("window/geometry", saveGeometry());
  s.setValue("window/state", saveState());
  StudioSettings settings = settings_->settings();
  settings.interpolationPoints = curves_->interpolationPoints();
  settings.epsilonFrom = curves_->epsilonFrom();
  settings.epsilonTo = curves_->epsilonTo();
  settings.epsilonPoints = curves_->epsilonPoints();
  settings.save(s);
  if (models_->fusionSet().size() >= 2) {
    s.setValue("fusion/models", models_->fusionPaths());
    s.setValue("fusion/anchor", models_->paths().value(models_->anchorIndex()));
    QVariantList w;
    for (double x : models_->weights()) w << x;
    s.setValue("fusion/weights", w);
  }
  // Cancel, quit, and wait a bounded time: a running job stops at its next check; one that
  // cannot is left to finish in the background (EngineController::shutdown).
  controller_->shutdown(EngineController::kShutdownWaitMs);
  event->accept();
}

}  // namespace otfuse::ui
