#include "per_class/per_class_view.h"
#include "results/results_view.h"

#include <qcustomplot.h>
#include <QComboBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

namespace otfuse::ui {

PerClassView::PerClassView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  note_ = new QLabel;
  note_->setWordWrap(true);
  note_->setTextFormat(Qt::RichText);
  note_->setVisible(false);
  layout->addWidget(note_);
  empty_ = new QLabel(tr("Run a fusion (Ctrl+R) or the skill-transfer scenario (Run ▸ Skill "
                         "transfer…) to see the accuracy of every model on every class."));
  empty_->setAlignment(Qt::AlignCenter);
  empty_->setWordWrap(true);
  layout->addWidget(empty_);

  auto* row = new QHBoxLayout;
  bars_ = new QCustomPlot;
  bars_->setMinimumSize(420, 300);
  bars_->xAxis->setLabel(tr("class (true label)"));
  bars_->yAxis->setLabel(tr("test accuracy on the class (%)"));
  bars_->legend->setVisible(false);  // legend_ below: never truncates a model's name
  bars_->setToolTip(tr("Accuracy of each model on the test images of each class. A skill "
                       "transferred by fusion shows as a bar of the fused model where only "
                       "one parent had one."));
  auto* left = new QVBoxLayout;
  left->addWidget(bars_, 1);
  legend_ = new QLabel;
  legend_->setTextFormat(Qt::RichText);
  legend_->setWordWrap(true);
  legend_->setAlignment(Qt::AlignCenter);
  left->addWidget(legend_);
  row->addLayout(left, 3);

  auto* right = new QVBoxLayout;
  auto* pick = new QHBoxLayout;
  auto* pickLabel = new QLabel(tr("Confusion matrix of"));
  chooser_ = new QComboBox;
  chooser_->setToolTip(tr("The model whose confusion matrix is shown."));
  pick->addWidget(pickLabel);
  pick->addWidget(chooser_, 1);
  right->addLayout(pick);
  heat_ = new QCustomPlot;
  heat_->setMinimumSize(300, 300);
  heat_->xAxis->setLabel(tr("predicted class"));
  heat_->yAxis->setLabel(tr("true class"));
  heat_->yAxis->setRangeReversed(true);  // class 0 on top, as a matrix is read
  heat_->setToolTip(tr("Rows: true class; columns: predicted class. Colour: share of the row's "
                       "test images; numbers: image counts (summed over seeds)."));
  right->addWidget(heat_, 1);
  row->addLayout(right, 2);
  layout->addLayout(row, 1);
  connect(chooser_, &QComboBox::currentIndexChanged, this, [this] { drawConfusion(); });
  clear();
}

QList<QCustomPlot*> PerClassView::plots() const {
  return {bars_, heat_};
}

void PerClassView::clear() {
  classes_.clear();
  series_.clear();
  highlight_ = -1;
  note_->setVisible(false);
  chooser_->blockSignals(true);
  chooser_->clear();
  chooser_->blockSignals(false);
  empty_->setVisible(true);
  drawBars();
  drawConfusion();
}

void PerClassView::setSeries(const QStringList& classes, const QList<Series>& series,
                             int highlight, const QString& note) {
  classes_ = classes;
  series_ = series;
  highlight_ = highlight >= 0 && highlight < classes.size() ? highlight : -1;
  note_->setText(note);
  note_->setVisible(!note.isEmpty());
  empty_->setVisible(series.isEmpty());
  const QString keep = chooser_->currentText();
  chooser_->blockSignals(true);
  chooser_->clear();
  int fusedIndex = -1;
  for (int i = 0; i < series_.size(); ++i) {
    chooser_->addItem(series_[i].label, series_[i].key);
    if (fusedIndex < 0 && series_[i].key.startsWith("fused")) fusedIndex = i;
  }
  int index = chooser_->findText(keep);
  if (index < 0) index = fusedIndex >= 0 ? fusedIndex : 0;
  chooser_->setCurrentIndex(series_.isEmpty() ? -1 : index);
  chooser_->blockSignals(false);
  drawBars();
  drawConfusion();
}

void PerClassView::setSummary(const FusionSummary& s, int anchorIn) {
  int parents = int(s.models.size());
  for (const auto& [key, v] : s.perClassAccuracy)
    if (QString::fromStdString(key).startsWith("model_"))
      parents = std::max(parents, QString::fromStdString(key).mid(6).toInt() + 1);
  parents = std::max(parents, 2);
  const int anchor = anchorIn >= 0 && anchorIn < parents ? anchorIn : (parents == 2 ? 1 : 0);
  const QStringList order = ResultsView::keys(parents);
  QList<Series> list;
  int classes = 0;
  for (const QString& key : order) {
    auto it = s.perClassAccuracy.find(key.toStdString());
    if (it == s.perClassAccuracy.end()) continue;
    Series x;
    x.key = key;
    x.label = ResultsView::rowName(key, ResultsView::RowName::Legend, parents, anchor);
    x.color = ResultsView::rowColor(key, key == QString("model_%1").arg(anchor));
    x.accuracy = it->second;
    if (auto c = s.confusion.find(key.toStdString()); c != s.confusion.end()) x.confusion = c->second;
    classes = std::max(classes, int(x.accuracy.size()));
    list << x;
  }
  QStringList names;
  for (int c = 0; c < classes; ++c) names << QString::number(c);
  setSeries(names, list, -1,
            list.isEmpty() ? QString()
                           : tr("Accuracy per class of this run's models on the %1 test set.")
                                 .arg(QString::fromStdString(s.dataset).toHtmlEscaped()));
}

void PerClassView::setConfusionSeries(int index) {
  if (series_.isEmpty()) return;
  chooser_->setCurrentIndex(std::clamp(index, 0, int(series_.size()) - 1));
}

int PerClassView::confusionSeries() const {
  return chooser_->currentIndex();
}

QStringList PerClassView::seriesKeys() const {
  QStringList k;
  for (const auto& s : series_) k << s.key;
  return k;
}

double PerClassView::barValue(const QString& key, int cls) const {
  for (int i = 0; i < bars_->plottableCount(); ++i) {
    auto* b = qobject_cast<QCPBars*>(bars_->plottable(i));
    if (!b || b->property("seriesKey").toString() != key) continue;
    for (auto it = b->data()->constBegin(); it != b->data()->constEnd(); ++it)
      if (int(std::lround(it->key)) == cls) return it->value;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

int PerClassView::confusionCell(int t, int p) const {
  for (int i = 0; i < heat_->plottableCount(); ++i) {
    auto* m = qobject_cast<QCPColorMap*>(heat_->plottable(i));
    if (!m) continue;
    const QVariant counts = m->property("counts");
    const QList<QVariant> rows = counts.toList();
    if (t < 0 || t >= rows.size()) return -1;
    const QList<QVariant> row = rows[t].toList();
    return p >= 0 && p < row.size() ? row[p].toInt() : -1;
  }
  return -1;
}

void PerClassView::drawBars() {
  bars_->clearPlottables();
  bars_->clearItems();
  const int n = int(classes_.size());
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  for (int c = 0; c < n; ++c) ticker->addTick(c, classes_[c]);
  bars_->xAxis->setTicker(ticker);
  bars_->xAxis->setSubTicks(false);
  bars_->xAxis->grid()->setVisible(false);
  bars_->xAxis->setRange(-0.6, std::max(1, n) - 0.4);
  bars_->yAxis->setRange(0, 106);
  QStringList entries;
  for (const Series& s : series_)
    entries << QString("<span style=\"color:%1; font-size:large\">&#9632;</span>&nbsp;%2")
                   .arg(s.color.name(), s.label.toHtmlEscaped());
  legend_->setText(entries.join("&nbsp;&nbsp;&nbsp; "));
  legend_->setVisible(!series_.isEmpty());
  if (highlight_ >= 0) {  // a light band behind the special class, labelled
    auto* label = new QCPItemText(bars_);
    label->position->setCoords(highlight_, 103);
    label->setText(tr("special"));
    label->setColor(QColor(140, 90, 0));
    label->setClipToAxisRect(false);
    auto* band = new QCPItemRect(bars_);
    band->setLayer("background");
    band->topLeft->setCoords(highlight_ - 0.5, 106);
    band->bottomRight->setCoords(highlight_ + 0.5, 0);
    band->setPen(Qt::NoPen);
    band->setBrush(QColor(255, 236, 170));
    band->setClipToAxisRect(true);
  }
  if (!series_.isEmpty()) {
    auto* group = new QCPBarsGroup(bars_);
    group->setSpacingType(QCPBarsGroup::stAbsolute);
    group->setSpacing(1);
    const double width = 0.8 / double(series_.size());
    for (const Series& s : series_) {
      auto* b = new QCPBars(bars_->xAxis, bars_->yAxis);
      b->setProperty("seriesKey", s.key);
      b->setName(s.label);
      b->setWidth(width);
      b->setPen(QPen(s.color.darker(130)));
      b->setBrush(s.color);
      QVector<double> keys, values, errors;
      for (int c = 0; c < n && c < int(s.accuracy.size()); ++c) {
        if (!std::isfinite(s.accuracy[size_t(c)])) continue;  // no image of the class
        keys << c;
        values << s.accuracy[size_t(c)];
        errors << (size_t(c) < s.error.size() ? s.error[size_t(c)] : 0.0);
      }
      b->setData(keys, values, true);
      b->setBarsGroup(group);
      if (!s.error.empty()) {
        auto* e = new QCPErrorBars(bars_->xAxis, bars_->yAxis);
        e->removeFromLegend();
        e->setDataPlottable(b);
        e->setData(errors);
        e->setPen(QPen(QColor(40, 40, 40)));
        e->setWhiskerWidth(3);
      }
    }
  }
  bars_->replot(QCustomPlot::rpQueuedReplot);
}

void PerClassView::drawConfusion() {
  heat_->clearPlottables();
  heat_->clearItems();
  const int index = chooser_->currentIndex();
  const Series* s = index >= 0 && index < series_.size() ? &series_[index] : nullptr;
  const int n = s ? int(s->confusion.rows()) : 0;
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  for (int c = 0; c < n; ++c) ticker->addTick(c, c < classes_.size() ? classes_[c] : QString::number(c));
  heat_->xAxis->setTicker(ticker);
  heat_->yAxis->setTicker(ticker);
  heat_->xAxis->setSubTicks(false);
  heat_->yAxis->setSubTicks(false);
  heat_->xAxis->grid()->setVisible(false);
  heat_->yAxis->grid()->setVisible(false);
  heat_->xAxis->setRange(-0.5, std::max(1, n) - 0.5);
  heat_->yAxis->setRange(-0.5, std::max(1, n) - 0.5);
  if (n == 0 || s->confusion.cols() != n) {
    heat_->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  auto* map = new QCPColorMap(heat_->xAxis, heat_->yAxis);
  map->data()->setSize(n, n);
  map->data()->setRange(QCPRange(0, n - 1), QCPRange(0, n - 1));
  QList<QVariant> counts;
  const bool small = n <= 12;  // numbers in the cells only while they fit
  QFont font = heat_->font();
  font.setPointSizeF(std::max(6.0, font.pointSizeF() - 1.5));
  for (int t = 0; t < n; ++t) {
    const double rowSum = double(s->confusion.row(t).sum());
    QList<QVariant> row;
    for (int p = 0; p < n; ++p) {
      const int v = s->confusion(t, p);
      row << v;
      const double share = rowSum > 0 ? double(v) / rowSum : 0.0;
      map->data()->setCell(p, t, share);
      if (small && v > 0) {
        auto* text = new QCPItemText(heat_);
        text->position->setType(QCPItemPosition::ptPlotCoords);
        text->position->setCoords(p, t);
        text->setText(QString::number(v));
        text->setFont(font);
        text->setColor(share > 0.5 ? Qt::white : QColor(30, 30, 30));
      }
    }
    counts << QVariant(row);
  }
  map->setProperty("counts", counts);
  QCPColorGradient g;
  g.setColorStopAt(0.0, QColor(255, 255, 255));
  g.setColorStopAt(0.05, QColor(222, 235, 247));
  g.setColorStopAt(0.5, QColor(107, 174, 214));
  g.setColorStopAt(1.0, QColor(8, 48, 107));
  map->setGradient(g);
  map->setInterpolate(false);
  map->setDataRange(QCPRange(0, 1));
  if (highlight_ >= 0 && highlight_ < n) {  // frame the special class's row
    auto* frame = new QCPItemRect(heat_);
    frame->topLeft->setCoords(-0.5, highlight_ - 0.5);
    frame->bottomRight->setCoords(n - 0.5, highlight_ + 0.5);
    frame->setPen(QPen(QColor(214, 140, 0), 2));
    frame->setBrush(Qt::NoBrush);
  }
  heat_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace otfuse::ui
