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
  FusionRequest r;
  r.a = anchorIsSecond ? first : second;
  r.b = anchorIsSecond ? second : first;
  r.options = options;
  if (!dataset.isEmpty() || !r.a || !r.b) {
    r.dataset = dataset.toStdString();
    r.datasetSource = "chosen in the settings";
    if (dataset.isEmpty() && r.b) {
      const DatasetChoice c = datasetChoiceFor(*r.b);
      r.dataset = c.name;
      r.datasetSource = c.reason;
    }
  } else {
    auto name = [](const ModelPtr& m) {
      return QFileInfo(QString::fromStdString(m->path)).fileName().toStdString();
    };
    const DatasetChoice c =
        commonDataset({{name(r.b) + " (B)", datasetChoiceFor(*r.b)},
                       {name(r.a) + " (A)", datasetChoiceFor(*r.a)}});
    r.dataset = c.name;
    r.datasetSource = c.reason + (c.conflict.empty() ? "" : "; note: " + c.conflict);
  }
  r.dataDir = dataDir.toStdString();
  r.samples = samples;
  r.seed = seed;
  r.evaluate = true;
  r.probabilityEnsemble = probabilityEnsemble;
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
  o["dataset"] = dataset;
  o["dataDir"] = dataDir;
  o["samples"] = samples;
  o["seed"] = QString::number(seed);
  o["anchorIsSecond"] = anchorIsSecond;
  o["probabilityEnsemble"] = probabilityEnsemble;
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
  tryParse(o, "dataset", [&](const QJsonValue& v) { s.dataset = v.toString(); });
  tryParse(o, "dataDir", [&](const QJsonValue& v) { s.dataDir = v.toString(); });
  tryParse(o, "samples", [&](const QJsonValue& v) {
    if (v.toInt() > 0) s.samples = v.toInt();
  });
  tryParse(o, "seed", [&](const QJsonValue& v) { s.seed = v.toString().toULongLong(); });
  tryParse(o, "anchorIsSecond", [&](const QJsonValue& v) { s.anchorIsSecond = v.toBool(true); });
  tryParse(o, "probabilityEnsemble",
           [&](const QJsonValue& v) { s.probabilityEnsemble = v.toBool(); });
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
