#include "otfuse/engine/table_one.h"

#include <chrono>
#include <optional>
#include <string>

#include "otfuse/fusion/fusion.h"

namespace otfuse {

void evaluateTableOne(const Model& a, const Model& b, const Model& fused, const Dataset& test,
                      const std::function<const Dataset&()>& train, const TableOneOptions& opt,
                      FusionSummary& summary, const ProgressFn& progress,
                      const CancelFlag* cancel) {
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

  if (!fused.hasBatchNorm() || opt.bnBatches <= 0 || !train) return;
  const Dataset& trainSet = train();
  Model recalibrated = fused.clone();
  recalibrateBatchNorm(recalibrated, trainSet, opt.bnBatches, 128, opt.seed, cancel);
  record("fused_bn", evaluate(recalibrated, test, bs,
                              withStage(progress, "evaluate OT fusion + BN re-estimation"), cancel));
  if (vanilla) {
    recalibrateBatchNorm(*vanilla, trainSet, opt.bnBatches, 128, opt.seed, cancel);
    record("vanilla_bn", evaluate(*vanilla, test, bs,
                                  withStage(progress, "evaluate vanilla + BN re-estimation"), cancel));
  }
}

}  // namespace otfuse
