#include "main_window/session_file.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "otfuse/error.h"

namespace otfuse::ui {

namespace {
QJsonObject mapToJson(const std::map<std::string, double>& m) {
  QJsonObject o;
  for (const auto& [k, v] : m) o[QString::fromStdString(k)] = v;
  return o;
}
std::map<std::string, double> mapFromJson(const QJsonObject& o) {
  std::map<std::string, double> m;
  for (auto it = o.begin(); it != o.end(); ++it)
    if (it.value().isDouble()) m[it.key().toStdString()] = it.value().toDouble();
  return m;
}
}  // namespace

void SessionFile::save(const QString& path) const {
  QJsonObject root;
  root["format"] = "otfuse-studio-session";
  root["version"] = 3;
  root["savedAt"] = QDateTime::currentDateTimeUtc().toString(Qt::ISODate);
  root["models"] = QJsonArray::fromStringList(models);
  root["first"] = first;
  root["second"] = second;
  if (!fuse.isEmpty()) {  // else read back as the pair (first, second), B the anchor
    QJsonArray fuseArray;
    for (int i : fuse) fuseArray.append(i);
    root["fuse"] = fuseArray;
    root["anchor"] = anchor;
  }
  if (!fuse.isEmpty() && !weights.empty()) {
    QJsonArray w;
    for (double x : weights) w.append(x);
    root["weights"] = w;
  }
  root["settings"] = settings.toJson();
  if (!finetune.isEmpty()) root["finetune"] = finetune;
  if (results) {
    QJsonObject r;
    if (resultsMeasuredAt.isValid())
      r["measuredAt"] = resultsMeasuredAt.toUTC().toString(Qt::ISODate);
    r["architecture"] = QString::fromStdString(results->architecture);
    r["dataset"] = QString::fromStdString(results->dataset);
    r["datasetSource"] = QString::fromStdString(results->datasetSource);
    QJsonArray ms;
    for (const auto& m : results->models) ms.append(QString::fromStdString(m));
    r["models"] = ms;
    r["accuracy"] = mapToJson(results->accuracy);
    r["loss"] = mapToJson(results->loss);
    r["fusionSeconds"] = results->fusionSeconds;
    r["evaluationSeconds"] = results->evaluationSeconds;
    r["samples"] = results->samples;
    r["seed"] = QString::number(results->seed);
    if (results->repair != RepairMode::None) {
      r["repair"] = QString::fromStdString(toString(results->repair));
      r["repairImages"] = double(results->repairImages);
    }
    if (resultsAnchor >= 0) r["anchor"] = resultsAnchor;
    root["results"] = r;
  }
  writeFileAtomically(path.toStdString(), QJsonDocument(root).toJson().toStdString());
}

SessionFile SessionFile::load(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly))
    throw FileError(path.toStdString(),
                    "cannot open the session file: " + file.errorString().toStdString());
  if (file.size() > kMaxBytes) throw FileError(path.toStdString(), "too large for a session file");
  return parse(file.readAll(), path);
}

SessionFile SessionFile::parse(const QByteArray& bytes, const QString& path) {
  if (bytes.size() > kMaxBytes) throw FileError(path.toStdString(), "too large for a session file");
  QJsonParseError error{};
  const QJsonDocument doc = QJsonDocument::fromJson(bytes, &error);
  if (doc.isNull())
    throw FileError(path.toStdString(), "not valid JSON (" + error.errorString().toStdString() +
                                            " at offset " + std::to_string(error.offset) + ")");
  const QJsonObject root = doc.object();
  if (root.value("format").toString() != "otfuse-studio-session")
    throw FileError(path.toStdString(),
                    "not an OTFuse Studio session (missing \"format\": "
                    "\"otfuse-studio-session\")");
  SessionFile s;
  for (const QJsonValue& v : root.value("models").toArray()) s.models << v.toString();
  s.first = root.value("first").toInt(0);
  s.second = root.value("second").toInt(1);
  if (s.models.size() >= 2) {
    const auto n = s.models.size();
    if (s.first < 0 || s.first >= n || s.second < 0 || s.second >= n || s.first == s.second)
      throw FileError(path.toStdString(),
                      "the pair (\"first\": " + std::to_string(s.first) + ", \"second\": " +
                          std::to_string(s.second) + ") is not two different entries of its " +
                          std::to_string(n) + " \"models\"");
  }
  s.settings = StudioSettings::fromJson(root.value("settings").toObject());
  s.finetune = root.value("finetune").toObject();
  const auto n = s.models.size();
  if (root.contains("fuse")) {
    for (const QJsonValue& v : root.value("fuse").toArray()) {
      const int i = v.toInt(-1);
      if (!v.isDouble() || i < 0 || i >= n || s.fuse.contains(i))
        throw FileError(path.toStdString(),
                        "\"fuse\" must list different entries of its " + std::to_string(n) +
                            " \"models\" (0.." + std::to_string(n - 1) + "); found " +
                            QJsonDocument(root.value("fuse").toArray()).toJson(QJsonDocument::Compact).toStdString());
      s.fuse << i;
    }
    if (s.fuse.size() < 2 && n >= 2)
      throw FileError(path.toStdString(), "\"fuse\" names " + std::to_string(s.fuse.size()) +
                                              " model(s): fusion needs two or more");
    s.anchor = root.value("anchor").toInt(-1);
    if (!s.fuse.isEmpty() && !s.fuse.contains(s.anchor))
      throw FileError(path.toStdString(), "the \"anchor\" (" + std::to_string(s.anchor) +
                                              ") is not one of the models in \"fuse\"");
    if (root.contains("weights")) {
      const QJsonArray w = root.value("weights").toArray();
      double sum = 0;
      for (const QJsonValue& v : w) {
        if (!v.isDouble() || !(v.toDouble() >= 0))
          throw FileError(path.toStdString(), "\"weights\" must be numbers >= 0");
        s.weights.push_back(v.toDouble());
        sum += v.toDouble();
      }
      if (s.weights.size() != size_t(s.fuse.size()) || !(sum > 0))
        throw FileError(path.toStdString(),
                        "\"weights\" must hold one weight per model in \"fuse\" (" +
                            std::to_string(s.fuse.size()) + "), not all zero; found " +
                            std::to_string(s.weights.size()));
    }
  } else if (n >= 2) {  // a two-model session (version 1 or 2)
    s.fuse = {std::min(s.first, s.second), std::max(s.first, s.second)};
    s.anchor = s.settings.anchorIsSecond ? s.second : s.first;
  }
  s.savedAt = QDateTime::fromString(root.value("savedAt").toString(), Qt::ISODate);
  if (root.contains("results")) {
    const QJsonObject r = root.value("results").toObject();
    FusionSummary sum;
    sum.architecture = r.value("architecture").toString().toStdString();
    sum.dataset = r.value("dataset").toString().toStdString();
    sum.datasetSource = r.value("datasetSource").toString().toStdString();
    for (const QJsonValue& v : r.value("models").toArray())
      sum.models.push_back(v.toString().toStdString());
    sum.accuracy = mapFromJson(r.value("accuracy").toObject());
    sum.loss = mapFromJson(r.value("loss").toObject());
    sum.fusionSeconds = r.value("fusionSeconds").toDouble();
    sum.evaluationSeconds = r.value("evaluationSeconds").toDouble();
    sum.samples = r.value("samples").toInt();
    sum.seed = r.value("seed").toString().toULongLong();
    sum.options = s.settings.options;
    if (r.contains("repair")) {
      try {
        sum.repair = parseRepairMode(r.value("repair").toString().toStdString());
        sum.repairImages = static_cast<long long>(r.value("repairImages").toDouble());
      } catch (const std::exception&) {
        // An unknown variant: the rows are still shown, without the note on how they were made.
      }
    }
    s.results = sum;
    s.resultsMeasuredAt = QDateTime::fromString(r.value("measuredAt").toString(), Qt::ISODate);
    s.resultsAnchor = r.value("anchor").toInt(-1);
  }
  return s;
}

}  // namespace otfuse::ui
