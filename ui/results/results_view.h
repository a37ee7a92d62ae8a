#pragma once
// The run's results: the paper's Table-1 row (every parent model — A and B for two models,
// model 1..N for more, the anchor marked —, the prediction ensemble of all of them, the vanilla
// average, OT fusion; for BatchNorm models also both averages with re-estimated BatchNorm
// statistics; for N-model runs with the sequential variant its row) as a table of test accuracy
// and loss, two bar charts of the same numbers,
// and the run's settings and timings. Results read from a session file are shown as stored:
// the table's column headers, a note above it and the chart titles say so and give the date
// they were measured, until a measured summary replaces them. UI thread only.
#include <QColor>
#include <QDateTime>
#include <QWidget>

#include <map>
#include <optional>
#include <string>

#include "otfuse/fusion/report.h"

class QCPTextElement;
class QCustomPlot;
class QLabel;
class QTableWidget;
class QTextBrowser;

namespace otfuse::ui {

class ResultsView : public QWidget {
  Q_OBJECT
 public:
  /// Row order of the table and the charts for `parents` parent models, with the summary keys
  /// they show: model_0 .. model_{parents-1}, ensemble, vanilla, fused, vanilla_bn, fused_bn,
  /// vanilla_repair, fused_repair, sequential, sequential_bn; the last six are shown only when
  /// the summary has them.
  static QStringList keys(int parents = 2);
  /// The colour of a row's bars, shared by every view that shows these rows (per class, skill
  /// transfer), so a model keeps its colour between tabs. `anchor`: the row is the anchor parent.
  static QColor rowColor(const QString& key, bool anchor);
  /// A row's name in the three places rows appear: the table (Table: "Model A, aligned
  /// (file.pt)", "Vanilla average, BN re-estimated"), under a bar (Bar: two short lines) and in a
  /// legend (Legend: "Model B (anchor)", "Vanilla + BN"). `fileName`: the parent's file, shown in
  /// the table form only.
  enum class RowName { Table, Bar, Legend };
  static QString rowName(const QString& key, RowName form, int parents, int anchor,
                         const QString& fileName = {});
  /// The rows of the summary shown now.
  QStringList rowKeys() const { return rowKeys_; }

  explicit ResultsView(QWidget* parent = nullptr);

  /// A summary measured now (clears the stored labelling). `anchor`: the anchor's index in
  /// summary.models (-1: the last of two models, the first of more).
  void setSummary(const FusionSummary& summary, int anchor = -1);
  /// A summary read from `source` (a session file), measured at `measuredAt` (invalid:
  /// unknown; then `savedAt`, when valid, is given as the latest it can be from).
  void setStoredSummary(const FusionSummary& summary, const QDateTime& measuredAt,
                        const QString& source, const QDateTime& savedAt = {}, int anchor = -1);
  /// True while a stored summary is shown.
  bool showsStored() const { return stored_; }
  /// The note above the table (empty unless stored results are shown).
  QString storedNote() const;
  /// A line under the table saying which model File ▸ Export fused model writes (rich text);
  /// empty hides it. clear() empties it.
  void setExportNote(const QString& note);
  QString exportNote() const;
  void clear();
  /// The table as shown (for tests): accuracy of `key`, NaN if absent.
  double tableAccuracy(const QString& key) const;
  double tableLoss(const QString& key) const;
  QTableWidget* table() const { return table_; }
  /// Plain-language reading of a two-parent summary, from its own numbers: what the ensemble,
  /// vanilla averaging and OT fusion are and how they compare here (issue 11's demo). Empty
  /// unless the summary has both parents, the ensemble, vanilla averaging and OT fusion.
  ///
  /// With `split` (the two parents were trained on the two parts of a personal split, A on the
  /// special class plus a fraction of the rest, B on the rest) the reading is about that
  /// setting instead: what each parent saw and every row's accuracy overall and on the special
  /// class (from summary.perClassAccuracy), pointing to the Per class tab.
  struct DataSplit {
    int specialClass = 4;
    double fraction = 0.1;
    long long sizeA = -1, sizeB = -1;  // training images per part; -1: not recorded
  };
  static QString explanation(const FusionSummary& summary, const DataSplit* split = nullptr);
  /// The split of two parents from their checkpoints' metadata (personalSplitMetadata: "split"
  /// = "personal", "split_part" A for the first and B for the second, same special class and
  /// fraction); nullopt for anything else.
  static std::optional<DataSplit> dataSplitOf(const std::map<std::string, std::string>& a,
                                              const std::map<std::string, std::string>& b);
  /// The split the next summaries are explained with (nullopt: parents trained on the same
  /// data). Takes effect at the next setSummary.
  void setDataSplit(const std::optional<DataSplit>& split) { split_ = split; }
  /// The text beside the table (settings, timings, and the explanation).
  QString infoText() const;
  QList<QCustomPlot*> plots() const;

 private:
  void setRows(int parents);
  void showRows(const std::map<std::string, double>& present);
  void fill(const FusionSummary& summary, int anchor);
  void setStoredLabels(const QString& when);  // empty: measured now
  void fillChart(QCustomPlot* plot, const std::map<std::string, double>& values, bool percent);

  QTableWidget* table_;
  QLabel* storedNote_;
  QTextBrowser* info_;
  QString infoHtml_;  // what info_ shows (infoText)
  std::optional<DataSplit> split_;
  QCPTextElement* accuracyTitle_ = nullptr;
  QCPTextElement* lossTitle_ = nullptr;
  bool stored_ = false;
  QStringList rowKeys_;
  int anchor_ = 1;
  QLabel* exportNote_;
  QCustomPlot* accuracyChart_;
  QCustomPlot* lossChart_;
};

}  // namespace otfuse::ui
