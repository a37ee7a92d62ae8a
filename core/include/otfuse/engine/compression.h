#pragma once
// Compression: fusing two wide models into a narrower one vs structured magnitude pruning vs a
// narrow model trained from scratch, before and after the same fine-tuning budget (issue 10,
// section 3; the reviewers' question whether OT fusion is a better way to get a small model).
// Torch-free: for the CLI and the app (see engine.h for the threading and progress rules).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "otfuse/engine/engine.h"

namespace otfuse {

/// `model` with every hidden layer cut to `fraction` of its width (models/prune.h: the
/// largest incoming-weight norms kept, residual streams scored together, the output layer
/// untouched). Metadata: "arch", "pruned_from", "kept_width", "dataset" (the source's choice).
/// Throws Error for a fraction outside (0, 1] or an architecture that cannot be narrowed.
ModelPtr pruneModelTo(const ModelPtr& model, double fraction);

/// Empty if `fraction` can prune `model`; otherwise why not (one sentence).
std::string pruneIncompatibility(const ModelHandle& model, double fraction);

struct CompressionRequest {
  /// The wide parents. B is the pruned model and the anchor of fusion; A is aligned onto it.
  ModelPtr a, b;
  /// Kept widths, fractions in (0, 1] of every hidden layer (1 = the wide model).
  std::vector<double> widths = {1.0, 0.75, 0.5, 0.25};
  int finetuneEpochs = 1;  // the same budget for every method (0: no fine-tuning)
  /// Training of the narrow model from scratch; < 0: the parents' budget, read from B's
  /// metadata "epoch" (an error if B does not say).
  int scratchEpochs = -1;
  double learningRate = 0.01;  // fine-tuning and scratch training (SGD, fresh optimizer)
  double momentum = 0.5;
  int batchSize = 64;
  /// Scratch initialization, shuffling, activation samples, BN batches. Note: parents trained
  /// by otfuse train with this seed and the same budget make the 100 % scratch model that very
  /// parent again (same initialization, same batches).
  uint64_t seed = 0;
  long long limit = 0;  // training images used (0 = all); for tests
  std::string dataset;  // empty: the parents' dataset (commonDataset, B first)
  std::string dataDir;
  /// OT fusion of A onto the narrow anchor; options.t is the anchor's weight.
  FusionOptions options;
  int samples = 200;  // activations mode
};

/// Methods, in the order they are computed at each width.
inline const std::vector<std::string>& compressionMethods() {
  static const std::vector<std::string> m = {"fusion", "pruning", "scratch"};
  return m;
}
/// "OT fusion", "pruning", "from scratch".
std::string compressionMethodLabel(const std::string& method);

struct CompressionPoint {
  double width = 1;     // kept fraction
  std::string method;   // "fusion" | "pruning" | "scratch"
  std::string architecture;  // the narrow model's spec
  int64_t parameters = 0;
  double before = -1;   // test accuracy (%) before fine-tuning
  double after = -1;    // after finetuneEpochs epochs; -1 until known
  std::vector<double> curve;  // test accuracy after each fine-tuning epoch
};
/// Called when a point's `before` is known (after = -1) and again when it is complete.
using CompressionPointFn = std::function<void(const CompressionPoint&)>;

struct CompressionResult {
  std::vector<CompressionPoint> points;  // width-major, methods in compressionMethods() order
  double accuracyA = 0, accuracyB = 0;   // the wide parents
  std::string dataset;
  int finetuneEpochs = 0, scratchEpochs = 0;
  double seconds = 0;
  /// The point of (width, method), or nullptr.
  const CompressionPoint* find(double width, const std::string& method) const;
};

/// Checks everything first (Error, nothing computed): widths non-empty, each in (0, 1] and
/// distinct; both models present; B prunable to every width; A fusable onto B; epochs >= 0,
/// scratch epochs known and >= 1. Then for every width w (in the given order):
///   fusion   A aligned onto (the pruned copy of B at w) and averaged with it (weight
///            options.t on the anchor). Why this anchor: it is exactly what the pruning row
///            starts from, so the two rows differ only by what fusion adds from A, and it costs
///            no training (a scratch-trained anchor would mix in the scratch row's budget);
///   pruning  B pruned to w;
///   scratch  a fresh model of the narrow architecture trained scratchEpochs epochs;
/// each evaluated, then fine-tuned finetuneEpochs epochs (a copy, fresh SGD optimizer, seed)
/// and evaluated after every epoch. BatchNorm models: fused and pruned models get their
/// running statistics re-estimated (20 batches) before evaluation and fine-tuning. Progress
/// stages "width W: <what>" with per-batch counts; cancellable between batches (Cancelled).
CompressionResult runCompression(const CompressionRequest& request,
                                 const CompressionPointFn& onPoint = {},
                                 const ProgressFn& progress = {},
                                 const CancelFlag* cancel = nullptr);

}  // namespace otfuse
