// The compression experiment (engine/compression.h): OT fusion into a narrower anchor vs
// structured magnitude pruning vs a narrow model from scratch, before/after fine-tuning.
#include "otfuse/engine/compression.h"

#include "engine/engine_internal.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "otfuse/data/dataset.h"
#include "otfuse/error.h"
#include "otfuse/fusion/fusion.h"
#include "otfuse/models/model.h"
#include "otfuse/models/prune.h"
#include "otfuse/train/train.h"

namespace otfuse {
namespace {

std::string widthText(double w) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", w);
  return buf;
}

const Model& modelOf(const ModelPtr& m, const char* which) {
  if (!m || !m->model) throw Error(std::string("compression: model ") + which + " is missing");
  return *m->model;
}

std::string nameOf(const ModelPtr& m, const char* which) {
  return std::string("model ") + which + (m && !m->path.empty() ? " (" + m->path + ")" : "");
}

}  // namespace

std::string compressionMethodLabel(const std::string& method) {
  if (method == "fusion") return "OT fusion";
  if (method == "pruning") return "pruning";
  if (method == "scratch") return "from scratch";
  return method;
}

const CompressionPoint* CompressionResult::find(double width, const std::string& method) const {
  for (const auto& p : points)
    if (p.method == method && std::abs(p.width - width) < 1e-9) return &p;
  return nullptr;
}

std::string pruneIncompatibility(const ModelHandle& model, double fraction) {
  if (!model.model) return "the model is missing";
  if (!(fraction > 0.0 && fraction <= 1.0))
    return "the kept width " + widthText(fraction) + " is not a fraction in (0, 1]";
  try {
    std::vector<int64_t> widths = groupWidths(model.model->architecture());
    for (auto& w : widths) w = prunedWidth(w, fraction);
    narrowedArchitecture(model.model->architecture(), widths);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

ModelPtr pruneModelTo(const ModelPtr& model, double fraction) {
  const Model& m = modelOf(model, "to prune");
  PruneResult r = pruneModel(m, fraction);
  std::map<std::string, std::string> metadata = {{"arch", r.model.architecture().name},
                                                 {"kept_width", widthText(fraction)}};
  if (!model->path.empty()) metadata["pruned_from"] = model->path;
  if (!model->dataset.name.empty()) metadata["dataset"] = model->dataset.name;
  return makeHandle(std::move(r.model), "", "pruned", std::move(metadata));
}

CompressionResult runCompression(const CompressionRequest& r, const CompressionPointFn& onPoint,
                                 const ProgressFn& progress, const CancelFlag* cancel) {
  const auto start = std::chrono::steady_clock::now();
  // Checks first: nothing is computed for a request that cannot finish.
  const Model& a = modelOf(r.a, "A");
  const Model& b = modelOf(r.b, "B");
  if (r.widths.empty()) throw Error("compression: no kept widths given");
  std::set<double> seen;
  for (double w : r.widths) {
    if (!(w > 0.0 && w <= 1.0))
      throw Error("compression: the kept width " + widthText(w) +
                  " is not a fraction in (0, 1] (e.g. 0.5 keeps half of every hidden layer)");
    if (!seen.insert(w).second) throw Error("compression: the width " + widthText(w) + " is given twice");
    std::string why = pruneIncompatibility(*r.b, w);
    if (!why.empty()) throw Error("compression: " + nameOf(r.b, "B") + " cannot be pruned to " + widthText(w) + ": " + why);
  }
  if (std::string why = fusionIncompatibility(a, b); !why.empty())
    throw Error("compression: " + nameOf(r.a, "A") + " cannot be fused onto " + nameOf(r.b, "B") + ": " + why);
  if (r.finetuneEpochs < 0) throw Error("compression: the fine-tuning epochs must be >= 0");
  int scratchEpochs = r.scratchEpochs;
  if (scratchEpochs < 0) {
    auto it = r.b->metadata.find("epoch");
    try {
      if (it == r.b->metadata.end()) throw std::invalid_argument("none");
      scratchEpochs = std::stoi(it->second);
    } catch (const std::exception&) {
      throw Error("compression: " + nameOf(r.b, "B") +
                  " does not say how many epochs it was trained (no \"epoch\" entry); give the "
                  "scratch training budget explicitly (--scratch-epochs)");
    }
  }
  if (scratchEpochs < 1) throw Error("compression: the scratch training needs at least 1 epoch");

  CompressionResult result;
  result.finetuneEpochs = r.finetuneEpochs;
  result.scratchEpochs = scratchEpochs;
  result.dataset = r.dataset.empty()
                       ? commonDataset({{nameOf(r.b, "B"), r.b->dataset}, {nameOf(r.a, "A"), r.a->dataset}}).name
                       : r.dataset;
  const auto trainData = cachedDataset(result.dataset, Split::Train, r.dataDir, cancel);
  const auto testData = cachedDataset(result.dataset, Split::Test, r.dataDir, cancel);
  const Dataset& train = *trainData;
  const Dataset& test = *testData;
  result.accuracyA = evaluate(a, test, 1000, withStage(progress, "evaluate A"), cancel).accuracy;
  result.accuracyB = evaluate(b, test, 1000, withStage(progress, "evaluate B"), cancel).accuracy;
  const at::Tensor samples = r.options.mode == AlignMode::Activations
                                 ? sampleInputs(train, r.samples, r.seed)
                                 : at::Tensor();

  TrainOptions base;
  base.batchSize = r.batchSize;
  base.learningRate = r.learningRate;
  base.momentum = r.momentum;
  base.seed = r.seed;
  base.limit = r.limit;

  for (double w : r.widths) {
    const std::string at = "width " + widthText(w) + ": ";
    Model pruned = pruneModel(b, w).model;
    const Architecture narrow = pruned.architecture();
    std::vector<std::pair<std::string, Model>> models;

    throwIfCancelled(cancel);
    FusionResult fused = fuse(a, pruned, r.options, samples, withStage(progress, at + "OT fusion"), cancel);
    models.emplace_back("fusion", std::move(fused.fused));
    models.emplace_back("pruning", std::move(pruned));
    for (auto& [method, m] : models)
      if (m.hasBatchNorm()) recalibrateBatchNorm(m, train, 20, 128, r.seed, cancel);

    Model scratch = Model::initialize(narrow, r.seed);
    TrainOptions so = base;
    so.epochs = scratchEpochs;
    trainModel(scratch, train, nullptr, so, withStage(progress, at + "training from scratch"), cancel);
    models.emplace_back("scratch", std::move(scratch));

    std::vector<CompressionPoint> points;
    for (auto& [method, m] : models) {
      CompressionPoint p;
      p.width = w;
      p.method = method;
      p.architecture = m.architecture().name;
      p.parameters = m.parameterCount();
      p.before = evaluate(m, test, 1000, withStage(progress, at + "evaluate " + compressionMethodLabel(method)), cancel).accuracy;
      if (onPoint) onPoint(p);
      points.push_back(p);
    }
    for (size_t i = 0; i < models.size(); ++i) {
      CompressionPoint& p = points[i];
      if (r.finetuneEpochs == 0) {
        p.after = p.before;
      } else {
        Model tuned = models[i].second.clone();
        TrainOptions fo = base;
        fo.epochs = r.finetuneEpochs;
        const std::string stage = at + "fine-tune " + compressionMethodLabel(p.method);
        auto epochs = trainModel(tuned, train, &test, fo, withStage(progress, stage), cancel,
                                 [&](const EpochResult& e) {
                                   if (progress)
                                     progress({stage + " epoch", e.epoch, r.finetuneEpochs,
                                               "test accuracy " + std::to_string(e.testAccuracy)});
                                 });
        for (const auto& e : epochs) p.curve.push_back(e.testAccuracy);
        p.after = epochs.back().testAccuracy;
      }
      if (onPoint) onPoint(p);
      result.points.push_back(p);
    }
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace otfuse
