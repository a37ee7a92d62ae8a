#include "models_panel/models_panel.h"

#include <QComboBox>
#include <QDir>
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
  list_->setToolTip(tr("Opened models; select one to see its layers and metadata."));
  list_->setMinimumHeight(60);
  list_->setMaximumHeight(110);
  layout->addWidget(list_);

  auto* pairForm = new QFormLayout;
  first_ = new QComboBox;
  second_ = new QComboBox;
  first_->setToolTip(tr("The first model of the pair (aligned onto the second by default)."));
  second_->setToolTip(tr("The second model of the pair (the anchor by default)."));
  pairForm->addRow(tr("First (A)"), first_);
  pairForm->addRow(tr("Second (B)"), second_);
  layout->addLayout(pairForm);
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
  connect(first_, &QComboBox::currentIndexChanged, this, &ModelsPanel::refreshPair);
  connect(second_, &QComboBox::currentIndexChanged, this, &ModelsPanel::refreshPair);
  refreshPair();
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
    entries_[size_t(i)] = Entry{path, std::move(model), {}, {}, 0, 0, {}};
  } else {
    entries_.push_back(Entry{path, std::move(model), {}, {}, 0, 0, {}});
    i = int(entries_.size()) - 1;
  }
  const int keepFirst = first_->currentIndex(), keepSecond = second_->currentIndex();
  refreshList();
  QSignalBlocker b1(first_), b2(second_);
  first_->setCurrentIndex(keepFirst >= 0 ? keepFirst : 0);
  second_->setCurrentIndex(keepSecond >= 0 && keepSecond != first_->currentIndex()
                               ? keepSecond
                               : std::min(1, count() - 1));
  list_->setCurrentRow(i);
  refreshPair();
}

void ModelsPanel::clear() {
  entries_.clear();
  refreshList();
  refreshPair();
  showDetails(-1);
}

void ModelsPanel::refreshList() {
  QSignalBlocker b0(list_), b1(first_), b2(second_);
  const int row = list_->currentRow();
  const int firstRow = first_->currentIndex(), secondRow = second_->currentIndex();
  list_->clear();
  first_->clear();
  second_->clear();
  for (const auto& e : entries_) {
    QString acc = e.score ? QString(" — %1 %").arg(e.score->accuracy, 0, 'f', 2) : QString();
    auto* item = new QListWidgetItem(
        QString("%1  (%2)%3")
            .arg(parentAndName(e.path), QString::fromStdString(e.model->architecture), acc));
    item->setToolTip(e.path);
    list_->addItem(item);
    first_->addItem(parentAndName(e.path), e.path);
    second_->addItem(parentAndName(e.path), e.path);
  }
  if (row >= 0 && row < list_->count()) list_->setCurrentRow(row);
  if (firstRow >= 0 && firstRow < first_->count()) first_->setCurrentIndex(firstRow);
  if (secondRow >= 0 && secondRow < second_->count()) second_->setCurrentIndex(secondRow);
}

void ModelsPanel::setPair(int first, int second) {
  first_->setCurrentIndex(first);
  second_->setCurrentIndex(second);
  refreshPair();
}

int ModelsPanel::firstIndex() const {
  return first_->currentIndex();
}
int ModelsPanel::secondIndex() const {
  return second_->currentIndex();
}

ModelPtr ModelsPanel::first() const {
  int i = first_->currentIndex();
  return count() >= 2 && i >= 0 && i < count() ? entries_[size_t(i)].model : nullptr;
}
ModelPtr ModelsPanel::second() const {
  int i = second_->currentIndex();
  return count() >= 2 && i >= 0 && i < count() ? entries_[size_t(i)].model : nullptr;
}

QString ModelsPanel::incompatibility() const {
  ModelPtr a = first(), b = second();
  if (!a || !b) return tr("Open at least two models.");
  if (firstIndex() == secondIndex()) return tr("Choose two different models.");
  return QString::fromStdString(fusionIncompatibility(*a, *b));
}

QString ModelsPanel::incompatibilityText() const {
  return compatibility_->text();
}

void ModelsPanel::refreshPair() {
  ModelPtr a = first(), b = second();
  QString why = incompatibility();
  if (why.isEmpty()) {
    const bool vanilla = fusionIncompatibility(*a, *b, true).empty();
    compatibility_->setStyleSheet("color: #1b6e20;");
    compatibility_->setText(tr("✔ These models can be fused%1.")
                                .arg(vanilla ? tr(" (and averaged directly)")
                                             : tr("; vanilla averaging is not "
                                                  "possible (different widths)")));
  } else {
    compatibility_->setStyleSheet(count() >= 2 ? "color: #b71c1c;" : "color: palette(text);");
    compatibility_->setText((count() >= 2 ? tr("✘ Cannot fuse: ") : QString()) + why);
  }
  emit pairChanged();
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
