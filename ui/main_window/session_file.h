#pragma once
// A saved session: the model files, the models chosen to fuse with their anchor and weights,
// the settings and the last results summary, as one JSON file:
//   {"format": "otfuse-studio-session", "version": 3, "savedAt": ISO 8601 UTC,
//    "models": [paths], "fuse": [i, j, k...], "anchor": a, "weights": [w...] (absent: equal),
//    "first": i, "second": j, "settings": {...},
//    "results": {"measuredAt": ISO 8601 UTC, "architecture", "dataset", "models",
//    "accuracy": {key: %}, "loss": {key: ce}, "fusionSeconds", "evaluationSeconds"},
//    "finetune": {...} (optional: the Fine-tuning tab's points, FinetuneView::toJson)}
// Results are a summary only, of a run made when "measuredAt" says (version 1 files have no
// date; "savedAt" is then the best bound, if any); plans are recomputed by running again.
// "fuse" and "anchor" index "models"; "first"/"second" (A, B: the anchor) are written too for
// the two-model app and are all that version 1 and 2 files have: their set is {first,
// second} with the anchor B, or A when their settings say "anchorIsSecond": false.
#include <QByteArray>
#include <QDateTime>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <QVector>

#include <optional>
#include <vector>

#include "otfuse/fusion/report.h"
#include "settings/studio_settings.h"

namespace otfuse::ui {

class SessionFile {
 public:
  QStringList models;
  int first = 0, second = 1;
  /// Indices into `models` of the models to fuse, in order; `anchor` is one of them;
  /// `weights` one per entry of `fuse`, or empty (equal weights).
  QVector<int> fuse;
  int anchor = -1;
  std::vector<double> weights;
  StudioSettings settings;
  std::optional<FusionSummary> results;
  QDateTime resultsMeasuredAt;  // invalid when unknown
  int resultsAnchor = -1;       // the anchor's index in results->models (-1: unknown)
  QDateTime savedAt;            // set by save(); read by load() (invalid when absent)
  /// The Fine-tuning tab's run (FinetuneView::toJson); empty when there is none. Opaque here.
  QJsonObject finetune;

  /// Written atomically; throws otfuse::FileError naming the path.
  void save(const QString& path) const;
  /// Throws otfuse::FileError naming the path and the problem (not JSON, not a session, a
  /// pair or set that is no set of its models, an anchor outside the set, bad weights).
  static SessionFile load(const QString& path);
  /// The session held in `bytes` (a file's content); `path` names it in messages.
  static SessionFile parse(const QByteArray& bytes, const QString& path);
  /// Larger files are refused.
  static constexpr qint64 kMaxBytes = 64 * 1024 * 1024;
};

}  // namespace otfuse::ui
