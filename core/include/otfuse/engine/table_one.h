#pragma once
// The paper's Table-1 row for one fusion: both parents, their prediction ensemble, vanilla
// averaging and OT fusion; for BatchNorm models also both averages after re-estimating the
// BatchNorm statistics (averaged running statistics do not describe averaged weights).
// LibTorch types: for the CLI and the engine, not for Qt code (use engine.h there).
#include <cstdint>
#include <functional>

#include "otfuse/data/dataset.h"
#include "otfuse/fusion/report.h"
#include "otfuse/models/model.h"
#include "otfuse/runtime.h"
#include "otfuse/train/train.h"

namespace otfuse {

struct TableOneOptions {
  EnsembleRule ensembleRule = EnsembleRule::LogSoftmaxMean;
  double t = 0.5;      // weight of B in the vanilla average (as in the fusion)
  int bnBatches = 20;  // BatchNorm re-estimation: batches of 128 training images; 0 = skip
  uint64_t seed = 0;   // which training batches the re-estimation uses
  int batchSize = 1000;
};

/// Fills summary.accuracy / summary.loss with the keys model_0, model_1, ensemble, vanilla
/// (only when A and B have the same architecture), fused, and for BatchNorm models with
/// bnBatches > 0 also vanilla_bn, fused_bn; summary.evaluationSeconds is the fused model's
/// test pass. `train` is called only if the BatchNorm rows need training images. The parents
/// are evaluated first, so the timed pass of the fused model runs on warm thread pools.
void evaluateTableOne(const Model& a, const Model& b, const Model& fused, const Dataset& test,
                      const std::function<const Dataset&()>& train, const TableOneOptions& opt,
                      FusionSummary& summary, const ProgressFn& progress = {},
                      const CancelFlag* cancel = nullptr);

}  // namespace otfuse
