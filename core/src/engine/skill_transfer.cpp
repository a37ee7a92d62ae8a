// The skill-transfer experiment: personal split, two parents, fusion at several t, and the
// overall / special-class / per-class accuracy of every row, over one or more seeds.
#include "otfuse/engine/skill_transfer.h"

#include <ATen/ATen.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>

#include "engine/engine_internal.h"
#include "otfuse/data/split.h"
#include "otfuse/error.h"
#include "otfuse/fusion/average.h"
#include "otfuse/fusion/fusion.h"
#include "otfuse/io/checkpoint.h"
#include "otfuse/engine/finetune.h"
#include "otfuse/text.h"

namespace otfuse {
namespace {

std::string json(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// A file-name-safe version of a spec ("mlp:32" -> "mlp-32", "folder:/x/y" -> "folder--x-y").
std::string fileSafe(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.') ? c : '-';
  return out;
}

// Accuracy of one evaluation over the rows `classes` of its confusion matrix (NaN if none).
double accuracyOver(const Eigen::MatrixXi& confusion, const std::vector<int>& classes) {
  long long correct = 0, total = 0;
  for (int c : classes) {
    if (c >= confusion.rows()) continue;
    correct += confusion(c, c);
    total += confusion.row(c).cast<long long>().sum();
  }
  return total > 0 ? 100.0 * double(correct) / double(total) : std::nan("");
}

// Per-seed measurements of one row, turned into a SkillTransferRow at the end.
struct RowSamples {
  std::string key, label;
  double t = -1;
  std::vector<double> overall, special, others;
  std::vector<std::vector<double>> perClass;  // [seed][class]
  Eigen::MatrixXi confusion;
};

void checkRequest(const SkillTransferRequest& r) {
  if (!(r.fraction >= 0.0 && r.fraction <= 1.0))
    throw Error("the fraction of the other classes given to A must be in [0, 1], got " +
                shortestNumber(r.fraction));
  if (r.specialClass < 0) throw Error("the special class must be 0 or more");
  if (r.epochs < 1) throw Error("the number of epochs must be at least 1");
  if (r.seeds < 1) throw Error("the number of seeds must be at least 1");
  if (r.limit < 0) throw Error("the limit must be non-negative");
  if (r.ts.empty()) throw Error("give at least one weight t of B");
  for (double t : r.ts)
    if (!(t >= 0.0 && t <= 1.0)) throw Error("every t must be in [0, 1], got " + shortestNumber(t));
}

}  // namespace

SeedStat seedStat(const std::vector<double>& values) {
  SeedStat s;
  s.values = values;
  const MeanStd m = meanStd(values);  // sample std (n - 1), 0 for fewer than two values
  s.mean = m.mean;
  s.std = m.std;
  return s;
}

SkillTransferResult runSkillTransfer(const SkillTransferRequest& r, const ProgressFn& progress,
                                     const CancelFlag* cancel) {
  checkRequest(r);
  const auto start = std::chrono::steady_clock::now();
  const Architecture arch = parseArchitecture(r.arch);  // bad specs fail before any work
  auto trainFull = cachedDataset(r.dataset, Split::Train, r.dataDir, cancel);
  auto test = cachedDataset(r.dataset, Split::Test, r.dataDir, cancel);
  const int classes = int(trainFull->classes.size());
  if (r.specialClass >= classes)
    throw Error("the special class " + std::to_string(r.specialClass) + " is out of range: " +
                r.dataset + " has " + std::to_string(classes) + " classes (0.." +
                std::to_string(classes - 1) + ")");
  const int64_t n = r.limit > 0 ? std::min<int64_t>(r.limit, trainFull->size()) : trainFull->size();
  std::optional<Dataset> limited;
  if (n < trainFull->size()) {
    std::vector<int64_t> first(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) first[size_t(i)] = i;
    limited = subsetOf(*trainFull, first, "first " + std::to_string(n));
  }
  const Dataset& train = limited ? *limited : *trainFull;
  if (!r.cacheDir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(r.cacheDir, ec);
    if (ec) throw FileError(r.cacheDir, "cannot create the folder: " + ec.message());
  }

  SkillTransferResult out;
  out.request = r;
  out.classes = trainFull->classes;
  out.trainImages = n;
  out.testImages = test->size();
  out.specialTestImages = test->labels.to(at::kLong).eq(r.specialClass).sum().item<int64_t>();
  std::vector<int> otherClasses;
  for (int c = 0; c < classes; ++c)
    if (c != r.specialClass) otherClasses.push_back(c);

  std::vector<RowSamples> rows;
  auto row = [&](const std::string& key, const std::string& label, double t) -> RowSamples& {
    for (auto& x : rows)
      if (x.key == key && x.t == t) return x;
    rows.push_back({key, label, t, {}, {}, {}, {}, {}});
    return rows.back();
  };
  auto record = [&](RowSamples& rs, const EvalResult& e) {
    rs.overall.push_back(e.accuracy);
    rs.special.push_back(e.perClassAccuracy()[size_t(r.specialClass)]);
    rs.others.push_back(accuracyOver(e.confusion, otherClasses));
    rs.perClass.push_back(e.perClassAccuracy());
    if (rs.confusion.size() == 0)
      rs.confusion = e.confusion;
    else
      rs.confusion += e.confusion;
  };

  const int K = r.seeds;
  for (int k = 0; k < K; ++k) {
    throwIfCancelled(cancel);
    const uint64_t s = r.firstSeed + uint64_t(k);
    out.seeds.push_back(s);
    const std::string seedStage = "seed " + std::to_string(k + 1) + "/" + std::to_string(K);
    PersonalSplitOptions so;
    so.specialClass = r.specialClass;
    so.fraction = r.fraction;
    so.seed = s;
    const SplitIndices parts = personalSplit(train.labels, classes, so);
    out.trainSizeA = int64_t(parts.a.size());
    out.trainSizeB = int64_t(parts.b.size());
    std::vector<std::string> files;
    std::vector<Model> parents;
    for (char part : {'A', 'B'}) {
      const std::vector<int64_t>& idx = part == 'A' ? parts.a : parts.b;
      const uint64_t trainSeed = 2 * s + (part == 'A' ? 0 : 1);
      std::string file;
      if (!r.cacheDir.empty()) {
        std::ostringstream name;
        name << "skill_" << fileSafe(arch.name) << "_" << fileSafe(r.dataset) << "_c"
             << r.specialClass << "_p" << shortestNumber(r.fraction) << "_e" << r.epochs << "_lr"
             << shortestNumber(r.learningRate) << "_m" << shortestNumber(r.momentum) << "_b" << r.batchSize
             << "_n" << n << "_split" << s << "_seed" << trainSeed << "_" << part << ".pt";
        file = (std::filesystem::path(r.cacheDir) / name.str()).string();
      }
      files.push_back(file);
      if (!file.empty() && std::filesystem::exists(file)) {
        parents.push_back(Model::fromCheckpoint(loadCheckpoint(file), file, arch.name));
        ++out.parentsLoaded;
        continue;
      }
      if (idx.empty())
        throw Error(std::string("part ") + part + " of the split has no training images");
      Dataset subset = subsetOf(train, idx, std::string("personal split, part ") + part);
      Model m = Model::initialize(arch, trainSeed);
      TrainOptions opt;
      opt.epochs = r.epochs;
      opt.batchSize = r.batchSize;
      opt.learningRate = r.learningRate;
      opt.momentum = r.momentum;
      opt.augment = false;
      opt.seed = trainSeed;
      trainModel(m, subset, nullptr, opt,
                 withStage(progress, seedStage + ": train " + std::string(1, part)), cancel);
      if (!file.empty()) {
        std::map<std::string, std::string> md = personalSplitMetadata(so, part, int64_t(idx.size()));
        md["arch"] = arch.name;
        md["dataset"] = r.dataset;
        md["epoch"] = std::to_string(r.epochs);
        md["seed"] = std::to_string(trainSeed);
        md["lr"] = shortestNumber(r.learningRate);
        md["momentum"] = shortestNumber(r.momentum);
        md["limit"] = std::to_string(n);
        saveCheckpoint(file, m.state(), md);
      }
      parents.push_back(std::move(m));
      ++out.parentsTrained;
    }
    out.parentFiles.push_back(files);
    const Model& a = parents[0];
    const Model& b = parents[1];

    char share[32];
    std::snprintf(share, sizeof share, "%g", 100 * r.fraction);
    record(row("A", std::string("model A (special class + ") + share + " % of others)", -1),
           evaluate(a, *test, 1000, withStage(progress, seedStage + ": evaluate A"), cancel));
    record(row("B", "model B (rest, no special class)", -1),
           evaluate(b, *test, 1000, withStage(progress, seedStage + ": evaluate B"), cancel));
    record(row("ensemble", "prediction ensemble", -1),
           evaluateEnsemble({a, b}, *test,
                            r.probabilityEnsemble ? EnsembleRule::ProbabilityMean
                                                  : EnsembleRule::LogSoftmaxMean,
                            1000, withStage(progress, seedStage + ": evaluate ensemble"), cancel));
    const bool vanilla = vanillaIncompatibility({a, b}, 1).empty();
    at::Tensor inputs;
    if (r.options.mode == AlignMode::Activations) inputs = sampleInputs(train, r.samples, s);
    for (double t : r.ts) {
      const std::string ts = shortestNumber(t);
      if (vanilla)
        record(row("vanilla", "vanilla average, t = " + ts, t),
               evaluate(vanillaAverage(a, b, t), *test, 1000,
                        withStage(progress, seedStage + ": evaluate vanilla t = " + ts), cancel));
      FusionOptions fo = r.options;
      fo.t = t;
      FusionResult f = fuse(a, b, fo, inputs, withStage(progress, seedStage + ": fuse t = " + ts),
                            cancel);
      record(row("fused", "OT fusion, t = " + ts, t),
             evaluate(f.fused, *test, 1000,
                      withStage(progress, seedStage + ": evaluate OT fusion t = " + ts), cancel));
    }
  }

  // Rows in order A, B, ensemble, then per t vanilla and fused (row() kept first-seen order,
  // which is exactly that).
  for (const auto& rs : rows) {
    SkillTransferRow x;
    x.key = rs.key;
    x.label = rs.label;
    x.t = rs.t;
    x.overall = seedStat(rs.overall);
    x.special = seedStat(rs.special);
    x.others = seedStat(rs.others);
    const size_t nc = rs.perClass.empty() ? 0 : rs.perClass.front().size();
    for (size_t c = 0; c < nc; ++c) {
      std::vector<double> v;
      for (const auto& perSeed : rs.perClass) v.push_back(perSeed[c]);
      x.perClass.push_back(seedStat(v));
    }
    x.confusion = rs.confusion;
    out.rows.push_back(std::move(x));
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

std::string skillTransferJson(const SkillTransferResult& res) {
  const SkillTransferRequest& r = res.request;
  std::ostringstream o;
  auto stat = [&](const SeedStat& s) {
    std::string v = "{\"mean\": " + json(s.mean) + ", \"std\": " + json(s.std) + ", \"values\": [";
    for (size_t i = 0; i < s.values.size(); ++i) v += (i ? ", " : "") + json(s.values[i]);
    return v + "]}";
  };
  o << "{\n  \"scenario\": \"skill-transfer\",\n";
  o << "  \"settings\": {\"arch\": " << jsonQuoted(r.arch) << ", \"dataset\": " << jsonQuoted(r.dataset)
    << ", \"special_class\": " << r.specialClass << ", \"fraction\": " << json(r.fraction)
    << ", \"epochs\": " << r.epochs << ", \"batch_size\": " << r.batchSize
    << ", \"lr\": " << json(r.learningRate) << ", \"momentum\": " << json(r.momentum)
    << ", \"limit\": " << r.limit << ", \"mode\": " << jsonQuoted(toString(r.options.mode))
    << ", \"solver\": " << jsonQuoted(toString(r.options.solver))
    << ", \"samples\": " << r.samples << ", \"t\": [";
  for (size_t i = 0; i < r.ts.size(); ++i) o << (i ? ", " : "") << json(r.ts[i]);
  o << "], \"ensemble\": " << jsonQuoted(r.probabilityEnsemble ? "prob" : "logsoftmax") << "},\n";
  o << "  \"seeds\": [";
  for (size_t i = 0; i < res.seeds.size(); ++i) o << (i ? ", " : "") << res.seeds[i];
  o << "],\n  \"classes\": [";
  for (size_t i = 0; i < res.classes.size(); ++i) o << (i ? ", " : "") << jsonQuoted(res.classes[i]);
  o << "],\n  \"train_images\": " << res.trainImages << ", \"train_size\": {\"A\": "
    << res.trainSizeA << ", \"B\": " << res.trainSizeB << "}, \"test_images\": " << res.testImages
    << ", \"special_test_images\": " << res.specialTestImages << ",\n";
  o << "  \"parents\": {\"trained\": " << res.parentsTrained << ", \"loaded\": "
    << res.parentsLoaded << ", \"files\": [";
  for (size_t i = 0; i < res.parentFiles.size(); ++i) {
    o << (i ? ", [" : "[");
    for (size_t j = 0; j < res.parentFiles[i].size(); ++j)
      o << (j ? ", " : "") << jsonQuoted(res.parentFiles[i][j]);
    o << "]";
  }
  o << "]},\n  \"rows\": [";
  for (size_t i = 0; i < res.rows.size(); ++i) {
    const SkillTransferRow& x = res.rows[i];
    o << (i ? ",\n    " : "\n    ") << "{\"key\": " << jsonQuoted(x.key) << ", \"label\": "
      << jsonQuoted(x.label) << ", \"t\": " << (x.t < 0 ? std::string("null") : json(x.t))
      << ",\n     \"overall\": " << stat(x.overall) << ",\n     \"special\": " << stat(x.special)
      << ",\n     \"others\": " << stat(x.others) << ",\n     \"per_class\": {\"mean\": [";
    for (size_t c = 0; c < x.perClass.size(); ++c) o << (c ? ", " : "") << json(x.perClass[c].mean);
    o << "], \"std\": [";
    for (size_t c = 0; c < x.perClass.size(); ++c) o << (c ? ", " : "") << json(x.perClass[c].std);
    o << "]},\n     \"confusion\": [";
    for (Eigen::Index a = 0; a < x.confusion.rows(); ++a) {
      o << (a ? ", [" : "[");
      for (Eigen::Index b = 0; b < x.confusion.cols(); ++b) o << (b ? ", " : "") << x.confusion(a, b);
      o << "]";
    }
    o << "]}";
  }
  o << "\n  ],\n  \"seconds\": " << json(res.seconds) << "\n}\n";
  return o.str();
}

}  // namespace otfuse
