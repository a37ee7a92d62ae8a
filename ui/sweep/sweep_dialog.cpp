#include "sweep/sweep_dialog.h"

#include <QCheckBox>
#include <QCloseEvent>
#include <QCoreApplication>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QThread>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <cmath>
#include <thread>

#include "otfuse/engine/engine.h"
#include "otfuse/error.h"
#include "otfuse/fusion/report.h"

namespace otfuse::ui {

struct SweepDialog::Plan {
  std::vector<SweepPoint> points;
  SweepCommon common;
  std::string outDir;
  int workers = 1;
};

struct SweepDialog::Outcome {
  CollectResult table;
  SweepRunResult run;
  QString error;  // empty: ok
  bool cancelled = false;
};

namespace {

std::vector<std::string> listOf(const QString& text) {
  std::vector<std::string> out;
  for (const QString& s : text.split(',', Qt::SkipEmptyParts)) {
    const QString t = s.trimmed();
    if (!t.isEmpty()) out.push_back(t.toStdString());
  }
  return out;
}

std::vector<double> numbersOf(const QString& text, const QString& what, QString* error) {
  std::vector<double> out;
  for (const auto& s : listOf(text)) {
    bool ok = false;
    const double v = QString::fromStdString(s).toDouble(&ok);
    if (!ok) {
      *error = QObject::tr("%1: '%2' is not a number").arg(what, QString::fromStdString(s));
      return {};
    }
    out.push_back(v);
  }
  return out;
}

QString count(size_t n, const QString& one, const QString& many) {
  return QString("%1 %2").arg(n).arg(n == 1 ? one : many);
}

QString meanStd(const RowStats& r) {
  return r.accuracyStd ? QString("%1 ± %2").arg(r.accuracyMean, 0, 'f', 2).arg(*r.accuracyStd, 0, 'f', 2)
                       : QString("%1").arg(r.accuracyMean, 0, 'f', 2);
}

// The short label of a configuration on the plot's axis.
QString shortTitle(const ConfigStats& c) {
  auto get = [&](const char* k) {
    auto it = c.params.find(k);
    return it == c.params.end() ? QString() : QString::fromStdString(it->second);
  };
  QString s = get("mode");
  s += "\n" + get("solver");
  if (get("solver") == "sinkhorn") s += " ε " + get("epsilon");
  s += "\nt " + get("t");
  return s;
}

}  // namespace

SweepDialog::SweepDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Sweep"));
  auto* form = new QFormLayout;
  auto fileRow = [this](QLineEdit*& edit, bool folder) {
    auto* row = new QHBoxLayout;
    edit = new QLineEdit;
    auto* browse = new QPushButton(tr("…"));
    browse->setFixedWidth(32);
    connect(browse, &QPushButton::clicked, this, [this, edit, folder] {
      const QString f = folder ? QFileDialog::getExistingDirectory(this, tr("Results folder"), edit->text())
                               : QFileDialog::getOpenFileName(this, tr("Model"), edit->text());
      if (!f.isEmpty()) edit->setText(f);
    });
    row->addWidget(edit);
    row->addWidget(browse);
    return row;
  };
  form->addRow(tr("Model A (aligned)"), fileRow(modelA_, false));
  form->addRow(tr("Model B (anchor)"), fileRow(modelB_, false));
  auto checks = [](QCheckBox* x, QCheckBox* y) {
    auto* row = new QHBoxLayout;
    row->addWidget(x);
    row->addWidget(y);
    row->addStretch();
    return row;
  };
  weights_ = new QCheckBox(tr("weights"));
  activations_ = new QCheckBox(tr("activations"));
  exact_ = new QCheckBox(tr("exact"));
  sinkhorn_ = new QCheckBox(tr("Sinkhorn"));
  weights_->setChecked(true);
  activations_->setChecked(true);
  exact_->setChecked(true);
  form->addRow(tr("Modes"), checks(weights_, activations_));
  form->addRow(tr("Solvers"), checks(exact_, sinkhorn_));
  eps_ = new QLineEdit("0.01, 0.05");
  eps_->setToolTip(tr("Sinkhorn regularization values, comma-separated (Sinkhorn points only)"));
  form->addRow(tr("ε values"), eps_);
  t_ = new QLineEdit("0.5");
  t_->setToolTip(tr("Weights of the anchor B, comma-separated"));
  form->addRow(tr("t values"), t_);
  seeds_ = new QLineEdit("0, 1, 2");
  seeds_->setToolTip(tr("Activation-sampling seeds, comma-separated"));
  form->addRow(tr("Seeds"), seeds_);
  samples_ = new QSpinBox;
  samples_->setRange(1, 100000);
  samples_->setValue(200);
  form->addRow(tr("Activation samples"), samples_);
  workers_ = new QSpinBox;
  workers_->setRange(1, 256);
  workers_->setValue(std::max(1, QThread::idealThreadCount()));
  workers_->setToolTip(tr("Points computed at a time (one LibTorch thread each)"));
  form->addRow(tr("Workers"), workers_);
  form->addRow(tr("Results folder"), fileRow(outDir_, true));
  outDir_->setText(QDir::home().filePath("otfuse-sweep"));
  points_ = new QLabel;
  form->addRow(QString(), points_);

  run_ = new QPushButton(tr("Run"));
  cancel_ = new QPushButton(tr("Cancel"));
  export_ = new QPushButton(tr("Export jobs…"));
  export_->setToolTip(tr("Write the sweep as one otfuse fuse command per line for GNU parallel "
                         "(parallel < FILE) or a Slurm job array (FILE.sbatch)"));
  auto* close = new QPushButton(tr("Close"));
  cancel_->setEnabled(false);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(run_);
  buttons->addWidget(cancel_);
  buttons->addWidget(export_);
  buttons->addStretch();
  buttons->addWidget(close);
  progress_ = new QProgressBar;
  progress_->setFormat(tr("%v of %m points"));
  progress_->setValue(0);
  status_ = new QLabel;
  status_->setWordWrap(true);

  auto* left = new QWidget;
  auto* leftLayout = new QVBoxLayout(left);
  leftLayout->addLayout(form);
  leftLayout->addLayout(buttons);
  leftLayout->addWidget(progress_);
  leftLayout->addWidget(status_);
  leftLayout->addStretch();

  table_ = new QTableWidget(0, 7);
  table_->setHorizontalHeaderLabels({tr("Configuration"), tr("Runs"), tr("Model A"), tr("Model B"),
                                     tr("Ensemble"), tr("Vanilla"), tr("OT fusion")});
  table_->verticalHeader()->setVisible(false);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  for (int c = 1; c < 7; ++c) table_->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
  table_->setToolTip(tr("Test accuracy (%), mean ± sample standard deviation over the seeds"));

  plot_ = new QCustomPlot;
  plot_->setMinimumHeight(260);
  plot_->yAxis->setLabel(tr("test accuracy (%), mean ± std"));
  plot_->legend->setVisible(true);
  plot_->legend->setFillOrder(QCPLegend::foColumnsFirst);
  plot_->legend->setBorderPen(Qt::NoPen);
  plot_->plotLayout()->insertRow(0);  // the legend above the axes: it never hides a point
  plot_->plotLayout()->addElement(0, 0, plot_->legend);
  plot_->plotLayout()->setRowStretchFactor(0, 0.001);
  showVanilla_ = new QCheckBox(tr("Plot the vanilla average"));
  showVanilla_->setChecked(true);
  showVanilla_->setToolTip(tr("Far below the others it squeezes the error bars; the table keeps it"));
  connect(showVanilla_, &QCheckBox::toggled, this, [this] { showResult(); });

  auto* plotBox = new QWidget;
  auto* plotLayout = new QVBoxLayout(plotBox);
  plotLayout->setContentsMargins(0, 0, 0, 0);
  plotLayout->addWidget(plot_);
  plotLayout->addWidget(showVanilla_);
  auto* right = new QSplitter(Qt::Vertical);
  right->addWidget(table_);
  right->addWidget(plotBox);
  right->setSizes({170, 530});  // a few configurations fit; the plot gets the rest

  auto* split = new QSplitter(Qt::Horizontal);
  split->addWidget(left);
  split->addWidget(right);
  split->setStretchFactor(1, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(split);
  resize(1200, 720);

  connect(run_, &QPushButton::clicked, this, [this] { start(); });
  connect(cancel_, &QPushButton::clicked, this, &SweepDialog::cancel);
  connect(close, &QPushButton::clicked, this, &QDialog::close);
  connect(export_, &QPushButton::clicked, this, [this] {
    const QString f = QFileDialog::getSaveFileName(this, tr("Export jobs"),
                                                   QDir(outDir_->text()).filePath("../jobs.txt"));
    if (f.isEmpty()) return;
    const QString error = exportJobs(f);
    if (!error.isEmpty())
      QMessageBox::warning(this, tr("Export jobs"), error);
    else
      status_->setText(tr("Wrote %1 and %1.sbatch. Run: parallel < %1, then otfuse collect %2")
                           .arg(f, outDir_->text()));
  });
  for (QLineEdit* e : {modelA_, modelB_, eps_, t_, seeds_})
    connect(e, &QLineEdit::textChanged, this, &SweepDialog::updatePointCount);
  for (QCheckBox* c : {weights_, activations_, exact_, sinkhorn_})
    connect(c, &QCheckBox::toggled, this, &SweepDialog::updatePointCount);
  updatePointCount();
}

SweepDialog::~SweepDialog() {
  if (thread_) {
    cancelFlag_->store(true);
    thread_->wait();
    delete thread_;
  }
}

void SweepDialog::setModels(const QString& a, const QString& b) {
  modelA_->setText(a);
  modelB_->setText(b);
}

void SweepDialog::setAxes(const QString& modes, const QString& solvers, const QString& eps,
                          const QString& t, const QString& seeds) {
  weights_->setChecked(modes.contains("weights"));
  activations_->setChecked(modes.contains("activations"));
  exact_->setChecked(solvers.contains("exact"));
  sinkhorn_->setChecked(solvers.contains("sinkhorn"));
  eps_->setText(eps);
  t_->setText(t);
  seeds_->setText(seeds);
}

void SweepDialog::setPlotVanilla(bool on) { showVanilla_->setChecked(on); }

void SweepDialog::setSamples(int samples) { samples_->setValue(samples); }
void SweepDialog::setOutputDir(const QString& dir) { outDir_->setText(dir); }

std::unique_ptr<SweepDialog::Plan> SweepDialog::plan(QString* error) const {
  SweepAxes axes;
  if (modelA_->text().isEmpty() || modelB_->text().isEmpty()) {
    *error = tr("Choose two model files.");
    return nullptr;
  }
  axes.pairs = {{modelA_->text().toStdString(), modelB_->text().toStdString()}};
  axes.modes.clear();
  if (weights_->isChecked()) axes.modes.push_back("weights");
  if (activations_->isChecked()) axes.modes.push_back("activations");
  axes.solvers.clear();
  if (exact_->isChecked()) axes.solvers.push_back("exact");
  if (sinkhorn_->isChecked()) axes.solvers.push_back("sinkhorn");
  axes.epsilons = numbersOf(eps_->text(), tr("ε values"), error);
  if (!error->isEmpty()) return nullptr;
  axes.ts = numbersOf(t_->text(), tr("t values"), error);
  if (!error->isEmpty()) return nullptr;
  axes.seeds.clear();
  for (double s : numbersOf(seeds_->text(), tr("Seeds"), error)) {
    if (s < 0 || s != std::floor(s)) {
      *error = tr("Seeds must be non-negative integers.");
      return nullptr;
    }
    axes.seeds.push_back(uint64_t(s));
  }
  if (!error->isEmpty()) return nullptr;
  auto p = std::make_unique<Plan>();
  try {
    p->points = enumerateSweep(axes);
  } catch (const std::exception& e) {
    *error = QString::fromStdString(e.what());
    return nullptr;
  }
  p->common.samples = samples_->value();
  p->common.dataDir = dataDir_.toStdString();
  p->common.dataset.clear();  // the anchor's, resolved when the models are read
  p->outDir = outDir_->text().toStdString();
  p->workers = workers_->value();
  return p;
}

void SweepDialog::updatePointCount() {
  QString error;
  auto p = plan(&error);
  points_->setText(p ? count(p->points.size(), tr("point"), tr("points")) : error);
  run_->setEnabled(p && !thread_);
  export_->setEnabled(bool(p));
}

QString SweepDialog::exportJobs(const QString& file) {
  QString error;
  auto p = plan(&error);
  if (!p) return error;
  try {
    p->common.dataset = loadModel(p->points.front().b)->dataset.name;
    QString exe = QCoreApplication::applicationDirPath() + "/otfuse";
    if (!QFileInfo(exe).isExecutable()) exe = "otfuse";
    QDir().mkpath(QString::fromStdString(p->outDir));
    writeFileAtomically(file.toStdString(),
                        jobsFileText(p->points, p->common, exe.toStdString(), p->outDir));
    writeFileAtomically(file.toStdString() + ".sbatch",
                        slurmScriptText(file.toStdString(), p->points.size(), p->outDir));
  } catch (const std::exception& e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

bool SweepDialog::start() {
  if (thread_) return false;
  QString error;
  std::shared_ptr<Plan> p = plan(&error);
  if (!p) {
    status_->setText(error);
    Q_EMIT sweepFinished(false, error);
    return false;
  }
  cancelFlag_ = std::make_shared<std::atomic<bool>>(false);
  outcome_ = std::make_shared<Outcome>();
  auto cancel = cancelFlag_;
  auto outcome = outcome_;
  QPointer<SweepDialog> self(this);
  progress_->setRange(0, int(p->points.size()));
  progress_->setValue(0);
  status_->setText(tr("Running %1…").arg(count(p->points.size(), tr("point"), tr("points"))));
  thread_ = QThread::create([p, cancel, outcome, self] {
    try {
      if (p->common.dataset.empty())
        p->common.dataset = loadModel(p->points.front().b)->dataset.name;
      SweepRunOptions opt;
      opt.workers = p->workers;
      outcome->run = runSweep(
          p->points, p->common, p->outDir, opt,
          [self](const SweepProgress& sp) {
            const int done = int(sp.done), total = int(sp.total);
            const QString last = QString::fromStdString(sp.lastPoint);
            QMetaObject::invokeMethod(
                qApp, [self, done, total, last] {
                  if (self) self->onProgress(done, total, last);
                },
                Qt::QueuedConnection);
          },
          cancel.get());
      outcome->table = collectResults(p->outDir);  // what `otfuse collect DIR` reads
    } catch (const Cancelled&) {
      outcome->cancelled = true;
    } catch (const std::exception& e) {
      outcome->error = QString::fromStdString(e.what());
    }
  });
  connect(thread_, &QThread::finished, this, &SweepDialog::onThreadDone);
  setBusy(true);
  thread_->start();
  return true;
}

void SweepDialog::cancel() {
  if (cancelFlag_) cancelFlag_->store(true);
  status_->setText(tr("Cancelling: the running points stop, finished ones are kept…"));
}

void SweepDialog::onProgress(int done, int total, const QString& last) {
  progress_->setRange(0, total);
  progress_->setValue(done);
  status_->setText(tr("%1 of %2 points done; last: %3").arg(done).arg(total).arg(last));
}

void SweepDialog::onThreadDone() {
  thread_->deleteLater();
  thread_ = nullptr;
  setBusy(false);
  const Outcome& o = *outcome_;
  if (o.cancelled) {
    status_->setText(tr("Cancelled. Finished points are in %1 (complete files only).").arg(outDir_->text()));
    Q_EMIT sweepFinished(false, tr("cancelled"));
    return;
  }
  if (!o.error.isEmpty()) {
    status_->setText(tr("Failed: %1").arg(o.error));
    Q_EMIT sweepFinished(false, o.error);
    return;
  }
  result_ = o.table;
  showResult();
  QString text = tr("%1 in %2").arg(count(result_.files, tr("result file"), tr("result files")),
                                    outDir_->text());
  for (const auto& [name, why] : o.run.failures)
    text += "\n" + tr("point %1 failed: %2").arg(QString::fromStdString(name), QString::fromStdString(why));
  status_->setText(text);
  Q_EMIT sweepFinished(o.run.failures.empty(), text);
}

void SweepDialog::setBusy(bool busy) {
  cancel_->setEnabled(busy);
  run_->setEnabled(!busy);
  if (!busy) updatePointCount();
}

void SweepDialog::showResult() {
  const auto& configs = result_.configs;
  table_->setRowCount(int(configs.size()));
  const char* keys[] = {"model_0", "model_1", "ensemble", "vanilla", "fused"};
  for (int i = 0; i < int(configs.size()); ++i) {
    const ConfigStats& c = configs[size_t(i)];
    QString text = shortTitle(c).replace('\n', ", ");
    if (c.approximateRuns) text += " ≈";
    auto* title = new QTableWidgetItem(text);
    QString tip = QString::fromStdString(c.title);
    if (c.approximateRuns)
      tip += "\n" + tr("≈ %1 of %2 runs have approximate plans (a Sinkhorn layer stopped at its "
                        "iteration limit)").arg(c.approximateRuns).arg(c.files.size());
    title->setToolTip(tip);
    table_->setItem(i, 0, title);
    auto* runs = new QTableWidgetItem(QString::number(c.files.size()));
    runs->setTextAlignment(Qt::AlignCenter);
    table_->setItem(i, 1, runs);
    for (int k = 0; k < 5; ++k) {
      QString text = "n/a";
      for (const auto& r : c.rows)
        if (r.key == keys[k]) text = meanStd(r);
      auto* item = new QTableWidgetItem(text);
      item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      table_->setItem(i, 2 + k, item);
    }
  }

  // Plot: per configuration the ensemble, vanilla and OT fusion rows as points with error bars
  // (mean ± std over the seeds); the parents as short horizontal marks would clutter, the table
  // has them.
  plot_->clearPlottables();
  struct Series {
    const char* key;
    QString name;
    QColor color;
    double offset;
    QCPScatterStyle::ScatterShape shape;
  };
  const Series series[] = {
      {"ensemble", tr("prediction ensemble"), QColor(120, 120, 120), -0.2, QCPScatterStyle::ssSquare},
      {"vanilla", tr("vanilla average"), QColor(214, 96, 77), 0.0, QCPScatterStyle::ssTriangle},
      {"fused", tr("OT fusion"), QColor(33, 102, 172), 0.2, QCPScatterStyle::ssDisc}};
  double lo = 100, hi = 0;
  for (const Series& s : series) {
    if (std::string(s.key) == "vanilla" && !showVanilla_->isChecked()) continue;
    QVector<double> x, y, err;
    for (int i = 0; i < int(configs.size()); ++i)
      for (const auto& r : configs[size_t(i)].rows)
        if (r.key == s.key) {
          x << i + 1 + s.offset;
          y << r.accuracyMean;
          err << r.accuracyStd.value_or(0.0);
          lo = std::min(lo, r.accuracyMean - r.accuracyStd.value_or(0.0));
          hi = std::max(hi, r.accuracyMean + r.accuracyStd.value_or(0.0));
        }
    if (x.isEmpty()) continue;
    auto* g = plot_->addGraph();
    g->setName(s.name);
    g->setLineStyle(QCPGraph::lsNone);
    g->setScatterStyle(QCPScatterStyle(s.shape, s.color, s.color, 8));
    g->setData(x, y);
    auto* bars = new QCPErrorBars(plot_->xAxis, plot_->yAxis);
    bars->setDataPlottable(g);
    bars->setData(err);
    bars->setPen(QPen(s.color, 1.5));
    bars->setWhiskerWidth(8);
    bars->removeFromLegend();
  }
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  for (int i = 0; i < int(configs.size()); ++i) ticker->addTick(i + 1, shortTitle(configs[size_t(i)]));
  plot_->xAxis->setTicker(ticker);
  plot_->xAxis->setSubTicks(false);
  plot_->xAxis->grid()->setVisible(false);
  plot_->xAxis->setRange(0.4, configs.size() + 0.6);
  if (hi >= lo) {
    const double pad = std::max(0.5, (hi - lo) * 0.15);
    plot_->yAxis->setRange(lo - pad, hi + pad);
  }
  plot_->replot();
}

void SweepDialog::closeEvent(QCloseEvent* event) {
  if (thread_) {
    cancelFlag_->store(true);
    thread_->wait();  // the running points stop within a batch or a layer
  }
  QDialog::closeEvent(event);
}

}  // namespace otfuse::ui
