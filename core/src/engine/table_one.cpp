#include "otfuse/engine/table_one.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "otfuse/fusion/fusion.h"

namespace otfuse {

Model reestimateBatchNorm(const Model& model, const Dataset& train, const TableOneOptions& opt,
                          const CancelFlag* cancel) {
  Model out = model.clone();
  recalibrateBatchNorm(out, train, opt.bnBatches, 128, opt.seed, cancel);
  return out;
}

std::optional<Model> evaluateTableOne(const Model& a, const Model& b, const Model& fused,
                                      const Dataset& test,
                                      const std::function<const Dataset&()>& train,
                                      const TableOneOptions& opt, FusionSummary& summary,
                                      const ProgressFn& progress, const CancelFlag* cancel) {
  auto record = [&](const std::string& key, const EvalResult& r) {
    summary.accuracy[key] = r.accuracy;
    summary.loss[key] = r.loss;
  };
  const int bs = opt.batchSize;
  record("model_0", evaluate(a, test, bs, withStage(progress, "evaluate model A"), cancel));
  record("model_1", evaluate(b, test, bs, withStage(progress, "evaluate model B"), cancel));
  record("ensemble", evaluateEnsemble({a, b}, test, opt.ensembleRule, bs,
                                      withStage(progress, "evaluate ensemble"), cancel));
  std::optional<Model> vanilla;  // averaged once; the BatchNorm row re-estimates it in place
  if (a.architecture().name == b.architecture().name) {
    vanilla = vanillaAverage(a, b, opt.t);
    record("vanilla", evaluate(*vanilla, test, bs,
                               withStage(progress, "evaluate vanilla average"), cancel));
  }
  const auto t0 = std::chrono::steady_clock::now();
  record("fused", evaluate(fused, test, bs, withStage(progress, "evaluate OT fusion"), cancel));
  summary.evaluationSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  if (!fused.hasBatchNorm() || opt.bnBatches <= 0 || !train) return std::nullopt;
  const Dataset& trainSet = train();
  Model recalibrated = reestimateBatchNorm(fused, trainSet, opt, cancel);
  record("fused_bn", evaluate(recalibrated, test, bs,
                              withStage(progress, "evaluate OT fusion + BN re-estimation"), cancel));
  if (vanilla) {
    recalibrateBatchNorm(*vanilla, trainSet, opt.bnBatches, 128, opt.seed, cancel);
    record("vanilla_bn", evaluate(*vanilla, test, bs,
                                  withStage(progress, "evaluate vanilla + BN re-estimation"), cancel));
  }
  return recalibrated;
}

std::map<std::string, std::string> fusedModelMetadata(const FusionSummary& s,
                                                      const std::string& which, int bnBatches) {
  auto full = [](double v) {  // the shortest text that reads back as exactly v
    char buf[40];
    for (int digits = 1; digits <= 17; ++digits) {
      std::snprintf(buf, sizeof buf, "%.*g", digits, v);
      if (std::strtod(buf, nullptr) == v) break;
    }
    return std::string(buf);
  };
  std::map<std::string, std::string> md;
  md["fusion_model"] = which;
  if (which == "fused_bn") {
    md["fusion_model_description"] =
        "OT fusion, BatchNorm statistics re-estimated on " + std::to_string(bnBatches) +
        " batches of 128 training images (seed " + std::to_string(s.seed) + ")";
    md["bn_batches"] = std::to_string(bnBatches);
  } else {
    md["fusion_model_description"] = "OT fusion as averaged (no re-estimation)";
  }
  if (auto it = s.accuracy.find(which); it != s.accuracy.end()) {
    md["test_accuracy"] = full(it->second);
    md["test_loss"] = full(s.loss.at(which));
  }
  if (!s.dataset.empty()) md["dataset"] = s.dataset;
  md["arch"] = s.architecture;
  if (s.models.size() == 2) md["fused_from"] = s.models[0] + " (A, aligned) onto " + s.models[1] + " (B, anchor)";
  md["mode"] = toString(s.options.mode);
  md["solver"] = toString(s.options.solver);
  md["t"] = full(s.options.t);
  md["seed"] = std::to_string(s.seed);
  return md;
}

}  // namespace otfuse
