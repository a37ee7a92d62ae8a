#include "otfuse/engine/table_one.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "otfuse/error.h"
#include "otfuse/fusion/average.h"
#include "otfuse/fusion/fusion.h"
#include "otfuse/fusion/matching.h"
#include "otfuse/text.h"

namespace otfuse {

Model reestimateBatchNorm(const Model& model, const Dataset& train, const TableOneOptions& opt,
                          const CancelFlag* cancel) {
  Model out = model.clone();
  recalibrateBatchNorm(out, train, opt.bnBatches, 128, opt.seed, cancel);
  return out;
}

TableOneModels evaluateTableOne(const Model& a, const Model& b, const Model& fused,
                                const Dataset& test, const std::function<const Dataset&()>& train,
                                const TableOneOptions& opt, FusionSummary& summary,
                                const ProgressFn& progress, const CancelFlag* cancel) {
  // {1 - t, t} as given (not renormalized), so that the vanilla row is vanillaAverage(a, b, t)
  // to the last bit.
  return evaluateTableOneMany({a, b}, 1, {1.0 - opt.t, opt.t}, fused, nullptr, test, train, opt,
                              summary, progress, cancel);
}

TableOneModels evaluateTableOneMany(const std::vector<Model>& models, int anchor,
                                    const std::vector<double>& weights, const Model& fused,
                                    const Model* sequential, const Dataset& test,
                                    const std::function<const Dataset&()>& train,
                                    const TableOneOptions& opt, FusionSummary& summary,
                                    const ProgressFn& progress, const CancelFlag* cancel) {
  if (models.size() < 2) throw Error("a Table-1 row needs at least two models");
  if (anchor < 0 || anchor >= int(models.size()))
    throw Error("the anchor index " + std::to_string(anchor) + " is out of range");
  auto record = [&](const std::string& key, const EvalResult& r) {
    summary.accuracy[key] = r.accuracy;
    summary.loss[key] = r.loss;
    summary.perClassAccuracy[key] = r.perClassAccuracy();
    summary.confusion[key] = r.confusion;
  };
  const int bs = opt.batchSize;
  // Two models anchored on the second are "A" and "B", as in the paper's table.
  const bool pair = models.size() == 2 && anchor == 1;
  for (size_t i = 0; i < models.size(); ++i) {
    const std::string stage =
        pair ? std::string("evaluate model ") + (i == 0 ? "A" : "B")
             : "evaluate model " + std::to_string(i) + (int(i) == anchor ? " (anchor)" : "");
    record("model_" + std::to_string(i),
           evaluate(models[i], test, bs, withStage(progress, stage), cancel));
  }
  record("ensemble", evaluateEnsemble(models, test, opt.ensembleRule, bs,
                                      withStage(progress, "evaluate ensemble"), cancel));
  std::optional<Model> vanilla;  // averaged once; the BatchNorm row re-estimates it in place
  if (vanillaIncompatibility(models, anchor).empty()) {
    vanilla = vanillaAverageMany(models, weights, anchor);
    record("vanilla", evaluate(*vanilla, test, bs,
                               withStage(progress, "evaluate vanilla average"), cancel));
  }
  const auto t0 = std::chrono::steady_clock::now();
  record("fused", evaluate(fused, test, bs, withStage(progress, "evaluate OT fusion"), cancel));
  summary.evaluationSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (sequential)
    record("sequential", evaluate(*sequential, test, bs,
                                  withStage(progress, "evaluate sequential fusion"), cancel));

  TableOneModels out;
  if (opt.repair != RepairMode::None && !fused.hasBatchNorm()) {
    if (!train) throw Error("REPAIR needs the training set (for its statistics)");
    if (!opt.aligned || opt.aligned->size() != models.size())
      throw Error("REPAIR needs every parent aligned onto the anchor");
    const Dataset& trainSet = train();
    const long long count =
        std::min<long long>(static_cast<long long>(std::max(1, opt.repairBatches)) * 128, trainSet.size());
    const at::Tensor inputs = sampleInputs(trainSet, int(count), opt.seed + 1);
    if (progress) progress({"REPAIR of OT fusion", 0, 1, ""});
    out.fusedRepair = repairMergedMany(fused, *opt.aligned, weights, opt.repair, inputs, cancel);
    record("fused_repair", evaluate(*out.fusedRepair, test, bs,
                                    withStage(progress, "evaluate OT fusion + REPAIR"), cancel));
    if (vanilla) {
      if (progress) progress({"REPAIR of the vanilla average", 0, 1, ""});
      const Model repaired = repairMergedMany(*vanilla, models, weights, opt.repair, inputs, cancel);
      record("vanilla_repair", evaluate(repaired, test, bs,
                                        withStage(progress, "evaluate vanilla + REPAIR"), cancel));
    }
    summary.repair = opt.repair;
    summary.repairImages = count;
  }
  if (!fused.hasBatchNorm() || opt.bnBatches <= 0 || !train) return out;
  const Dataset& trainSet = train();
  out.fusedBn = reestimateBatchNorm(fused, trainSet, opt, cancel);
  record("fused_bn", evaluate(*out.fusedBn, test, bs,
                              withStage(progress, "evaluate OT fusion + BN re-estimation"), cancel));
  if (vanilla) {
    recalibrateBatchNorm(*vanilla, trainSet, opt.bnBatches, 128, opt.seed, cancel);
    record("vanilla_bn", evaluate(*vanilla, test, bs,
                                  withStage(progress, "evaluate vanilla + BN re-estimation"), cancel));
  }
  if (sequential) {
    out.sequentialBn = reestimateBatchNorm(*sequential, trainSet, opt, cancel);
    record("sequential_bn",
           evaluate(*out.sequentialBn, test, bs,
                    withStage(progress, "evaluate sequential fusion + BN re-estimation"), cancel));
  }
  return out;
}

std::map<std::string, std::string> fusedModelMetadata(const FusionSummary& s,
                                                      const std::string& which, int bnBatches) {
  const auto full = shortestNumber;
  std::map<std::string, std::string> md;
  md["fusion_model"] = which;
  const bool seq = which == "sequential" || which == "sequential_bn";
  const std::string what = seq ? "sequential OT fusion (two models at a time)" : "OT fusion";
  if (which == "fused_repair") {
    md["fusion_model_description"] =
        what + ", REPAIR (" + toString(s.repair) + ") with statistics over " +
        std::to_string(s.repairImages) + " training images (seed " +
        std::to_string(s.seed + 1) + ")";
    md["repair"] = toString(s.repair);
    md["repair_images"] = std::to_string(s.repairImages);
  } else if (which == "fused_bn" || which == "sequential_bn") {
    md["fusion_model_description"] =
        what + ", BatchNorm statistics re-estimated on " + std::to_string(bnBatches) +
        " batches of 128 training images (seed " + std::to_string(s.seed) + ")";
    md["bn_batches"] = std::to_string(bnBatches);
  } else {
    md["fusion_model_description"] = what + " as averaged (no re-estimation)";
  }
  if (auto it = s.accuracy.find(which); it != s.accuracy.end()) {
    md["test_accuracy"] = full(it->second);
    md["test_loss"] = full(s.loss.at(which));
  }
  if (!s.dataset.empty()) md["dataset"] = s.dataset;
  md["arch"] = s.architecture;
  if (s.models.size() == 2 && s.anchor == 1) {
    md["fused_from"] = s.models[0] + " (A, aligned) onto " + s.models[1] + " (B, anchor)";
  } else if (s.models.size() >= 2 && s.anchor >= 0 && s.anchor < int(s.models.size())) {
    std::string from;
    for (size_t i = 0; i < s.models.size(); ++i)
      if (int(i) != s.anchor) from += (from.empty() ? "" : ", ") + s.models[i];
    md["fused_from"] = from + " (aligned) onto " + s.models[size_t(s.anchor)] + " (anchor)";
  }
  md["anchor"] = std::to_string(s.anchor);
  if (!s.weights.empty()) {
    std::string w;
    for (double x : s.weights) w += (w.empty() ? "" : ",") + full(x);
    md["weights"] = w;
  }
  md["mode"] = toString(s.options.mode);
  md["solver"] = toString(s.options.solver);
  md["t"] = full(s.options.t);
  md["seed"] = std::to_string(s.seed);
  return md;
}

}  // namespace otfuse
