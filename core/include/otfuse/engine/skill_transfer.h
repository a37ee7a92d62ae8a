#pragma once
// The paper's skill-transfer experiment (Singh & Jaggi 2020, Section 5.1) as one call: two
// models trained on the personalised split of the training set (A: every image of a special
// class plus a fraction p of each other class; B: the rest, never the special class), then A
// fused onto B at several weights t of B. Torch-free (plain C++/Eigen), for the CLI and the app.
//
// Threads: runSkillTransfer may be called from any thread (meant for a worker); progress is
// reported on the calling thread; it throws otfuse::Cancelled soon after `cancel` is set
// (between training batches, fusion layers and evaluation batches).
#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <vector>

#include "otfuse/engine/engine.h"
#include "otfuse/fusion/options.h"
#include "otfuse/runtime.h"

namespace otfuse {

struct SkillTransferRequest {
  std::string arch = "mlpnet";  // any `otfuse train --arch` spec
  std::string dataset = "mnist";
  std::string dataDir;          // "" = default resolution
  int specialClass = 4;         // the paper code's defaults: class 4, p = 10 %
  double fraction = 0.1;
  /// Training of both parents: SGD as `otfuse train` (no augmentation).
  int epochs = 10;
  int batchSize = 64;
  double learningRate = 0.01;
  double momentum = 0.5;
  long long limit = 0;  // split only the first `limit` training images (0 = all)
  /// Repetitions: for seed s = firstSeed .. firstSeed + seeds - 1 the split takes seed s,
  /// model A is initialised and shuffled with seed 2s, model B with 2s + 1.
  int seeds = 1;
  uint64_t firstSeed = 0;
  /// Weights of B (the anchor) for vanilla averaging and OT fusion; the paper weights towards
  /// B, which saw most of the data.
  std::vector<double> ts = {0.5, 0.7, 0.9};
  FusionOptions options;  // options.t is ignored (see ts)
  int samples = 200;      // activations mode: training images sampled (seeded with s)
  bool probabilityEnsemble = false;
  /// Trained parents are stored here and reused when the same file name comes up again (the
  /// name encodes every training setting); "" = no cache.
  std::string cacheDir;
};

/// One number over the seeds: mean and sample standard deviation (n - 1; 0 for one seed).
struct SeedStat {
  std::vector<double> values;  // one per seed, in seed order
  double mean = 0, std = 0;
};
SeedStat seedStat(const std::vector<double>& values);

struct SkillTransferRow {
  std::string key;    // "A", "B", "ensemble", "vanilla", "fused"
  std::string label;  // "model A", "OT fusion, t = 0.7", ...
  double t = -1;      // weight of B (vanilla and fused rows); -1 for the others
  SeedStat overall;   // test accuracy, percent
  SeedStat special;   // accuracy on the special class's test images
  SeedStat others;    // accuracy on the test images of every other class
  std::vector<SeedStat> perClass;  // per class (mean over seeds; NaN-free when every class
                                   // has test images)
  Eigen::MatrixXi confusion;       // summed over the seeds (rows: true class)
};

struct SkillTransferResult {
  SkillTransferRequest request;
  std::vector<uint64_t> seeds;
  std::vector<std::string> classes;  // dataset class names
  int64_t trainImages = 0;           // images split (after limit)
  int64_t trainSizeA = 0, trainSizeB = 0;  // of each part (the same for every seed)
  int64_t specialTestImages = 0;
  int64_t testImages = 0;
  /// Rows in order: A, B, ensemble, then for each t vanilla (when A and B have one shape)
  /// and fused.
  std::vector<SkillTransferRow> rows;
  /// Paths of the parents per seed {A, B} when cached ("" otherwise), and whether each was
  /// loaded from the cache instead of trained.
  std::vector<std::vector<std::string>> parentFiles;
  int parentsLoaded = 0, parentsTrained = 0;
  double seconds = 0;
};

/// Runs the whole experiment. Progress stages: "seed k/K: train A|B" (per batch), "seed k/K:
/// fuse t = x", "seed k/K: evaluate ...". Throws Error for bad settings (special class out of
/// range, fraction outside [0, 1], no t, t outside [0, 1], seeds < 1, epochs < 1), FileError
/// when the dataset or a cached file cannot be read or written.
SkillTransferResult runSkillTransfer(const SkillTransferRequest& request,
                                     const ProgressFn& progress = {},
                                     const CancelFlag* cancel = nullptr);

/// JSON: {"scenario": "skill-transfer", "settings": {...}, "seeds": [...], "classes": [...],
/// "train_images", "train_size": {"A", "B"}, "test_images", "special_test_images",
/// "rows": [{"key", "label", "t" (null for A/B/ensemble), "overall": {"mean", "std",
/// "values"}, "special": {...}, "others": {...}, "per_class": {"mean": [...], "std": [...]},
/// "confusion": [[...]...] (summed over seeds)}], "seconds"}.
std::string skillTransferJson(const SkillTransferResult& result);

}  // namespace otfuse
