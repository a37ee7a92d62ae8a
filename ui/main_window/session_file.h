#pragma once
// A saved session: the model files, the chosen pair, the settings and the last results
// summary, as one JSON file:
//   {"format": "otfuse-studio-session", "version": 2, "savedAt": ISO 8601 UTC,
//    "models": [paths], "first": i, "second": j, "settings": {...},
//    "results": {"measuredAt": ISO 8601 UTC, "architecture", "dataset", "models",
//    "accuracy": {key: %}, "loss": {key: ce}, "fusionSeconds", "evaluationSeconds"}}
// Results are a summary only, of a run made when "measuredAt" says (version 1 files have no
// date; "savedAt" is then the best bound, if any); plans are recomputed by running again.
#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QStringList>

#include <optional>

#include "otfuse/fusion/report.h"
#include "settings/studio_settings.h"

namespace otfuse::ui {

class SessionFile {
 public:
  QStringList models;
  int first = 0, second = 1;
  StudioSettings settings;
  std::optional<FusionSummary> results;
  QDateTime resultsMeasuredAt;  // invalid when unknown
  QDateTime savedAt;            // set by save(); read by load() (invalid when absent)

  /// Written atomically; throws otfuse::FileError naming the path.
  void save(const QString& path) const;
  /// Throws otfuse::FileError naming the path and the problem (not JSON, not a session, a
  /// pair that is no pair of its models).
  static SessionFile load(const QString& path);
  /// The session held in `bytes` (a file's content); `path` names it in messages.
  static SessionFile parse(const QByteArray& bytes, const QString& path);
  /// Larger files are refused.
  static constexpr qint64 kMaxBytes = 64 * 1024 * 1024;
};

}  // namespace otfuse::ui
