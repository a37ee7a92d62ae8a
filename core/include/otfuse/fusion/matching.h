#pragma once
// Permutation alignment (Git Re-Basin's weight matching, activation matching) and REPAIR.
//
// Both matchers give one hard permutation per neuron group (models/model.h), so the layers
// writing one residual stream share a permutation, exactly as OT fusion's maps do. A
// permutation perm[g] (int64 [n_g]) puts A's neuron perm[g][j] at B's position j: A aligned
// has W'[j, :] = W[perm[j], :] on the outputs of every writer of g (bias and BatchNorm vectors
// likewise) and the same re-indexing on the input axis of every reader of g. A aligned is the
// same function as A. The output layer (classes) is never permuted.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "otfuse/fusion/fusion.h"
#include "otfuse/fusion/methods.h"
#include "otfuse/models/model.h"
#include "otfuse/runtime.h"

namespace otfuse {

struct MatchingOptions {
  uint64_t seed = 0;       // weight matching: the random order of the permutations per sweep
  int maxIterations = 100; // weight matching: sweeps over all permutations at most
};

struct MatchingResult {
  /// Per neuron group: int64 [n_g]; undefined for groups nobody writes.
  std::vector<at::Tensor> perms;
  /// Per weight layer, like OT fusion's (fusion/options.h) so the heatmap and matching views
  /// show them: `corrected` is the permutation matrix P (nA x nB, P[perm[j], j] = 1), `plan`
  /// P / n, uniform marginals, `cost` minus the similarity the assignment maximized
  /// (rows A's neurons). Later writers of a residual stream are marked `reused`; the output
  /// layer `identity`.
  std::vector<LayerResult> layers;
  /// Weight matching: the objective (weightMatchingObjective) at the identity, then after
  /// every single permutation update of the coordinate descent, in order. Never decreases.
  std::vector<double> objective;
  int sweeps = 0;  // weight matching: full passes over the permutations
  double seconds = 0;
};

/// Git Re-Basin's weight matching: coordinate descent over the groups' permutations, starting
/// from the identity. Each sweep visits the groups in a random order (seeded); for group g it
/// solves one linear assignment (Jonker-Volgenant, ot/lapjv) maximizing the summed inner
/// products of every weight the permutation touches, the others held fixed: the writers'
/// incoming weights (their inputs re-indexed with the current permutation of the group they
/// read), biases and BatchNorm affine weight and bias, and the readers' weights along their
/// input axis (their outputs re-indexed with the current permutation of the group they write).
/// A new permutation is kept only if it raises the objective; stops after a sweep without any
/// improvement or after maxIterations sweeps. Throws Error unless A and B have one
/// architecture with equal widths.
MatchingResult weightMatching(const Model& a, const Model& b, const MatchingOptions& options = {},
                              const CancelFlag* cancel = nullptr);

/// Activation matching: per group, one linear assignment maximizing the summed correlation
/// of the two models' standardized pre-activations (after BatchNorm, before the nonlinearity)
/// over `samples` (float [K, C, H, W]; conv channels over every sample and position). For a
/// residual stream the pre-activations of all its writers are used together.
MatchingResult activationMatching(const Model& a, const Model& b, const at::Tensor& samples,
                                  const CancelFlag* cancel = nullptr);

/// Sum over every layer of <W_B, W_A aligned> + <b_B, b_A aligned> + BatchNorm affine weight
/// and bias: what weight matching maximizes.
double weightMatchingObjective(const Model& a, const Model& b, const std::vector<at::Tensor>& perms);

/// A with the permutations applied (same function as A).
Model permuteModel(const Model& a, const std::vector<at::Tensor>& perms);

/// N models: every model aligned onto models[anchor] with `method` (pairwise with the
/// anchor), then averaged with `weights` (empty: 1/N each; see normalizedWeights). layers[i]
/// are model i's per-layer maps (empty for the anchor). `samples` for activation matching.
MultiFusionResult matchMany(const std::vector<Model>& models, int anchor,
                            const std::vector<double>& weights, MatchMethod method,
                            const MatchingOptions& options, const at::Tensor& samples = at::Tensor(),
                            const ProgressFn& progress = {}, const CancelFlag* cancel = nullptr);

/// Per-channel pre-activation statistics of every hidden layer (weight layers writing a
/// neuron group), over `inputs` (processed in chunks of `batchSize`): mean and variance
/// (population) per channel, double. Output layer entries are undefined.
struct LayerStatistics {
  std::vector<at::Tensor> mean, var;
};
LayerStatistics preActivationStatistics(const Model& m, const at::Tensor& inputs,
                                        int batchSize = 500);

/// The parents' statistics REPAIR needs, measured once per pair (they do not depend on t):
/// per hidden layer and channel, A aligned's and B's pre-activation mean and variance and
/// their covariance over the same inputs.
struct ParentStatistics {
  LayerStatistics a, b;
  std::vector<at::Tensor> cov;
};
ParentStatistics parentStatistics(const Model& alignedA, const Model& b, const at::Tensor& inputs,
                                  int batchSize = 500);

/// REPAIR (methods.h) of `merged` = (1 - t) alignedA + t B: returns a corrected copy. Every
/// hidden layer's per-channel pre-activation statistics are reset to mean (1 - t) mu_A + t mu_B
/// and std (1 - t) s_A + t s_B (the parents' statistics over `inputs`). Exact: layer by layer
/// in forward order, the merged network (earlier layers already corrected) is run over
/// `inputs` and the channel's affine correction y <- (y - mu) * target_s / s + target_mu is
/// folded into its weights and bias. Layers without a bias cannot be shifted: only their scale
/// is corrected (std target met, mean not). Channels whose std is below 1e-8 are left alone.
/// mode None returns `merged`. Throws Error for BatchNorm networks (re-estimate their BN
/// statistics instead: recalibrateBatchNorm).
Model repairMerged(const Model& merged, const ParentStatistics& parents, double t, RepairMode mode,
                   const at::Tensor& inputs, const CancelFlag* cancel = nullptr);
Model repairMerged(const Model& merged, const Model& alignedA, const Model& b, double t,
                   RepairMode mode, const at::Tensor& inputs, const CancelFlag* cancel = nullptr);

/// REPAIR of `merged` = sum_i weights[i] aligned[i] (weights normalized, N >= 2 parents all
/// aligned onto one anchor, which is its own aligned copy): every hidden layer's per-channel
/// pre-activation mean and std are reset to sum_i w_i mu_i and sum_i w_i s_i of the aligned
/// parents over `inputs`. Exact mode as in repairMerged. Closed form: two parents only (it
/// needs their covariance; then exactly repairMerged with t = weights[1]); Error for more.
/// Throws Error for BatchNorm networks, as repairMerged.
Model repairMergedMany(const Model& merged, const std::vector<Model>& aligned,
                       const std::vector<double>& weights, RepairMode mode,
                       const at::Tensor& inputs, const CancelFlag* cancel = nullptr);

}  // namespace otfuse
