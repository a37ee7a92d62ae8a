#include "models_panel/models_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileInfo>
#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QLocale>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

namespace otfuse::ui {

namespace {
QString fileName(const QString& path) {
  return QFileInfo(path).fileName();
}
QString parentAndName(const QString& path) {
  QFileInfo info(path);
  return info.dir().dirName() + "/" + info.fileName();
}
}  // namespace

ModelsPanel::ModelsPanel(QWidget* parent) : QWidget(parent) {
  setAcceptDrops(true);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(6, 6, 6, 6);

  auto* open = new QPushButton(tr("Open models…"));
  open->setToolTip(tr("Open two or more model files (you can also drop files here)."));
  connect(open, &QPushButton::clicked, this, [this] { emit openRequested({}); });
  layout->addWidget(open);

  list_ = new QListWidget;
  list_->setToolTip(
      tr("Opened models. Check the ones to fuse (two or more, fused in this order); select one "
         "to see its layers and metadata."));
  list_->setMinimumHeight(60);
  list_->setMaximumHeight(130);
  layout->addWidget(list_);

  setSummary_ = new QLabel;
  setSummary_->setWordWrap(true);
  layout->addWidget(setSummary_);
  auto* setForm = new QFormLayout;
  anchorBox_ = new QComboBox;
  anchorBox_->setToolTip(
      tr("The anchor keeps its neuron order and sets the fused model's widths; every other "
         "checked model is aligned onto it with its own transport plans. Default: model B for "
         "two models, the first model for three or more."));
  setForm->addRow(tr("Anchor"), anchorBox_);
  customWeights_ = new QCheckBox(tr("Custom weights"));
  customWeights_->setToolTip(
      tr("Weights of the models in the average (normalized to sum 1). Off: equal weights 1/N "
         "(for two models: the anchor weight t of the settings)."));
  setForm->addRow(tr("Weights"), customWeights_);
  layout->addLayout(setForm);
  weights_ = new QTableWidget(0, 2);
  weights_->setHorizontalHeaderLabels({tr("Model"), tr("Weight")});
  weights_->verticalHeader()->setVisible(false);
  weights_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  weights_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
  weights_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  weights_->setMaximumHeight(120);
  weights_->setVisible(false);
  layout->addWidget(weights_);
  compatibility_ = new QLabel;
  compatibility_->setWordWrap(true);
  compatibility_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(compatibility_);

  header_ =
      new QLabel(tr("Open two models to fuse them: File ▸ Open (Ctrl+O), drag and drop, "
                    "or Help ▸ Demo."));
  header_->setWordWrap(true);
  header_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(header_);
  auto* accRow = new QHBoxLayout;
  accuracy_ = new QLabel;
  evalProgress_ = new QProgressBar;
  evalProgress_->setMaximumHeight(14);
  evalProgress_->setTextVisible(false);
  evalProgress_->setVisible(false);
  accRow->addWidget(accuracy_, 1);
  accRow->addWidget(evalProgress_, 1);
  layout->addLayout(accRow);

  layers_ = new QTableWidget(0, 4);
  layers_->setHorizontalHeaderLabels({tr("Layer"), tr("Kind"), tr("Weight shape"), tr("Params")});
  layers_->verticalHeader()->setVisible(false);
  layers_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  layers_->horizontalHeader()->setStretchLastSection(true);
  layers_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  layers_->setToolTip(tr("The model's layers with their weight shapes and parameter counts."));
  metadata_ = new QTableWidget(0, 2);
  metadata_->setHorizontalHeaderLabels({tr("Stored entry"), tr("Value")});
  metadata_->verticalHeader()->setVisible(false);
  metadata_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  metadata_->horizontalHeader()->setStretchLastSection(true);
  metadata_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  metadata_->setToolTip(tr("Entries stored in the file next to the weights."));
  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(layers_);
  split->addWidget(metadata_);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 1);
  layout->addWidget(split, 1);

  connect(list_, &QListWidget::currentRowChanged, this, &ModelsPanel::showDetails);
  connect(list_, &QListWidget::itemChanged, this, [this](QListWidgetItem* item) {
    if (refreshing_) return;
    const int i = list_->row(item);
    if (i < 0 || i >= count()) return;
    const bool fuse = item->checkState() == Qt::Checked;
    if (entries_[size_t(i)].fuse == fuse) return;
    entries_[size_t(i)].fuse = fuse;
    if (!fuse && anchor_ == i) anchor_ = -1;
    refreshSet();
  });
  connect(anchorBox_, &QComboBox::activated, this, [this](int row) {
    setAnchor(anchorBox_->itemData(row).toInt());
  });
  connect(customWeights_, &QCheckBox::toggled, this, [this] { refreshSet(); });
  refreshSet();
}

int ModelsPanel::defaultAnchor(int n) {
  return n == 2 ? 1 : 0;
}

int ModelsPanel::indexOf(const QString& path) const {
  for (size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].path == path) return int(i);
  return -1;
}

QStringList ModelsPanel::paths() const {
  QStringList out;
  for (const auto& e : entries_) out << e.path;
  return out;
}

ModelPtr ModelsPanel::model(const QString& path) const {
  int i = indexOf(path);
  return i < 0 ? nullptr : entries_[size_t(i)].model;
}

void ModelsPanel::addModel(const QString& path, ModelPtr model) {
  int i = indexOf(path);
  if (i >= 0) {
    Entry& e = entries_[size_t(i)];
    e = Entry{path, std::move(model), {}, {}, 0, 0, {}, e.fuse, e.weight};
  } else {
    const bool fuse = fusionSet().size() < 2;  // the first two models form the set
    entries_.push_back(Entry{path, std::move(model), {}, {}, 0, 0, {}, fuse, 1.0});
    i = int(entries_.size()) - 1;
  }
  refreshList();
  {
    QSignalBlocker block(list_);
    list_->setCurrentRow(i);
  }
  showDetails(i);
  refreshSet();
}

void ModelsPanel::clear() {
  entries_.clear();
  anchor_ = -1;
  refreshList();
  refreshSet();
  showDetails(-1);
}

void ModelsPanel::refreshList() {
  QSignalBlocker b0(list_);
  refreshing_ = true;
  const int row = list_->currentRow();
  list_->clear();
  for (const auto& e : entries_) {
    QString acc = e.score ? QString(" — %1 %").arg(e.score->accuracy, 0, 'f', 2) : QString();
    auto* item = new QListWidgetItem(
        QString("%1  (%2)%3")
            .arg(parentAndName(e.path), QString::fromStdString(e.model->architecture), acc));
    item->setToolTip(e.path + tr("\nChecked: fused."));
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    item->setCheckState(e.fuse ? Qt::Checked : Qt::Unchecked);
    list_->addItem(item);
  }
  if (row >= 0 && row < list_->count()) list_->setCurrentRow(row);
  refreshing_ = false;
}

QVector<int> ModelsPanel::fusionSet() const {
  QVector<int> out;
  for (size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].fuse) out << int(i);
  return out;
}

void ModelsPanel::setFusionSet(const QVector<int>& models, int anchor,
                               const std::vector<double>& weights) {
  for (auto& e : entries_) e.fuse = false;
  for (int i : models)
    if (i >= 0 && i < count()) entries_[size_t(i)].fuse = true;
  anchor_ = anchor >= 0 && anchor < count() && entries_[size_t(anchor)].fuse ? anchor : -1;
  const QVector<int> set = fusionSet();
  const bool custom = !weights.empty() && weights.size() == size_t(set.size());
  if (custom)
    for (int k = 0; k < set.size(); ++k) entries_[size_t(set[k])].weight = weights[size_t(k)];
  refreshList();
  {
    QSignalBlocker block(customWeights_);
    customWeights_->setChecked(custom);
  }
  refreshSet();
}

std::vector<ModelPtr> ModelsPanel::fusionModels() const {
  std::vector<ModelPtr> out;
  for (int i : fusionSet()) out.push_back(entries_[size_t(i)].model);
  return out;
}

QStringList ModelsPanel::fusionPaths() const {
  QStringList out;
  for (int i : fusionSet()) out << entries_[size_t(i)].path;
  return out;
}

int ModelsPanel::anchorPosition() const {
  const QVector<int> set = fusionSet();
  if (set.isEmpty()) return -1;
  if (anchor_ >= 0) {
    const int k = int(set.indexOf(anchor_));
    if (k >= 0) return k;
  }
  return std::min(defaultAnchor(int(set.size())), int(set.size()) - 1);
}

int ModelsPanel::anchorIndex() const {
  const int k = anchorPosition();
  return k < 0 ? -1 : fusionSet()[k];
}

void ModelsPanel::setAnchor(int modelIndex) {
  if (modelIndex < 0 || modelIndex >= count() || !entries_[size_t(modelIndex)].fuse) return;
  anchor_ = modelIndex;
  refreshSet();
}

std::vector<double> ModelsPanel::weights() const {
  if (!customWeights_->isChecked()) return {};
  std::vector<double> out;
  for (int i : fusionSet()) out.push_back(entries_[size_t(i)].weight);
  return out;
}

void ModelsPanel::setWeights(const std::vector<double>& weights) {
  const QVector<int> set = fusionSet();
  const bool custom = !weights.empty() && weights.size() == size_t(set.size());
  if (custom)
    for (int k = 0; k < set.size(); ++k) entries_[size_t(set[k])].weight = weights[size_t(k)];
  QSignalBlocker block(customWeights_);
  customWeights_->setChecked(custom);
  refreshSet();
}

void ModelsPanel::setPair(int first, int second) {
  setFusionSet({first, second}, second);
}

int ModelsPanel::firstIndex() const {
  const int anchor = anchorIndex();
  for (int i : fusionSet())
    if (i != anchor) return i;
  return -1;
}
int ModelsPanel::secondIndex() const {
  return anchorIndex();
}

ModelPtr ModelsPanel::first() const {
  const int i = firstIndex();
  return i >= 0 && secondIndex() >= 0 ? entries_[size_t(i)].model : nullptr;
}
ModelPtr ModelsPanel::second() const {
  const int i = secondIndex();
  return i >= 0 && firstIndex() >= 0 ? entries_[size_t(i)].model : nullptr;
}

QString ModelsPanel::incompatibility() const {
  if (count() < 2) return tr("Open at least two models.");
  const QVector<int> set = fusionSet();
  if (set.size() < 2) return tr("Check two or more models to fuse.");
  const int anchor = anchorIndex();
  const ModelHandle& b = *entries_[size_t(anchor)].model;
  QStringList problems;
  for (int i : set) {
    if (i == anchor) continue;
    const std::string why = fusionIncompatibility(*entries_[size_t(i)].model, b);
    if (!why.empty())
      problems << (set.size() > 2 ? fileName(entries_[size_t(i)].path) + ": " : QString()) +
                      QString::fromStdString(why);
  }
  if (customWeights_->isChecked()) {
    double sum = 0;
    for (int i : set) sum += entries_[size_t(i)].weight;
    if (!(sum > 0)) problems << tr("The weights sum to 0: give at least one model a weight.");
  }
  return problems.join("\n");
}

QString ModelsPanel::incompatibilityText() const {
  return compatibility_->text();
}

void ModelsPanel::refreshSet() {
  const QVector<int> set = fusionSet();
  const int anchor = anchorIndex();
  {
    QSignalBlocker block(anchorBox_);
    anchorBox_->clear();
    for (int i : set)
      anchorBox_->addItem(parentAndName(entries_[size_t(i)].path), i);
    anchorBox_->setCurrentIndex(int(set.indexOf(anchor)));
    anchorBox_->setEnabled(set.size() >= 2);
  }
  // The set in words: "3 models to fuse onto a.pt (anchor)".
  if (set.size() >= 2) {
    QStringList names;
    for (int i : set)
      names << (i == anchor ? tr("<b>%1</b> (anchor)") : QStringLiteral("%1"))
                   .arg(fileName(entries_[size_t(i)].path).toHtmlEscaped());
    setSummary_->setText(tr("Fusing %1 models: %2").arg(set.size()).arg(names.join(", ")) +
                         (set.size() < count() ? tr(" — check more in the list to add them.")
                                               : QString()));
  } else {
    setSummary_->setText(count() >= 2 ? tr("Check two or more models in the list to fuse them.")
                                      : QString());
  }
  // Weights: one spin box per model of the set.
  const bool custom = customWeights_->isChecked();
  weights_->setVisible(custom && set.size() >= 2);
  weights_->setRowCount(int(set.size()));
  for (int k = 0; k < set.size(); ++k) {
    const int i = set[k];
    auto* name = new QTableWidgetItem(parentAndName(entries_[size_t(i)].path) +
                                      (i == anchor ? tr(" (anchor)") : QString()));
    weights_->setItem(k, 0, name);
    auto* spin = new QDoubleSpinBox;
    spin->setDecimals(3);
    spin->setRange(0.0, 1000.0);
    spin->setSingleStep(0.1);
    spin->setValue(entries_[size_t(i)].weight);
    spin->setToolTip(tr("Weight of this model in the average (weights are normalized to sum 1)."));
    connect(spin, &QDoubleSpinBox::valueChanged, this, [this, i](double v) {
      if (i < count()) entries_[size_t(i)].weight = v;
      updateCompatibility();
      emit pairChanged();
    });
    weights_->setCellWidget(k, 1, spin);
  }
  updateCompatibility();
  emit pairChanged();
}

void ModelsPanel::updateCompatibility() {
  const QVector<int> set = fusionSet();
  const int anchor = anchorIndex();
  const QString why = incompatibility();
  if (why.isEmpty()) {
    bool vanilla = true;
    const ModelHandle& b = *entries_[size_t(anchor)].model;
    for (int i : set)
      if (i != anchor) vanilla = vanilla && fusionIncompatibility(*entries_[size_t(i)].model, b, true).empty();
    compatibility_->setStyleSheet("color: #1b6e20;");
    compatibility_->setText(tr("✔ These models can be fused%1.")
                                .arg(vanilla ? tr(" (and averaged directly)")
                                             : tr("; vanilla averaging is not "
                                                  "possible (different widths)")));
  } else {
    compatibility_->setStyleSheet(count() >= 2 ? "color: #b71c1c;" : "color: palette(text);");
    compatibility_->setText((count() >= 2 ? tr("✘ Cannot fuse: ") : QString()) + why);
  }
}

void ModelsPanel::showDetails(int row) {
  layers_->setRowCount(0);
  metadata_->setRowCount(0);
  evalProgress_->setVisible(false);
  accuracy_->clear();
  if (row < 0 || row >= count()) {
    header_->setText(tr("No model selected."));
    return;
  }
  const Entry& e = entries_[size_t(row)];
  const ModelHandle& m = *e.model;
  header_->setText(
      tr("<b>%1</b><br>%2 · %3 format · input %4×%5×%6 · %7 classes · %8 parameters<br>%9")
          .arg(fileName(e.path).toHtmlEscaped(), QString::fromStdString(m.architecture),
               QString::fromStdString(m.format))
          .arg(m.inChannels)
          .arg(m.inHeight)
          .arg(m.inWidth)
          .arg(m.numClasses)
          .arg(QLocale().toString(qlonglong(m.parameters)))
          .arg(datasetText(e.path).toHtmlEscaped()));
  header_->setToolTip(e.path);
  if (e.score) {
    const DatasetChoice& d = e.dataset ? *e.dataset : m.dataset;
    accuracy_->setText(tr("Test accuracy on %1: <b>%2 %</b> (loss %3)")
                           .arg(QString::fromStdString(d.name).toHtmlEscaped())
                           .arg(e.score->accuracy, 0, 'f', 2)
                           .arg(e.score->loss, 0, 'f', 4));
  } else if (!e.scoreError.isEmpty()) {
    accuracy_->setText(tr("Test accuracy unavailable: %1").arg(e.scoreError));
    accuracy_->setWordWrap(true);
  } else {
    accuracy_->setText(tr("Test accuracy: computing…"));
    evalProgress_->setVisible(true);
    evalProgress_->setRange(0, int(std::max<long long>(1, e.total)));
    evalProgress_->setValue(int(e.done));
  }
  layers_->setRowCount(int(m.layers.size()));
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const auto& l = m.layers[i];
    QString kind = QString::fromStdString(l.kind);
    if (l.bias) kind += tr(" +bias");
    if (l.batchNorm) kind += tr(" +BN");
    layers_->setItem(int(i), 0, new QTableWidgetItem(QString::fromStdString(l.name)));
    layers_->setItem(int(i), 1, new QTableWidgetItem(kind));
    layers_->setItem(int(i), 2, new QTableWidgetItem(QString::fromStdString(l.shape)));
    auto* p = new QTableWidgetItem(QLocale().toString(qlonglong(l.parameters)));
    p->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    layers_->setItem(int(i), 3, p);
  }
  metadata_->setRowCount(int(m.metadata.size()));
  int r = 0;
  for (const auto& [k, v] : m.metadata) {
    metadata_->setItem(r, 0, new QTableWidgetItem(QString::fromStdString(k)));
    auto* value = new QTableWidgetItem(QString::fromStdString(v));
    value->setToolTip(QString::fromStdString(v));
    metadata_->setItem(r, 1, value);
    ++r;
  }
}

void ModelsPanel::setEvaluationProgress(const QString& path, long long done, long long total) {
  int i = indexOf(path);
  if (i < 0) return;
  entries_[size_t(i)].done = done;
  entries_[size_t(i)].total = total;
  if (list_->currentRow() == i && !entries_[size_t(i)].score) {
    evalProgress_->setVisible(true);
    evalProgress_->setRange(0, int(std::max<long long>(1, total)));
    evalProgress_->setValue(int(done));
  }
}

void ModelsPanel::setScore(const QString& path, const Score& score) {
  int i = indexOf(path);
  if (i < 0) return;
  entries_[size_t(i)].score = score;
  refreshList();
  showDetails(list_->currentRow());
}

void ModelsPanel::setScoreError(const QString& path, const QString& message) {
  int i = indexOf(path);
  if (i < 0) return;
  entries_[size_t(i)].scoreError = message;
  if (list_->currentRow() == i) showDetails(i);
}

void ModelsPanel::setEvaluationDataset(const QString& path, const DatasetChoice& dataset) {
  int i = indexOf(path);
  if (i < 0) return;
  entries_[size_t(i)].dataset = dataset;
  if (list_->currentRow() == i) showDetails(i);
}

QString ModelsPanel::datasetText(const QString& path) const {
  int i = indexOf(path);
  if (i < 0) return {};
  const Entry& e = entries_[size_t(i)];
  const DatasetChoice& d = e.dataset ? *e.dataset : e.model->dataset;
  return tr("Dataset: %1 (%2)")
      .arg(QString::fromStdString(d.name), QString::fromStdString(d.reason));
}

std::optional<Score> ModelsPanel::score(const QString& path) const {
  int i = indexOf(path);
  return i < 0 ? std::nullopt : entries_[size_t(i)].score;
}

void ModelsPanel::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void ModelsPanel::dropEvent(QDropEvent* event) {
  QStringList files;
  for (const QUrl& url : event->mimeData()->urls())
    if (url.isLocalFile()) files << url.toLocalFile();
  if (!files.isEmpty()) {
    event->acceptProposedAction();
    emit openRequested(files);
  }
}

}  // namespace otfuse::ui
