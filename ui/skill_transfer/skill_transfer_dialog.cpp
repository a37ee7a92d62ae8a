#include "skill_transfer/skill_transfer_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace otfuse::ui {

SkillTransferDialog::SkillTransferDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Skill transfer"));
  auto* layout = new QVBoxLayout(this);
  auto* intro = new QLabel(
      tr("The paper's skill-transfer experiment (Section 5.1): model A is trained on every "
         "image of a <i>special</i> class plus a fraction of each other class, model B on the "
         "rest (never the special class). A is then fused onto B at several weights t of B. "
         "Trained parents are kept in the folder below and reused."));
  intro->setWordWrap(true);
  layout->addWidget(intro);
  auto* form = new QFormLayout;
  special_ = new QSpinBox;
  special_->setRange(0, 999);
  form->addRow(tr("Special class"), special_);
  fraction_ = new QDoubleSpinBox;
  fraction_->setRange(0, 100);
  fraction_->setDecimals(1);
  fraction_->setSuffix(tr(" %"));
  fraction_->setToolTip(tr("Share of each other class that model A sees as well."));
  form->addRow(tr("Other classes for A"), fraction_);
  arch_ = new QLineEdit;
  arch_->setToolTip(tr("Architecture of both parents, as for otfuse train --arch (mlpnet, "
                       "mlp:100-50, ...)."));
  form->addRow(tr("Architecture"), arch_);
  epochs_ = new QSpinBox;
  epochs_->setRange(1, 10000);
  form->addRow(tr("Epochs per parent"), epochs_);
  lr_ = new QDoubleSpinBox;
  lr_->setDecimals(4);
  lr_->setRange(0.0001, 10);
  lr_->setSingleStep(0.01);
  form->addRow(tr("Learning rate"), lr_);
  seeds_ = new QSpinBox;
  seeds_->setRange(1, 100);
  seeds_->setToolTip(tr("Repetitions with fresh splits and parents: mean ± std for every number."));
  form->addRow(tr("Seeds"), seeds_);
  firstSeed_ = new QSpinBox;
  firstSeed_->setRange(0, 1000000);
  form->addRow(tr("First seed"), firstSeed_);
  ts_ = new QLineEdit;
  ts_->setToolTip(tr("Weights of model B, comma-separated, each in [0, 1]."));
  form->addRow(tr("Weights t of B"), ts_);
  mode_ = new QComboBox;
  mode_->addItem(tr("weights"), "weights");
  mode_->addItem(tr("activations"), "activations");
  form->addRow(tr("Alignment"), mode_);
  limit_ = new QSpinBox;
  limit_->setRange(0, 100000000);
  limit_->setSpecialValueText(tr("all"));
  limit_->setToolTip(tr("Split only the first N training images (all: 0)."));
  form->addRow(tr("Training images"), limit_);
  auto* dirRow = new QHBoxLayout;
  cacheDir_ = new QLineEdit;
  auto* browse = new QPushButton(tr("Browse…"));
  dirRow->addWidget(cacheDir_, 1);
  dirRow->addWidget(browse);
  form->addRow(tr("Keep parents in"), dirRow);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Folder for trained parents"),
                                                          cacheDir_->text());
    if (!dir.isEmpty()) cacheDir_->setText(dir);
  });
  layout->addLayout(form);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
  buttons->button(QDialogButtonBox::Ok)->setText(tr("Run"));
  layout->addWidget(buttons);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    QString error;
    request(&error);
    if (!error.isEmpty()) {
      QMessageBox::warning(this, tr("Skill transfer"), error);
      return;
    }
    accept();
  });
  setRequest(SkillTransferRequest{});
}

void SkillTransferDialog::setRequest(const SkillTransferRequest& r) {
  base_ = r;
  special_->setValue(r.specialClass);
  fraction_->setValue(100.0 * r.fraction);
  arch_->setText(QString::fromStdString(r.arch));
  epochs_->setValue(r.epochs);
  lr_->setValue(r.learningRate);
  seeds_->setValue(r.seeds);
  firstSeed_->setValue(int(r.firstSeed));
  QStringList t;
  for (double x : r.ts) t << QString::number(x);
  ts_->setText(t.join(","));
  mode_->setCurrentIndex(r.options.mode == AlignMode::Activations ? 1 : 0);
  limit_->setValue(int(r.limit));
  cacheDir_->setText(QString::fromStdString(r.cacheDir));
}

SkillTransferRequest SkillTransferDialog::request(QString* error) const {
  SkillTransferRequest r = base_;
  r.specialClass = special_->value();
  r.fraction = fraction_->value() / 100.0;
  r.arch = arch_->text().trimmed().toStdString();
  r.epochs = epochs_->value();
  r.learningRate = lr_->value();
  r.seeds = seeds_->value();
  r.firstSeed = uint64_t(firstSeed_->value());
  r.options.mode = mode_->currentData().toString() == "activations" ? AlignMode::Activations
                                                                    : AlignMode::Weights;
  r.limit = limit_->value();
  r.cacheDir = cacheDir_->text().trimmed().toStdString();
  r.ts.clear();
  QString why;
  for (const QString& item : ts_->text().split(',', Qt::SkipEmptyParts)) {
    bool ok = false;
    const double t = item.trimmed().toDouble(&ok);
    if (!ok || t < 0 || t > 1) {
      why = tr("Every weight t must be a number in [0, 1]; “%1” is not.").arg(item.trimmed());
      break;
    }
    r.ts.push_back(t);
  }
  if (why.isEmpty() && r.ts.empty()) why = tr("Give at least one weight t of model B.");
  if (why.isEmpty() && r.arch.empty()) why = tr("Name the architecture of the parents.");
  if (error) *error = why;
  return r;
}

}  // namespace otfuse::ui
