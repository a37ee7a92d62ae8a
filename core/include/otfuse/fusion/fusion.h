#pragma once
// OT fusion of two models (Singh & Jaggi 2020, see shared/docs/ALGORITHM.md) and its baselines.
//
// Model A is aligned onto the anchor B layer by layer: for every weight layer l (forward order)
//   1. past correction: A's input axis is re-indexed with the previous map, W^_A = W_A T~_{l-1}
//      (conv: per kernel position; Linear after a flatten: per spatial slot);
//   2. ground cost M between A's and B's neurons: rows of W^_A and W_B (weights mode) or
//      pre-activation vectors over K shared inputs (activations mode);
//   3. marginals mu, nu; 4. plan T (exact or Sinkhorn); 5. T~ = T diag(1/nu);
//   6. W_F = (1 - t) T~^T W^_A + t W_B; biases and BatchNorm vectors likewise.
// The output layer keeps the identity map unless FusionOptions::otOutputLayer.
// Neuron groups (models/model.h) carry the maps: a layer writing a group that already has a map
// (a residual stream) reuses it, so every layer reading a group sees one map.
// A run is a pure function of (models, samples, options): no hidden randomness.
#include <string>
#include <vector>

#include "otfuse/data/dataset.h"
#include "otfuse/models/model.h"
#include "otfuse/fusion/options.h"
#include "otfuse/runtime.h"

namespace otfuse {

struct FusionResult {
  Model fused;
  std::vector<LayerResult> layers;
  double seconds = 0;  // alignment + averaging
  /// With keepAligned: {A aligned onto B, B}, so that `fused` is (1 - t) aligned[0] + t
  /// aligned[1] (what REPAIR measures, fusion/matching.h; as MultiFusionResult::aligned);
  /// empty otherwise.
  std::vector<Model> aligned;
};

/// Fuses A (aligned) onto B (anchor). `samples` (float [K, C, H, W], normalized) are the shared
/// inputs for activations mode; ignored in weights mode. Progress once per layer; cancellation
/// checked between layers and inside the OT solvers' loops (a large layer stops mid-solve). Throws Error if the models are not fusable (different
/// architecture family / layer structure), Cancelled when cancelled.
FusionResult fuse(const Model& a, const Model& b, const FusionOptions& options,
                  const at::Tensor& samples = at::Tensor(), const ProgressFn& progress = {},
                  const CancelFlag* cancel = nullptr, bool keepAligned = false);

/// N-model fusion: every model is aligned onto models[anchor] layer by layer (each with its
/// own plan; all share the anchor's past, i.e. each model's input axis is re-indexed with its
/// own previous map), then the aligned weights are averaged with `weights` (empty: 1/N each;
/// otherwise N non-negative numbers, normalized to sum 1). Widths may differ (rectangular
/// plans); the anchor sets the result's widths. N = 2 with anchor 1 and weights {1 - t, t}
/// gives exactly fuse(models[0], models[1]) with options.t = t. options.t is ignored.
struct MultiFusionResult {
  Model fused;
  int anchor = 0;
  std::vector<double> weights;  // normalized
  /// layers[i]: model i's plans onto the anchor, one LayerResult per weight layer; empty for
  /// the anchor itself.
  std::vector<std::vector<LayerResult>> layers;
  double seconds = 0;
  /// With keepAligned: every model aligned onto the anchor (aligned[anchor] is the anchor), so
  /// that `fused` is the weighted average of these; empty otherwise. They share the inputs'
  /// tensors where alignment leaves an entry as it is: read-only.
  std::vector<Model> aligned;
};
MultiFusionResult fuseMany(const std::vector<Model>& models, int anchor,
                           const std::vector<double>& weights, const FusionOptions& options,
                           const at::Tensor& samples = at::Tensor(),
                           const ProgressFn& progress = {}, const CancelFlag* cancel = nullptr,
                           bool keepAligned = false);

/// The sequential variant, for comparison: starting from the anchor, fold in the other models
/// one at a time in order, F <- fuse(model_i onto F) with t = (weight of F so far) / (that +
/// w_i). layers[i] are model i's plans onto the running fusion.
MultiFusionResult fuseSequential(const std::vector<Model>& models, int anchor,
                                 const std::vector<double>& weights, const FusionOptions& options,
                                 const at::Tensor& samples = at::Tensor(),
                                 const ProgressFn& progress = {},
                                 const CancelFlag* cancel = nullptr);

/// Empty if A can be aligned onto B; else a sentence saying which layer or shape differs.
std::string fusionIncompatibility(const Model& a, const Model& b);

/// Vanilla averaging (1 - t) A + t B of every tensor; throws Error unless shapes are equal.
Model vanillaAverage(const Model& a, const Model& b, double t = 0.5);

/// A with layers 1..l aligned to B's neuron order by `result`'s maps (and layer l+1's input
/// re-indexed), for l = 0..L-1: the "progressive alignment" models. Functionally A when every
/// map is a permutation.
std::vector<Model> progressiveAlignment(const Model& a, const FusionResult& result);

/// K normalized training images chosen by a seeded permutation (for activations mode).
at::Tensor sampleInputs(const Dataset& train, int count, uint64_t seed);

}  // namespace otfuse
