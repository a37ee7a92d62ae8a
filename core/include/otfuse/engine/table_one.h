#pragma once
// The paper's Table-1 row for one fusion: both parents, their prediction ensemble, vanilla
// averaging and OT fusion; for BatchNorm models also both averages after re-estimating the
// BatchNorm statistics (averaged running statistics do not describe averaged weights).
// LibTorch types: for the CLI and the engine, not for Qt code (use engine.h there).
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

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
  /// REPAIR (fusion/methods.h) for networks without BatchNorm: also the rows fused_repair (the
  /// fused model repaired with the aligned parents' statistics) and vanilla_repair (the vanilla
  /// average repaired with the parents' own), statistics over repairBatches x 128 training
  /// images chosen by seed + 1. `aligned` (required then): every parent aligned onto the
  /// anchor, in the models' order (fuse / fuseMany with keepAligned). Ignored for BatchNorm
  /// networks (their correction is the *_bn rows).
  RepairMode repair = RepairMode::None;
  int repairBatches = 10;
  const std::vector<Model>* aligned = nullptr;
};

/// The models of the *_bn and fused_repair rows, when computed.
struct TableOneModels {
  std::optional<Model> fusedBn;       // row fused_bn
  std::optional<Model> sequentialBn;  // row sequential_bn
  std::optional<Model> fusedRepair;   // row fused_repair
};

/// The two-model row (A aligned onto the anchor B): evaluateTableOneMany({a, b}, anchor 1,
/// weights {1 - opt.t, opt.t}), with no sequential row.
/// Fills summary.accuracy / summary.loss with the keys model_0, model_1, ensemble, vanilla
/// (only when A and B have the same architecture), fused, and for BatchNorm models with
/// bnBatches > 0 also vanilla_bn, fused_bn; summary.evaluationSeconds is the fused model's
/// test pass. `train` is called only if the BatchNorm rows need training images. The parents
/// are evaluated first, so the timed pass of the fused model runs on warm thread pools.
/// Returns the models of the fused_bn row (reestimateBatchNorm of `fused`) and of the
/// fused_repair row when they were computed, so that exactly the model whose numbers the table
/// shows can be saved.
TableOneModels evaluateTableOne(const Model& a, const Model& b, const Model& fused,
                                const Dataset& test, const std::function<const Dataset&()>& train,
                                const TableOneOptions& opt, FusionSummary& summary,
                                const ProgressFn& progress = {},
                                const CancelFlag* cancel = nullptr);

/// The N-model Table-1 row. Keys of summary.accuracy / summary.loss: model_0 .. model_{N-1}
/// (each parent, in order), ensemble (all N, opt.ensembleRule), vanilla (only when
/// vanillaIncompatibility(models, anchor) is empty: vanillaAverageMany with `weights`), fused,
/// sequential (only when `sequential` is given, e.g. fuseSequential's model), and for
/// BatchNorm models with opt.bnBatches > 0 the re-estimated rows vanilla_bn, fused_bn and
/// sequential_bn. `weights` are the normalized weights (normalizedWeights); opt.t is ignored.
/// summary.evaluationSeconds is the fused model's test pass (timed after the parents, on warm
/// thread pools). `train` is called only if a BatchNorm row needs training images.
TableOneModels evaluateTableOneMany(const std::vector<Model>& models, int anchor,
                                    const std::vector<double>& weights, const Model& fused,
                                    const Model* sequential, const Dataset& test,
                                    const std::function<const Dataset&()>& train,
                                    const TableOneOptions& opt, FusionSummary& summary,
                                    const ProgressFn& progress = {},
                                    const CancelFlag* cancel = nullptr);

/// A copy of `model` with its BatchNorm running statistics re-estimated on opt.bnBatches
/// batches of 128 training images chosen by opt.seed: the model of the table's *_bn rows.
Model reestimateBatchNorm(const Model& model, const Dataset& train, const TableOneOptions& opt,
                          const CancelFlag* cancel = nullptr);

/// The metadata of a saved fused model: which one it is ("fusion_model": "fused" or
/// "fused_bn", "fusion_model_description" in words), its row of the table when evaluated
/// ("test_accuracy", "test_loss", full precision), "dataset" (so otfuse eval and the app use
/// the same test set by default), "arch", "fused_from", "mode", "solver", "t" (the anchor's
/// weight), "anchor" (its index in summary.models), "weights" (comma-separated, one per model),
/// "seed" and, for fused_bn, "bn_batches". `which` may also be "sequential" or
/// "sequential_bn" (the sequential variant's rows).
std::map<std::string, std::string> fusedModelMetadata(const FusionSummary& summary,
                                                      const std::string& which, int bnBatches);

}  // namespace otfuse
