#include "settings/settings_form.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>

namespace otfuse::ui {

namespace {
QComboBox* combo(const QStringList& labels, const QStringList& values, const QString& tip) {
  auto* c = new QComboBox;
  for (int i = 0; i < labels.size(); ++i) c->addItem(labels[i], values[i]);
  c->setToolTip(tip);
  return c;
}
void selectData(QComboBox* c, const QString& value) {
  int i = c->findData(value);
  if (i >= 0) c->setCurrentIndex(i);
}
}  // namespace

SettingsForm::SettingsForm(QWidget* parent) : QWidget(parent) {
  auto* form = new QFormLayout(this);
  form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);

  mode_ = combo({tr("Weights"), tr("Activations")}, {"weights", "activations"},
                tr("Align neurons by comparing their incoming weights (weights) or their "
                   "responses to sample inputs (activations)."));
  form->addRow(tr("Alignment mode"), mode_);

  solver_ = combo({tr("Exact OT"), tr("Sinkhorn (entropic)")}, {"exact", "sinkhorn"},
                  tr("Exact optimal transport gives a hard matching; Sinkhorn gives a blurred, "
                     "soft one controlled by epsilon."));
  form->addRow(tr("Solver"), solver_);

  epsilon_ = new QDoubleSpinBox;
  epsilon_->setDecimals(4);
  epsilon_->setRange(0.0001, 1000.0);
  epsilon_->setSingleStep(0.01);
  epsilon_->setToolTip(
      tr("Sinkhorn's entropic regularization in cost units: larger values "
         "spread each neuron's mass over more partners."));
  form->addRow(tr("Sinkhorn ε"), epsilon_);

  metric_ = combo({tr("Euclidean"), tr("Squared Euclidean"), tr("Cosine")},
                  {"euclidean", "sqeuclidean", "cosine"},
                  tr("Ground cost between two neurons' weight or activation vectors."));
  form->addRow(tr("Ground metric"), metric_);

  normalization_ = combo({tr("None"), tr("Max"), tr("Mean"), tr("Median"), tr("log(1+x)")},
                         {"none", "max", "mean", "median", "log1p"},
                         tr("Rescales the cost matrix before solving (the paper uses none)."));
  form->addRow(tr("Cost normalization"), normalization_);

  marginals_ =
      combo({tr("Uniform"), tr("L1 importance"), tr("L2 importance")}, {"uniform", "l1", "l2"},
            tr("How much mass each neuron carries: equal for all, or proportional to "
               "the norm of its weights."));
  form->addRow(tr("Neuron marginals"), marginals_);

  samples_ = new QSpinBox;
  samples_->setRange(1, 100000);
  samples_->setToolTip(
      tr("Number of training images whose activations are compared (activations mode)."));
  form->addRow(tr("Activation samples"), samples_);

  seed_ = new QSpinBox;
  seed_->setRange(0, 1 << 30);
  seed_->setToolTip(tr("Random seed choosing the activation samples, for reproducible runs."));
  form->addRow(tr("Seed"), seed_);

  t_ = new QDoubleSpinBox;
  t_->setDecimals(2);
  t_->setRange(0.0, 1.0);
  t_->setSingleStep(0.05);
  t_->setToolTip(
      tr("Two models: weight of the anchor in the average, fused = (1 - t) aligned + t anchor. "
         "The anchor and, for more models, the weights are chosen in the Models panel."));
  form->addRow(tr("Anchor weight t"), t_);

  const StreamMap defaultMap = FusionOptions{}.streamMap;
  auto mark = [&](const QString& label, StreamMap m) {
    return m == defaultMap ? tr("%1 (default)").arg(label) : label;
  };
  streamMap_ = combo(
      {mark(tr("First writer"), StreamMap::FirstWriter),
       mark(tr("Average of writers"), StreamMap::Average),
       mark(tr("Summed costs"), StreamMap::SummedCost)},
      {"first", "average", "summed"},
      tr("Residual networks only: every layer writing into one residual stream must share one "
         "neuron map. First writer: the plan solved at the stream's first layer, reused by the "
         "others. Average: the mean of the maps of the main path and the shortcut (the "
         "authors' code). Summed costs: one plan solved on the sum of the costs of all writers "
         "(Git Re-Basin). Plain networks are not affected."));
  form->addRow(tr("Residual streams"), streamMap_);

  sequential_ = new QCheckBox(tr("Also fuse sequentially"));
  sequential_->setToolTip(
      tr("Three or more models: also fuse two, then the result with the next, and so on, and "
         "show it as the table's \"sequential\" row, for comparison with fusing all onto one "
         "anchor at once."));
  form->addRow(tr("N models"), sequential_);

  dataset_ = combo({tr("From the models (checkpoint metadata, else input shape)"), tr("MNIST"),
                    tr("Fashion-MNIST"), tr("CIFAR-10"), tr("Image folder…")},
                   {"", "mnist", "fashion-mnist", "cifar10", "folder"},
                   tr("Test set for the accuracies, and source of the activation samples. "
                      "\"From the models\" uses the dataset a checkpoint's metadata names "
                      "(otfuse train stores it), else guesses from the input shape "
                      "(1×28×28: MNIST, 3×32×32: CIFAR-10); the models panel says which."));
  form->addRow(tr("Dataset"), dataset_);

  auto* folderRow = new QWidget;
  auto* folderLayout = new QHBoxLayout(folderRow);
  folderLayout->setContentsMargins(0, 0, 0, 0);
  folder_ = new QLineEdit;
  folder_->setPlaceholderText(tr("root with train/ and test/ class folders"));
  folder_->setToolTip(tr("An image folder root/{train,test}/<class>/*.png|jpg."));
  auto* browse = new QPushButton(tr("…"));
  browse->setToolTip(tr("Choose the image folder."));
  folderLayout->addWidget(folder_);
  folderLayout->addWidget(browse);
  form->addRow(tr("Image folder"), folderRow);
  connect(browse, &QPushButton::clicked, this, [this] {
    QString dir = QFileDialog::getExistingDirectory(this, tr("Image folder"), folder_->text());
    if (!dir.isEmpty()) folder_->setText(dir);
  });

  dataDir_ = new QLineEdit;
  dataDir_->setPlaceholderText(tr("default ($OTFUSE_DATA_DIR or ~/.local/share/otfuse)"));
  dataDir_->setToolTip(tr("Folder holding the datasets; empty uses the default location."));
  form->addRow(tr("Data folder"), dataDir_);

  probabilityEnsemble_ = new QCheckBox(tr("Average probabilities"));
  probabilityEnsemble_->setToolTip(
      tr("The ensemble averages softmax probabilities instead of "
         "log-probabilities (the paper's rule)."));
  form->addRow(tr("Ensemble"), probabilityEnsemble_);

  otOutput_ = new QCheckBox(tr("Also align the output layer"));
  otOutput_->setToolTip(
      tr("Solve OT on the output layer too instead of keeping classes in "
         "place (the reference implementation does)."));
  form->addRow(tr("Output layer"), otOutput_);

  repair_ = combo({tr("Off"), tr("Exact (measured on the merged network)"), tr("Closed form")},
                  {"none", "exact", "closed"},
                  tr("REPAIR (Jordan et al., 2023), for networks without BatchNorm: also show "
                     "OT fusion and the vanilla average with every hidden channel's "
                     "pre-activation mean and std reset to the parents' (weighted) ones. Exact "
                     "measures the merged network layer by layer; the closed form estimates "
                     "without running it (two models only). BatchNorm networks get their "
                     "statistics re-estimated instead (the \"BN re-estimated\" rows)."));
  form->addRow(tr("REPAIR"), repair_);
  repairBatches_ = new QSpinBox;
  repairBatches_->setRange(1, 1000);
  repairBatches_->setSuffix(tr(" × 128 images"));
  repairBatches_->setToolTip(tr("Training batches REPAIR measures the statistics on."));
  form->addRow(tr("REPAIR statistics"), repairBatches_);

  auto* reset = new QPushButton(tr("Paper defaults"));
  reset->setToolTip(tr("Restore the settings of the paper's MNIST experiment."));
  form->addRow(QString(), reset);
  connect(reset, &QPushButton::clicked, this, [this] { resetToDefaults(); });

  setSettings(StudioSettings{});

  for (QComboBox* c :
       {mode_, solver_, metric_, normalization_, marginals_, streamMap_, dataset_, repair_})
    connect(c, &QComboBox::currentIndexChanged, this, [this] {
      updateEnabled();
      emit changed();
    });
  for (QDoubleSpinBox* s : {epsilon_, t_})
    connect(s, &QDoubleSpinBox::valueChanged, this, &SettingsForm::changed);
  for (QSpinBox* s : {samples_, seed_, repairBatches_})
    connect(s, &QSpinBox::valueChanged, this, &SettingsForm::changed);
  for (QLineEdit* e : {folder_, dataDir_})
    connect(e, &QLineEdit::textChanged, this, &SettingsForm::changed);
  for (QCheckBox* c : {probabilityEnsemble_, otOutput_, sequential_})
    connect(c, &QCheckBox::toggled, this, &SettingsForm::changed);
}

void SettingsForm::setResidualModels(bool residual) {
  residual_ = residual;
  updateEnabled();
}

void SettingsForm::updateEnabled() {
  streamMap_->setEnabled(residual_);
  epsilon_->setEnabled(solver_->currentData().toString() == "sinkhorn");
  const bool acts = mode_->currentData().toString() == "activations";
  samples_->setEnabled(acts);
  seed_->setEnabled(acts);
  repairBatches_->setEnabled(repair_->currentData().toString() != "none");
  folder_->parentWidget()->setEnabled(dataset_->currentData().toString() == "folder");
}

StudioSettings SettingsForm::settings() const {
  StudioSettings s = hidden_;
  s.options.mode = parseAlignMode(mode_->currentData().toString().toStdString());
  s.options.solver = parseSolver(solver_->currentData().toString().toStdString());
  s.options.epsilon = epsilon_->value();
  s.options.metric = ot::parseMetric(metric_->currentData().toString().toStdString());
  s.options.normalization =
      ot::parseNormalization(normalization_->currentData().toString().toStdString());
  s.options.marginals = parseMarginals(marginals_->currentData().toString().toStdString());
  s.options.t = t_->value();
  s.options.otOutputLayer = otOutput_->isChecked();
  s.samples = samples_->value();
  s.seed = quint64(seed_->value());
  s.options.streamMap = parseStreamMap(streamMap_->currentData().toString().toStdString());
  s.sequential = sequential_->isChecked();
  const QString ds = dataset_->currentData().toString();
  s.dataset =
      ds == "folder" ? (folder_->text().isEmpty() ? QString() : "folder:" + folder_->text()) : ds;
  s.dataDir = dataDir_->text();
  s.probabilityEnsemble = probabilityEnsemble_->isChecked();
  s.repair = parseRepairMode(repair_->currentData().toString().toStdString());
  s.repairBatches = repairBatches_->value();
  return s;
}

void SettingsForm::setSettings(const StudioSettings& s) {
  hidden_ = s;
  selectData(mode_, QString::fromStdString(toString(s.options.mode)));
  selectData(solver_, QString::fromStdString(toString(s.options.solver)));
  epsilon_->setValue(s.options.epsilon);
  selectData(metric_, QString::fromStdString(ot::toString(s.options.metric)));
  selectData(normalization_, QString::fromStdString(ot::toString(s.options.normalization)));
  selectData(marginals_, QString::fromStdString(toString(s.options.marginals)));
  t_->setValue(s.options.t);
  otOutput_->setChecked(s.options.otOutputLayer);
  samples_->setValue(s.samples);
  seed_->setValue(int(s.seed));
  selectData(streamMap_, QString::fromStdString(toString(s.options.streamMap)));
  sequential_->setChecked(s.sequential);
  if (s.dataset.startsWith("folder:")) {
    selectData(dataset_, "folder");
    folder_->setText(s.dataset.mid(7));
  } else {
    selectData(dataset_, s.dataset);
  }
  dataDir_->setText(s.dataDir);
  probabilityEnsemble_->setChecked(s.probabilityEnsemble);
  selectData(repair_, QString::fromStdString(toString(s.repair)));
  repairBatches_->setValue(s.repairBatches);
  updateEnabled();
}

}  // namespace otfuse::ui
