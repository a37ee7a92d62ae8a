#include "results/results_view.h"

#include "widgets/note_banner.h"

#include <qcustomplot.h>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QTextBrowser>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <limits>

namespace otfuse::ui {

namespace {
int parentIndex(const QString& key) {
  return key.startsWith(QLatin1String("model_")) ? key.mid(6).toInt() : -1;
}
QString rowLabel(const QString& key, const FusionSummary* s, int parents, int anchor) {
  const int p = parentIndex(key);
  const QString file = p >= 0 && s && int(s->models.size()) > p
                           ? QFileInfo(QString::fromStdString(s->models[size_t(p)])).fileName()
                           : QString();
  return ResultsView::rowName(key, ResultsView::RowName::Table, parents, anchor, file);
}
// Rows shown only when the run computed them (BatchNorm models, REPAIR, the sequential variant).
bool optionalRow(const QString& key) { return optionalSummaryRow(key.toStdString()); }
int defaultAnchor(int parents) {
  return parents == 2 ? 1 : 0;
}
// Parents of a summary: its model paths, or as many model_i keys as it has.
int parentCount(const FusionSummary& s) {
  int n = int(s.models.size());
  for (const auto& [key, value] : s.accuracy) {
    const int p = parentIndex(QString::fromStdString(key));
    if (p >= 0) n = std::max(n, p + 1);
  }
  return std::max(2, n);
}
}  // namespace

QColor ResultsView::rowColor(const QString& key, bool anchor) {
  if (key == "fused") return QColor(33, 113, 181);
  if (key == "fused_bn") return QColor(107, 174, 214);
  if (key == "sequential") return QColor(49, 163, 84);
  if (key == "sequential_bn") return QColor(161, 217, 155);
  if (key == "vanilla") return QColor(230, 85, 13);
  if (key == "vanilla_bn") return QColor(253, 174, 107);
  if (key == "fused_repair") return QColor(8, 69, 148);
  if (key == "vanilla_repair") return QColor(166, 54, 3);
  if (key == "ensemble") return QColor(117, 107, 177);
  return anchor ? QColor(110, 110, 110) : QColor(160, 160, 160);  // a parent
}

QString ResultsView::rowName(const QString& key, RowName form, int parents, int anchor,
                             const QString& fileName) {
  const int p = parentIndex(key);
  if (p >= 0) {
    const bool isAnchor = p == anchor;
    switch (form) {
      case RowName::Table: {
        const QString file = fileName.isEmpty() ? QString() : QString(" (%1)").arg(fileName);
        if (parents == 2)
          return (isAnchor ? tr("Model B, anchor") : tr("Model A, aligned")) + file;
        return (isAnchor ? tr("Model %1, anchor") : tr("Model %1, aligned")).arg(p + 1) + file;
      }
      case RowName::Bar:
        if (parents == 2) return isAnchor ? tr("B") : tr("A");
        return isAnchor ? tr("%1\nanchor").arg(p + 1) : QString::number(p + 1);
      case RowName::Legend:
        if (parents == 2) return isAnchor ? tr("Model B (anchor)") : tr("Model A");
        return isAnchor ? tr("Model %1 (anchor)").arg(p + 1) : tr("Model %1").arg(p + 1);
    }
  }
  // The fixed rows: table, bar, legend.
  struct Names {
    const char* key;
    const char* table;
    const char* bar;
    const char* legend;
  };
  static const Names kNames[] = {
      {"ensemble", QT_TR_NOOP("Prediction ensemble"), QT_TR_NOOP("Ensemble"),
       QT_TR_NOOP("Ensemble")},
      {"vanilla", QT_TR_NOOP("Vanilla average"), QT_TR_NOOP("Vanilla\naverage"),
       QT_TR_NOOP("Vanilla average")},
      {"fused", QT_TR_NOOP("OT fusion"), QT_TR_NOOP("OT\nfusion"), QT_TR_NOOP("OT fusion")},
      {"vanilla_bn", QT_TR_NOOP("Vanilla average, BN re-estimated"), QT_TR_NOOP("Vanilla\n+ BN"),
       QT_TR_NOOP("Vanilla + BN")},
      {"fused_bn", QT_TR_NOOP("OT fusion, BN re-estimated"), QT_TR_NOOP("OT fusion\n+ BN"),
       QT_TR_NOOP("OT fusion + BN")},
      {"vanilla_repair", QT_TR_NOOP("Vanilla average + REPAIR"), QT_TR_NOOP("Vanilla\n+ REPAIR"),
       QT_TR_NOOP("Vanilla + REPAIR")},
      {"fused_repair", QT_TR_NOOP("OT fusion + REPAIR"), QT_TR_NOOP("OT fusion\n+ REPAIR"),
       QT_TR_NOOP("OT fusion + REPAIR")},
      {"sequential", QT_TR_NOOP("OT fusion, sequential (pairwise)"), QT_TR_NOOP("Sequen-\ntial"),
       QT_TR_NOOP("Sequential")},
      {"sequential_bn", QT_TR_NOOP("Sequential, BN re-estimated"),
       QT_TR_NOOP("Sequen-\ntial + BN"), QT_TR_NOOP("Sequential + BN")},
  };
  for (const Names& n : kNames) {
    if (key != QLatin1String(n.key)) continue;
    if (form == RowName::Table && parents != 2) {  // the rows about all N parents say so
      if (key == "ensemble") return tr("Prediction ensemble of all %1").arg(parents);
      if (key == "fused") return tr("OT fusion of all %1 onto the anchor").arg(parents);
    }
    return tr(form == RowName::Table ? n.table : form == RowName::Bar ? n.bar : n.legend);
  }
  return key;
}

QStringList ResultsView::keys(int parents) {
  QStringList k;
  for (int i = 0; i < parents; ++i) k << QString("model_%1").arg(i);
  k << "ensemble" << "vanilla" << "fused" << "vanilla_bn" << "fused_bn" << "vanilla_repair"
    << "fused_repair" << "sequential" << "sequential_bn";
  return k;
}

ResultsView::ResultsView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  storedNote_ = makeNoteBanner();
  layout->addWidget(storedNote_);
  auto* top = new QHBoxLayout;
  table_ = new QTableWidget(0, 2);
  table_->setHorizontalHeaderLabels({tr("Test accuracy (%)"), tr("Test loss")});
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setToolTip(
      tr("The paper's Table 1 row for these models: parents, prediction ensemble of all of "
         "them, vanilla averaging (when every shape agrees) and OT fusion onto the anchor. For BatchNorm models also both averages with the "
         "BatchNorm statistics re-estimated on training batches: averaged running statistics "
         "do not describe averaged weights."));
  table_->setMinimumWidth(420);
  table_->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  table_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  top->addWidget(table_, 3, Qt::AlignTop);
  // A read-only text view rather than a word-wrapped QLabel: with the explanation's paragraph,
  // a QLabel's height-for-width layout cost the UI thread about 10 ms per fusion result
  // (test_studio's responsiveness check); this lays the text out once per width and scrolls.
  info_ = new QTextBrowser;
  info_->setFrameShape(QFrame::NoFrame);
  info_->setOpenLinks(false);
  info_->viewport()->setAutoFillBackground(false);
  info_->setStyleSheet("QTextBrowser { background: transparent; }");
  info_->setHtml(tr("Run a fusion (Ctrl+R) to fill this table."));
  // Room for the settings and the explanation at the usual window width (scrolls if narrower).
  info_->setMinimumHeight(info_->fontMetrics().lineSpacing() * 21);
  top->addWidget(info_, 2);
  layout->addLayout(top);
  exportNote_ = new QLabel;
  exportNote_->setWordWrap(true);
  exportNote_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  exportNote_->setToolTip(
      tr("For BatchNorm models the best row is the fused model with re-estimated BatchNorm "
         "statistics, and that is the model exported by default; the file's metadata "
         "(fusion_model) says which model it holds."));
  layout->addWidget(exportNote_);

  auto* charts = new QHBoxLayout;
  auto makeChart = [](const QString& title, const QString& yLabel, QCPTextElement** element) {
    auto* plot = new QCustomPlot;
    plot->setMinimumSize(320, 260);
    plot->plotLayout()->insertRow(0);
    *element = new QCPTextElement(plot, title, QFont(plot->font().family(), 10, QFont::Bold));
    plot->plotLayout()->addElement(0, 0, *element);
    plot->yAxis->setLabel(yLabel);
    plot->xAxis->grid()->setVisible(false);
    return plot;
  };
  accuracyChart_ = makeChart(tr("Test accuracy"), tr("accuracy (%)"), &accuracyTitle_);
  lossChart_ = makeChart(tr("Test loss (cross-entropy)"), tr("loss"), &lossTitle_);
  charts->addWidget(accuracyChart_);
  charts->addWidget(lossChart_);
  layout->addLayout(charts, 1);
  clear();
}

QList<QCustomPlot*> ResultsView::plots() const {
  return {accuracyChart_, lossChart_};
}

void ResultsView::setRows(int parents) {
  rowKeys_ = keys(parents);
  table_->setRowCount(int(rowKeys_.size()));
}

void ResultsView::showRows(const std::map<std::string, double>& present) {
  for (int r = 0; r < rowKeys_.size(); ++r)
    table_->setRowHidden(r, optionalRow(rowKeys_[r]) && !present.count(rowKeys_[r].toStdString()));
  table_->setFixedHeight(table_->horizontalHeader()->sizeHint().height() +
                         table_->verticalHeader()->length() + 2 * table_->frameWidth());
}

void ResultsView::setStoredLabels(const QString& when) {
  stored_ = !when.isEmpty();
  if (stored_) {
    table_->setHorizontalHeaderLabels(
        {tr("Stored accuracy (%)\nmeasured %1").arg(when), tr("Stored loss\nmeasured %1").arg(when)});
    accuracyTitle_->setText(tr("Test accuracy (stored, measured %1)").arg(when));
    lossTitle_->setText(tr("Test loss (stored, measured %1)").arg(when));
  } else {
    table_->setHorizontalHeaderLabels({tr("Test accuracy (%)"), tr("Test loss")});
    accuracyTitle_->setText(tr("Test accuracy"));
    lossTitle_->setText(tr("Test loss (cross-entropy)"));
    storedNote_->clear();
  }
  storedNote_->setVisible(stored_);
}

QString ResultsView::storedNote() const {
  return stored_ ? storedNote_->text() : QString();
}

void ResultsView::setExportNote(const QString& note) {
  exportNote_->setText(note);
  exportNote_->setVisible(!note.isEmpty());
}

QString ResultsView::exportNote() const {
  return exportNote_->text();
}

void ResultsView::clear() {
  setStoredLabels(QString());
  setExportNote(QString());
  setRows(2);
  anchor_ = 1;
  QStringList rows;
  for (const QString& k : rowKeys_) rows << rowLabel(k, nullptr, 2, anchor_);
  table_->setVerticalHeaderLabels(rows);
  for (int r = 0; r < table_->rowCount(); ++r)
    for (int c = 0; c < 2; ++c) table_->setItem(r, c, new QTableWidgetItem(QStringLiteral("—")));
  showRows({});
  fillChart(accuracyChart_, {}, true);
  fillChart(lossChart_, {}, false);
}

void ResultsView::setSummary(const FusionSummary& s, int anchor) {
  setStoredLabels(QString());
  fill(s, anchor);
}

void ResultsView::setStoredSummary(const FusionSummary& s, const QDateTime& measuredAt,
                                   const QString& source, const QDateTime& savedAt, int anchor) {
  const QString format = QStringLiteral("yyyy-MM-dd HH:mm");
  const QString when = measuredAt.isValid() ? measuredAt.toLocalTime().toString(format)
                                            : tr("on an unknown date");
  setStoredLabels(when);
  QString note =
      tr("<b>Stored results</b>, read from %1 and measured %2%3; they were not measured in this "
         "session. Run the fusion (Ctrl+R) to measure them now.")
          .arg(QFileInfo(source).fileName().toHtmlEscaped(), when,
               !measuredAt.isValid() && savedAt.isValid()
                   ? tr(" (the session was saved %1)").arg(savedAt.toLocalTime().toString(format))
                   : QString());
  storedNote_->setText(note);
  storedNote_->setToolTip(source);
  fill(s, anchor);
  const QString tip = tr("Stored in %1, measured %2; not re-measured.").arg(source, when);
  for (int r = 0; r < table_->rowCount(); ++r)
    for (int c = 0; c < 2; ++c)
      if (QTableWidgetItem* item = table_->item(r, c)) {
        QFont f = item->font();
        f.setItalic(true);
        item->setFont(f);
        item->setForeground(QColor(110, 110, 110));
        item->setToolTip(tip);
      }
}

void ResultsView::fill(const FusionSummary& s, int anchor) {
  const int parents = parentCount(s);
  anchor_ = anchor >= 0 && anchor < parents ? anchor : defaultAnchor(parents);
  setRows(parents);
  QStringList rows;
  for (const QString& k : rowKeys_) rows << rowLabel(k, &s, parents, anchor_);
  table_->setVerticalHeaderLabels(rows);
  showRows(s.accuracy);
  for (int r = 0; r < rowKeys_.size(); ++r) {
    const std::string key = rowKeys_[r].toStdString();
    auto put = [&](int col, const std::map<std::string, double>& m, int digits) {
      auto it = m.find(key);
      auto* item = new QTableWidgetItem(it == m.end() ? tr("not computed")
                                                      : QString::number(it->second, 'f', digits));
      if (it != m.end()) item->setData(Qt::UserRole, it->second);  // exact value
      item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      if (key == "fused" || key == "fused_bn" || key == "fused_repair") {
        QFont f = item->font();
        f.setBold(true);
        item->setFont(f);
      }
      table_->setItem(r, col, item);
    };
    put(0, s.accuracy, 2);
    put(1, s.loss, 4);
  }
  const FusionOptions& o = s.options;
  // How the models were weighted: t for two, the weights for more (equal: 1/N each).
  QString weighting = tr("t = %1").arg(o.t);
  if (parents > 2) {
    bool equal = true;  // not recorded: the default, equal
    if (s.weights.size() == size_t(parents)) {
      equal = true;
      for (double w : s.weights) equal = equal && std::abs(w - s.weights.front()) < 1e-12;
    }
    if (equal) {
      weighting = tr("equal weights 1/%1").arg(parents);
    } else {
      QStringList ws;
      for (double w : s.weights) ws << QString::number(w, 'g', 3);
      weighting = tr("weights %1").arg(ws.join(", "));
    }
  }
  if (o.streamMap != FusionOptions{}.streamMap)
    weighting += tr(" · residual streams: %1").arg(QString::fromStdString(toString(o.streamMap)));
  QString solver =
      o.solver == Solver::Exact ? tr("exact OT") : tr("Sinkhorn, ε = %1").arg(o.epsilon);
  infoHtml_ = (
      tr("<b>%1</b> on <b>%2</b><br>Mode: %3 · %4 · %5 cost, normalization %6 · %7%8<br>"
         "Fusion took %9 s; evaluating the fused model %10 s.")
          .arg(QString::fromStdString(s.architecture),
               QString::fromStdString(s.dataset).toHtmlEscaped() +
                   (s.datasetSource.empty()
                        ? QString()
                        : " (" + QString::fromStdString(s.datasetSource).toHtmlEscaped() + ")"),
               QString::fromStdString(toString(o.mode)), solver,
               QString::fromStdString(ot::toString(o.metric)),
               QString::fromStdString(ot::toString(o.normalization)))
          .arg(weighting)
          .arg(o.mode == AlignMode::Activations
                   ? tr(" · %1 samples, seed %2").arg(s.samples).arg(qulonglong(s.seed))
                   : QString())
          .arg(s.fusionSeconds, 0, 'f', 2)
          .arg(s.evaluationSeconds, 0, 'f', 2) +
      (s.repair == RepairMode::None
           ? QString()
           : tr("<br>REPAIR rows: %1 variant, statistics over %2 training images.")
                 .arg(s.repair == RepairMode::Exact ? tr("exact") : tr("closed-form"))
                 .arg(s.repairImages)) +
      [&] {
        const QString e = explanation(s, split_ ? &*split_ : nullptr);
        return e.isEmpty() ? QString() : "<hr>" + e;
      }());
  info_->setHtml(infoHtml_);
  fillChart(accuracyChart_, s.accuracy, true);
  fillChart(lossChart_, s.loss, false);
}

QString ResultsView::infoText() const {
  return infoHtml_;
}

std::optional<ResultsView::DataSplit> ResultsView::dataSplitOf(
    const std::map<std::string, std::string>& a, const std::map<std::string, std::string>& b) {
  auto get = [](const std::map<std::string, std::string>& m, const char* key) {
    const auto it = m.find(key);
    return it == m.end() ? std::string() : it->second;
  };
  if (get(a, "split") != "personal" || get(b, "split") != "personal" ||
      get(a, "split_part") != "A" || get(b, "split_part") != "B" ||
      get(a, "special_class") != get(b, "special_class") ||
      get(a, "split_fraction") != get(b, "split_fraction"))
    return std::nullopt;
  DataSplit d;
  bool ok = false;
  d.specialClass = QString::fromStdString(get(a, "special_class")).toInt(&ok);
  if (!ok) return std::nullopt;
  d.fraction = QString::fromStdString(get(a, "split_fraction")).toDouble(&ok);
  if (!ok) return std::nullopt;
  const long long na = QString::fromStdString(get(a, "train_size")).toLongLong(&ok);
  d.sizeA = ok ? na : -1;
  const long long nb = QString::fromStdString(get(b, "train_size")).toLongLong(&ok);
  d.sizeB = ok ? nb : -1;
  return d;
}

QString ResultsView::explanation(const FusionSummary& s, const DataSplit* split) {
  auto get = [&](const char* key) {
    const auto it = s.accuracy.find(key);
    return it == s.accuracy.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
  };
  const double a = get("model_0"), b = get("model_1"), ens = get("ensemble"),
               van = get("vanilla"), fus = get("fused");
  if (s.models.size() != 2 || std::isnan(a) || std::isnan(b) || std::isnan(ens) ||
      std::isnan(van) || std::isnan(fus))
    return {};
  const double lo = std::min(a, b), hi = std::max(a, b);
  auto pct = [](double v) { return QString::number(v, 'f', 2) + " %"; };
  auto pts = [](double v) { return QString::number(std::abs(v), 'f', 2); };
  if (split) {
    auto special = [&](const char* key) {
      const auto it = s.perClassAccuracy.find(key);
      const size_t c = size_t(split->specialClass);
      return it == s.perClassAccuracy.end() || c >= it->second.size()
                 ? std::numeric_limits<double>::quiet_NaN()
                 : it->second[c];
    };
    const double sa = special("model_0"), sb = special("model_1"), se = special("ensemble"),
                 sv = special("vanilla"), sf = special("fused");
    if (std::isnan(sa) || std::isnan(sb) || std::isnan(se) || std::isnan(sv) || std::isnan(sf))
      return {};
    const QString digit = QString::number(split->specialClass);
    auto images = [](long long n) {
      return n < 0 ? QString() : tr(" (%1 training images)").arg(n);
    };
    QString skill;
    if (sf > sb + 10 && fus > a)
      skill = tr("Fusion carried part of A's skill on the %1s into one network while staying "
                 "above A overall: what the paper's Section 5.1 reports.")
                  .arg(digit);
    else if (sf > sb + 10)
      skill = tr("Fusion recognizes more %1s than B, but overall it stays at or below A: the "
                 "skill came with A's weaknesses.")
                  .arg(digit);
    else
      skill = tr("Here fusion did <i>not</i> carry A's skill on the %1s over: it recognizes "
                 "about as few of them as B. (The paper, Section 5.1, fuses with t weighted "
                 "towards B; try other values of t in the fusion settings.)")
                  .arg(digit);
    return tr("<b>What the rows mean.</b> A and B are the same network trained on different "
              "data (a personal split): A saw every %1 and %2 % of the other digits%3; B saw "
              "the rest%4 and never a %1. Overall A scores %5 and B %6; on the %1s, A %7 and "
              "B %8.<br>"
              "<b>Prediction ensemble</b> runs both and averages their predictions: %9 overall, "
              "%10 on the %1s.<br>"
              "<b>Vanilla averaging</b> averages the weights entry by entry: %11 overall, %12 on "
              "the %1s.<br>"
              "<b>OT fusion</b> matches A's neurons to B's before averaging: %13 overall, %14 on "
              "the %1s. %15 The <i>Per class</i> tab shows every digit.")
        .arg(digit, QString::number(split->fraction * 100, 'g', 3), images(split->sizeA),
             images(split->sizeB), pct(a), pct(b), pct(sa), pct(sb), pct(ens))
        .arg(pct(se), pct(van), pct(sv), pct(fus), pct(sf), skill);
  }
  QString vanillaHow = van < lo - 1   ? tr("far below both parents")
                       : van < lo     ? tr("a little below both parents")
                       : van <= hi    ? tr("between the parents")
                                      : tr("above both parents");
  QString fusedHow;
  if (fus >= van)
    fusedHow = tr("%1 points above vanilla averaging").arg(pts(fus - van));
  else
    fusedHow = tr("%1 points <i>below</i> vanilla averaging here").arg(pts(van - fus));
  QString fusedVsParents = fus >= hi   ? tr("at or above the better parent")
                           : fus >= lo ? tr("between the parents")
                                       : tr("%1 points below the weaker parent").arg(pts(lo - fus));
  return tr("<b>What the rows mean.</b> A and B are the same network trained twice from "
            "different random starts (%1 and %2).<br>"
            "<b>Prediction ensemble</b> runs both networks and averages their predictions: "
            "%3 here, but it costs two networks at test time.<br>"
            "<b>Vanilla averaging</b> averages the weights entry by entry as they are stored. "
            "Neuron i of A and neuron i of B usually learned different things, so the average "
            "mixes unrelated neurons: %4, %5.<br>"
            "<b>OT fusion</b> first matches each of A's neurons to the neurons of B that compute "
            "the same thing (optimal transport on their weights or activations, layer by layer: "
            "the <i>Transport plans</i> tab), then averages matched neurons. One network of the "
            "same size: %6, %7 and %8.")
      .arg(pct(a), pct(b), pct(ens), pct(van), vanillaHow, pct(fus), fusedHow, fusedVsParents);
}

double ResultsView::tableAccuracy(const QString& key) const {
  const int r = int(rowKeys_.indexOf(key));
  QTableWidgetItem* item = r < 0 ? nullptr : table_->item(r, 0);
  QVariant v = item ? item->data(Qt::UserRole) : QVariant();
  return v.isValid() ? v.toDouble() : std::numeric_limits<double>::quiet_NaN();
}

double ResultsView::tableLoss(const QString& key) const {
  const int r = int(rowKeys_.indexOf(key));
  QTableWidgetItem* item = r < 0 ? nullptr : table_->item(r, 1);
  QVariant v = item ? item->data(Qt::UserRole) : QVariant();
  return v.isValid() ? v.toDouble() : std::numeric_limits<double>::quiet_NaN();
}

void ResultsView::fillChart(QCustomPlot* plot, const std::map<std::string, double>& values,
                            bool percent) {
  plot->clearPlottables();
  plot->clearItems();
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  double maxValue = 0;
  QStringList shown;
  const int parents = std::max(2, int(std::count_if(rowKeys_.begin(), rowKeys_.end(), [](const QString& k) {
                                    return parentIndex(k) >= 0;
                                  })));
  for (const QString& key : rowKeys_)
    if (!optionalRow(key) || values.count(key.toStdString())) shown << key;
  for (int i = 0; i < shown.size(); ++i) {
    const QString key = shown[i];
    ticker->addTick(i + 1, rowName(key, RowName::Bar, parents, anchor_));
    auto it = values.find(key.toStdString());
    if (it == values.end() || !std::isfinite(it->second)) continue;
    auto* bars = new QCPBars(plot->xAxis, plot->yAxis);
    bars->setWidth(0.6);
    bars->setPen(Qt::NoPen);
    bars->setBrush(rowColor(key, parentIndex(key) == anchor_));
    bars->addData(i + 1, it->second);
    maxValue = std::max(maxValue, it->second);
    auto* label = new QCPItemText(plot);
    label->setPositionAlignment(Qt::AlignHCenter | Qt::AlignBottom);
    label->position->setCoords(i + 1, it->second);
    label->setText(percent ? QString::number(it->second, 'f', 2)
                           : QString::number(it->second, 'f', 3));
    label->setFont(QFont(plot->font().family(), shown.size() > 9 ? 7 : 8));
    label->setPadding(QMargins(0, 0, 0, 2));
  }
  plot->xAxis->setTicker(ticker);
  plot->xAxis->setRange(0.4, shown.size() + 0.6);
  plot->yAxis->setRange(0, percent ? 108 : std::max(0.1, maxValue * 1.2));
  if (percent) {
    QSharedPointer<QCPAxisTickerFixed> fixed(new QCPAxisTickerFixed);
    fixed->setTickStep(20);
    plot->yAxis->setTicker(fixed);
  }
  plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace otfuse::ui
