#include "settings/studio_settings.h"

#include <QFileInfo>
#include <QJsonDocument>

#include <exception>

namespace otfuse::ui {

DatasetChoice StudioSettings::datasetChoiceFor(const ModelHandle& model) const {
  if (!dataset.isEmpty()) {
    DatasetChoice c;
    c.name = dataset.toStdString();
    c.reason = "chosen in the settings";
    return c;
  }
  if (!model.dataset.name.empty()) return model.dataset;
  DatasetChoice c;  // a handle made without defaultDataset
  c.name = model.inputKind.empty() ? std::string("mnist") : model.inputKind;
  c.reason = "guessed from the input shape";
  return c;
}

FusionRequest StudioSettings::request(const ModelPtr& first, const ModelPtr& second) const {
  return request({first, second}, anchorIsSecond ? 1 : 0);
}

FusionRequest StudioSettings::request(const std::vector<ModelPtr>& models, int anchor,
                                      const std::vector<double>& weights) const {
  FusionRequest r;
  r.options = options;
  const int n = int(models.size());
  if (anchor < 0 || anchor >= n) anchor = n - 1;
  if (n == 2) {
    r.a = models[size_t(1 - anchor)];
    r.b = models[size_t(anchor)];
    if (weights.size() == 2 && weights[0] + weights[1] > 0)
      r.options.t = weights[size_t(anchor)] / (weights[0] + weights[1]);
  } else if (n > 2) {
    r.models = models;
    r.anchor = anchor;
    if (weights.size() == models.size()) r.weights = weights;
    r.sequential = sequential;
    // The pair shown by the two-model curves: the first other model onto the anchor.
    r.a = models[anchor == 0 ? 1 : 0];
    r.b = models[size_t(anchor)];
  }
  bool allPresent = n >= 2;
  for (const ModelPtr& m : models) allPresent = allPresent && m;
  if (!dataset.isEmpty() || !allPresent) {
    r.dataset = dataset.toStdString();
    r.datasetSource = "chosen in the settings";
    if (dataset.isEmpty() && n > 0 && models[size_t(anchor)]) {
      const DatasetChoice c = datasetChoiceFor(*models[size_t(anchor)]);
      r.dataset = c.name;
      r.datasetSource = c.reason;
    }
  } else {
    auto name = [](const ModelPtr& m) {
      return QFileInfo(QString::fromStdString(m->path)).fileName().toStdString();
    };
    // The anchor first: its dataset wins unless another model's metadata names one.
    std::vector<std::pair<std::string, DatasetChoice>> choices;
    auto role = [&](int i) -> std::string {
      if (n == 2) return i == anchor ? " (B)" : " (A)";
      return i == anchor ? " (anchor)" : "";
    };
    choices.push_back({name(models[size_t(anchor)]) + role(anchor),
                       datasetChoiceFor(*models[size_t(anchor)])});
    for (int i = 0; i < n; ++i)
      if (i != anchor) choices.push_back({name(models[size_t(i)]) + role(i), datasetChoiceFor(*models[size_t(i)])});
    const DatasetChoice c = commonDataset(choices);
    r.dataset = c.name;
    r.datasetSource = c.reason + (c.conflict.empty() ? "" : "; note: " + c.conflict);
  }
  r.dataDir = dataDir.toStdString();
  r.samples = samples;
  r.seed = seed;
  r.evaluate = true;
  r.probabilityEnsemble = probabilityEnsemble;
  r.repair = repair;
  r.repairBatches = repairBatches;
  return r;
}

QJsonObject StudioSettings::toJson() const {
  QJsonObject o;
  o["mode"] = QString::fromStdString(toString(options.mode));
  o["solver"] = QString::fromStdString(toString(options.solver));
  o["epsilon"] = options.epsilon;
  o["metric"] = QString::fromStdString(ot::toString(options.metric));
  o["normalization"] = QString::fromStdString(ot::toString(options.normalization));
  o["marginals"] = QString::fromStdString(toString(options.marginals));
  o["t"] = options.t;
  o["otOutputLayer"] = options.otOutputLayer;
  o["streamMap"] = QString::fromStdString(toString(options.streamMap));
  o["sequential"] = sequential;
  o["dataset"] = dataset;
  o["dataDir"] = dataDir;
  o["samples"] = samples;
  o["seed"] = QString::number(seed);
  o["anchorIsSecond"] = anchorIsSecond;
  o["probabilityEnsemble"] = probabilityEnsemble;
  o["repair"] = QString::fromStdString(toString(repair));
  o["repairBatches"] = repairBatches;
  o["interpolationPoints"] = interpolationPoints;
  o["epsilonFrom"] = epsilonFrom;
  o["epsilonTo"] = epsilonTo;
  o["epsilonPoints"] = epsilonPoints;
  return o;
}

namespace {
template <typename F>
void tryParse(const QJsonObject& o, const char* key, F&& apply) {
  if (!o.contains(QLatin1String(key))) return;
  try {
    apply(o.value(QLatin1String(key)));
  } catch (const std::exception&) {
    // keep the default for an unknown value
  }
}
}  // namespace

StudioSettings StudioSettings::fromJson(const QJsonObject& o) {
  StudioSettings s;
  tryParse(o, "mode", [&](const QJsonValue& v) {
    s.options.mode = parseAlignMode(v.toString().toStdString());
  });
  tryParse(o, "solver", [&](const QJsonValue& v) {
    s.options.solver = parseSolver(v.toString().toStdString());
  });
  tryParse(o, "epsilon", [&](const QJsonValue& v) {
    if (v.toDouble() > 0) s.options.epsilon = v.toDouble();
  });
  tryParse(o, "metric", [&](const QJsonValue& v) {
    s.options.metric = ot::parseMetric(v.toString().toStdString());
  });
  tryParse(o, "normalization", [&](const QJsonValue& v) {
    s.options.normalization = ot::parseNormalization(v.toString().toStdString());
  });
  tryParse(o, "marginals", [&](const QJsonValue& v) {
    s.options.marginals = parseMarginals(v.toString().toStdString());
  });
  tryParse(o, "t", [&](const QJsonValue& v) {
    double t = v.toDouble(0.5);
    if (t >= 0 && t <= 1) s.options.t = t;
  });
  tryParse(o, "otOutputLayer", [&](const QJsonValue& v) { s.options.otOutputLayer = v.toBool(); });
  tryParse(o, "streamMap", [&](const QJsonValue& v) {
    s.options.streamMap = parseStreamMap(v.toString().toStdString());
  });
  tryParse(o, "sequential", [&](const QJsonValue& v) { s.sequential = v.toBool(); });
  tryParse(o, "dataset", [&](const QJsonValue& v) { s.dataset = v.toString(); });
  tryParse(o, "dataDir", [&](const QJsonValue& v) { s.dataDir = v.toString(); });
  tryParse(o, "samples", [&](const QJsonValue& v) {
    if (v.toInt() > 0) s.samples = v.toInt();
  });
  tryParse(o, "seed", [&](const QJsonValue& v) { s.seed = v.toString().toULongLong(); });
  tryParse(o, "anchorIsSecond", [&](const QJsonValue& v) { s.anchorIsSecond = v.toBool(true); });
  tryParse(o, "probabilityEnsemble",
           [&](const QJsonValue& v) { s.probabilityEnsemble = v.toBool(); });
  tryParse(o, "repair", [&](const QJsonValue& v) {
    s.repair = parseRepairMode(v.toString().toStdString());
  });
  tryParse(o, "repairBatches", [&](const QJsonValue& v) {
    if (v.toInt() >= 1) s.repairBatches = v.toInt();
  });
  tryParse(o, "interpolationPoints", [&](const QJsonValue& v) {
    if (v.toInt() >= 2) s.interpolationPoints = v.toInt();
  });
  tryParse(o, "epsilonFrom", [&](const QJsonValue& v) {
    if (v.toDouble() > 0) s.epsilonFrom = v.toDouble();
  });
  tryParse(o, "epsilonTo", [&](const QJsonValue& v) {
    if (v.toDouble() > 0) s.epsilonTo = v.toDouble();
  });
  tryParse(o, "epsilonPoints", [&](const QJsonValue& v) {
    if (v.toInt() >= 1) s.epsilonPoints = v.toInt();
  });
  return s;
}

void StudioSettings::save(QSettings& settings) const {
  settings.setValue(QStringLiteral("run/settings"),
                    QString::fromUtf8(QJsonDocument(toJson()).toJson(QJsonDocument::Compact)));
}

StudioSettings StudioSettings::load(QSettings& settings) {
  const QByteArray text = settings.value(QStringLiteral("run/settings")).toString().toUtf8();
  return fromJson(QJsonDocument::fromJson(text).object());
}

}  // namespace otfuse::ui
