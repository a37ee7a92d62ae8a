#pragma once
// Fine-tuning after fusion (issue 10, section 1): continue training any model from its
// weights, and the paper's comparison "OT fusion vs vanilla averaging, both fine-tuned with the
// same budget", with the parents and their ensemble as reference lines.
//
// Torch-free (the desktop app includes it); the implementation is core/src/engine/finetune.cpp.
// Model-level variants for the command line are in otfuse/engine/finetune_models.h.
//
// Fine-tuning is otfuse::trainModel on a copy of the model: SGD with a fresh optimizer state
// (momentum buffers start at zero), the learning-rate schedule restarted, the data order drawn
// from `seed` (so two models fine-tuned with the same request see the same batches in the same
// order). BatchNorm: a model starts with the running statistics it has (for a fused BatchNorm
// model the comparison starts from the re-estimated ones, rows fused_bn / vanilla_bn) and
// training updates them as PyTorch's train mode does (running average, momentum 0.1); they
// are not re-estimated again after fine-tuning, since after an epoch of training they already
// describe the trained weights.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "otfuse/engine/engine.h"

namespace otfuse {

/// The training options of `otfuse train` (same defaults) plus where the data comes from.
struct FinetuneRequest {
  std::string dataset;  // "mnist", ...; empty = the model's own (ModelHandle::dataset)
  std::string dataDir;
  int epochs = 5;
  int batchSize = 64;
  double learningRate = 0.01;
  double momentum = 0.5;
  double weightDecay = 0.0;
  std::string schedule = "constant";  // constant | step | cosine
  bool augment = true;                // random crop/flip, 3x32x32 data only
  uint64_t seed = 0;                  // data order (and augmentation)
  long long limit = 0;                // first n training images (0 = all)
  long long testLimit = 0;            // first n test images for the curves (0 = all; tests)
};

/// One point of a fine-tuning curve. Epoch 0 is the model before fine-tuning (trainLoss and
/// learningRate are then NaN and 0).
struct FinetunePoint {
  int epoch = 0;
  double trainLoss = 0;  // mean over the epoch's batches
  double accuracy = 0;   // test accuracy, percent
  double loss = 0;       // test loss (mean cross-entropy)
  double learningRate = 0;
};
using FinetunePointFn = std::function<void(const FinetunePoint&)>;

struct FinetuneResult {
  ModelPtr model;                     // a NEW handle: the input is never changed
  std::vector<FinetunePoint> points;  // epochs 0..N
};

/// Fine-tunes a copy of `model` (throws Error for bad options, FileError for a missing
/// dataset, Cancelled when `cancel` is set; the input handle stays untouched either way).
/// `onPoint` is called for epoch 0 and after every epoch, on the calling thread. The result's
/// metadata: the input's, with "epoch" (fine-tuning epochs), "test_accuracy", "test_loss",
/// "dataset", "finetuned_from" (the input's path, or its fusion_model) updated.
FinetuneResult finetuneModel(const ModelPtr& model, const FinetuneRequest& request,
                             const ProgressFn& progress = {}, const CancelFlag* cancel = nullptr,
                             const FinetunePointFn& onPoint = {});

/// A reference line of the comparison (parents, ensemble).
struct FinetuneReference {
  std::string key;    // "model_0", ..., "ensemble"
  std::string label;  // "model A", "model B", "model 2", "prediction ensemble"
  Score score;
};

/// The paper's fine-tuning comparison.
struct FinetuneComparison {
  /// Series "fused" (OT fusion) and "vanilla" (vanilla average; absent when the widths
  /// differ): epochs 0..N with the same request (same epochs, learning rates, seed, data).
  std::map<std::string, std::vector<FinetunePoint>> series;
  /// Which row of the fusion table each series starts from: "fused" / "fused_bn",
  /// "vanilla" / "vanilla_bn" (BatchNorm models start from the re-estimated statistics).
  std::map<std::string, std::string> startRow;
  std::vector<FinetuneReference> references;  // every parent, then the ensemble
  std::map<std::string, ModelPtr> finalModels;  // per series, after the last epoch
  FinetuneRequest request;
};
/// `series` is "fused" or "vanilla".
using FinetuneSeriesFn = std::function<void(const std::string& series, const FinetunePoint&)>;

/// Fine-tunes the OT-fused model and the vanilla average of `outcome` (the result of
/// runFusion(fusion)) with the same request, one after the other (first "fused", epochs 0..N,
/// then "vanilla"), and evaluates the parents of `fusion` and their prediction ensemble on the
/// same test set (references, reported before any point). request.dataset empty = the
/// fusion's dataset. BatchNorm models start from fused_bn / vanilla_bn when computed (else
/// their statistics are re-estimated here with fusion.bnBatches and fusion.seed, as the table
/// does). Progress stages: "fine-tune OT fusion: train epoch k/N", "fine-tune vanilla: ...",
/// "evaluate ...".
FinetuneComparison compareFinetuning(const FusionRequest& fusion, const FusionOutcome& outcome,
                                     const FinetuneRequest& request,
                                     const FinetuneSeriesFn& onPoint = {},
                                     const ProgressFn& progress = {},
                                     const CancelFlag* cancel = nullptr,
                                     const std::function<void(const FinetuneReference&)>&
                                         onReference = {});

/// Mean and sample standard deviation (n - 1 in the denominator; 0 for one value).
struct MeanStd {
  double mean = 0, std = 0;
  int count = 0;
};
MeanStd meanStd(const std::vector<double>& values);

}  // namespace otfuse
