#include "skill_transfer/skill_transfer_view.h"

#include <qcustomplot.h>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>

#include "per_class/per_class_view.h"
#include "results/results_view.h"

namespace otfuse::ui {

namespace {

QString cell(const SeedStat& s, bool withStd) {
  if (!std::isfinite(s.mean)) return QStringLiteral("–");
  return withStd ? QString("%1 ± %2").arg(s.mean, 0, 'f', 2).arg(s.std, 0, 'f', 2)
                 : QString::number(s.mean, 'f', 2);
}

// The results' colours; B is the anchor, A the other parent.
QColor rowColor(const std::string& key) {
  return ResultsView::rowColor(QString::fromStdString(key), key == "B");
}

}  // namespace

SkillTransferView::SkillTransferView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  auto* top = new QHBoxLayout;
  header_ = new QLabel;
  header_->setWordWrap(true);
  header_->setTextFormat(Qt::RichText);
  header_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  top->addWidget(header_, 1);
  run_ = new QPushButton(tr("Run skill transfer…"));
  run_->setToolTip(tr("Train two models on the paper's personalised split and fuse them "
                      "(Run ▸ Skill transfer…)."));
  top->addWidget(run_, 0, Qt::AlignTop);
  layout->addLayout(top);
  connect(run_, &QPushButton::clicked, this, &SkillTransferView::runRequested);

  table_ = new QTableWidget(0, 3);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  table_->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setToolTip(tr("Test accuracy of each model: on the whole test set, on the special "
                        "class only and on every other class."));
  layout->addWidget(table_);

  auto* pick = new QHBoxLayout;
  pick->addWidget(new QLabel(tr("Chart: A, B, the ensemble, and both averages at t =")));
  tChooser_ = new QComboBox;
  pick->addWidget(tChooser_);
  pick->addStretch(1);
  layout->addLayout(pick);
  perClass_ = new PerClassView;
  layout->addWidget(perClass_, 1);
  connect(tChooser_, &QComboBox::currentIndexChanged, this, [this] { fillChart(); });
  clear();
}

QList<QCustomPlot*> SkillTransferView::plots() const {
  return perClass_->plots();
}

void SkillTransferView::clear() {
  result_.reset();
  header_->setText(tr("<b>Skill transfer</b> (the paper's Section 5.1): not run yet. Model A "
                      "learns one special class (plus a little of the others), model B "
                      "everything else; does the fused model know both?"));
  table_->setRowCount(0);
  tChooser_->blockSignals(true);
  tChooser_->clear();
  tChooser_->blockSignals(false);
  perClass_->clear();
}

void SkillTransferView::setResult(const SkillTransferResult& r) {
  result_ = std::make_unique<SkillTransferResult>(r);
  const SkillTransferRequest& q = r.request;
  const bool withStd = r.seeds.size() > 1;
  const QString special =
      q.specialClass >= 0 && size_t(q.specialClass) < r.classes.size()
          ? QString::fromStdString(r.classes[size_t(q.specialClass)])
          : QString::number(q.specialClass);
  header_->setText(
      tr("<b>Skill transfer</b> on %1, %2, %3 epochs per parent, %4 seed(s). Special class "
         "<b>%5</b>: of %6 training images, model A saw every image of class %5 plus %7 % of "
         "each other class (%8 images), model B the other %9 (none of class %5). Test: %10 images, %11 of "
         "class %5. Alignment: %12 mode, A onto B; t = weight of B.%13")
          .arg(QString::fromStdString(q.dataset).toHtmlEscaped(),
               QString::fromStdString(q.arch).toHtmlEscaped())
          .arg(q.epochs)
          .arg(r.seeds.size())
          .arg(special.toHtmlEscaped())
          .arg(r.trainImages)
          .arg(100.0 * q.fraction, 0, 'g', 3)
          .arg(r.trainSizeA)
          .arg(r.trainSizeB)
          .arg(r.testImages)
          .arg(r.specialTestImages)
          .arg(QString::fromStdString(toString(q.options.mode)))
          .arg(withStd ? tr(" Numbers: mean ± standard deviation over the seeds.") : QString()));
  table_->setColumnCount(3);
  table_->setHorizontalHeaderLabels({tr("Overall accuracy (%)"),
                                     tr("Class %1 (special) (%)").arg(special),
                                     tr("Other classes (%)")});
  table_->setRowCount(int(r.rows.size()));
  QStringList labels;
  for (int i = 0; i < int(r.rows.size()); ++i) {
    const SkillTransferRow& row = r.rows[size_t(i)];
    labels << QString::fromStdString(row.label);
    const SeedStat* stats[] = {&row.overall, &row.special, &row.others};
    for (int c = 0; c < 3; ++c) {
      auto* item = new QTableWidgetItem(cell(*stats[c], withStd));
      item->setData(Qt::UserRole, stats[c]->mean);
      item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      if (row.key == "fused") {
        QFont f = item->font();
        f.setBold(true);
        item->setFont(f);
      }
      table_->setItem(i, c, item);
    }
  }
  table_->setVerticalHeaderLabels(labels);
  int height = table_->horizontalHeader()->height() + 4;
  for (int i = 0; i < table_->rowCount(); ++i) height += table_->rowHeight(i);
  table_->setFixedHeight(height);

  const QString keep = tChooser_->currentText();
  tChooser_->blockSignals(true);
  tChooser_->clear();
  for (double t : q.ts) tChooser_->addItem(QString::number(t), t);
  int index = tChooser_->findText(keep);
  tChooser_->setCurrentIndex(index >= 0 ? index : int(q.ts.size()) - 1);  // default: most B
  tChooser_->blockSignals(false);
  fillChart();
}

void SkillTransferView::setChartT(double t) {
  int best = -1;
  double dist = 1e9;
  for (int i = 0; i < tChooser_->count(); ++i) {
    const double d = std::abs(tChooser_->itemData(i).toDouble() - t);
    if (d < dist) {
      dist = d;
      best = i;
    }
  }
  if (best >= 0) tChooser_->setCurrentIndex(best);
}

double SkillTransferView::chartT() const {
  return tChooser_->currentIndex() >= 0 ? tChooser_->currentData().toDouble() : -1;
}

void SkillTransferView::fillChart() {
  if (!result_) return;
  const double t = chartT();
  QList<PerClassView::Series> series;
  for (const SkillTransferRow& row : result_->rows) {
    if (row.t >= 0 && std::abs(row.t - t) > 1e-12) continue;
    PerClassView::Series s;
    s.key = QString::fromStdString(row.key);
    if (row.t >= 0) s.key += "@" + QString::number(row.t);
    s.label = row.key == "A"          ? tr("Model A")
              : row.key == "B"        ? tr("Model B")
              : row.key == "ensemble" ? tr("Ensemble")
              : row.key == "vanilla"  ? tr("Vanilla, t = %1").arg(row.t)
                                      : tr("OT fusion, t = %1").arg(row.t);
    s.color = rowColor(row.key);
    for (const SeedStat& c : row.perClass) {
      s.accuracy.push_back(c.mean);
      if (result_->seeds.size() > 1) s.error.push_back(c.std);
    }
    s.confusion = row.confusion;
    series << s;
  }
  QStringList classes;
  for (const auto& c : result_->classes) classes << QString::fromStdString(c);
  perClass_->setSeries(classes, series, result_->request.specialClass,
                       result_->seeds.size() > 1
                           ? tr("Bars: mean over %1 seeds; whiskers: standard deviation.")
                                 .arg(result_->seeds.size())
                           : QString());
}

}  // namespace otfuse::ui
