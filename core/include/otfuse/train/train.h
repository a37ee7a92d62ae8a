#pragma once
// Training a parent model and evaluating models (and prediction ensembles) on a dataset.
#include <Eigen/Core>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "otfuse/data/dataset.h"
#include "otfuse/models/model.h"
#include "otfuse/runtime.h"

namespace otfuse {

struct TrainOptions {
  int epochs = 10;
  int batchSize = 64;
  double learningRate = 0.01;
  double momentum = 0.5;  // the paper's MNIST setting; CIFAR-10 runs use 0.9
  double weightDecay = 0.0;
  /// "constant", "step" (x0.1 at 50 % and 75 % of the epochs) or "cosine".
  std::string schedule = "constant";
  /// Random crop with 4-pixel zero padding + horizontal flip (3-channel 32x32 data only).
  bool augment = true;
  uint64_t seed = 0;
  /// Use only the first n training images (0 = all); for tests and quick demos.
  int64_t limit = 0;
};

struct EpochResult {
  int epoch = 0;             // 1-based
  double trainLoss = 0;      // mean over the epoch's batches
  double testAccuracy = -1;  // percent, -1 if no test set given
  double testLoss = -1;
  double learningRate = 0;  // the rate used in this epoch
};
/// Called on the training thread after each epoch (and its test evaluation).
using EpochFn = std::function<void(const EpochResult&)>;

/// Trains `model` in place with SGD (momentum, weight decay) on `train`; deterministic for a
/// given seed on one machine and thread count. After each epoch evaluates on `test` if it is
/// non-empty. Progress per batch; cancellable between batches (throws Cancelled).
std::vector<EpochResult> trainModel(Model& model, const Dataset& train, const Dataset* test,
                                    const TrainOptions& options, const ProgressFn& progress = {},
                                    const CancelFlag* cancel = nullptr,
                                    const EpochFn& onEpoch = {});

/// Learning rate of epoch `epoch` (0-based) of `epochs` under options.schedule; throws
/// otfuse::Error for an unknown schedule.
double scheduledLearningRate(const TrainOptions& options, int epoch);

struct EvalResult {
  double accuracy = 0;  // percent
  double loss = 0;      // mean cross-entropy (for ensembles: NLL of the averaged prediction)
  int64_t count = 0;
  /// Confusion matrix, classes x classes (classes = the model's number of outputs): entry
  /// (i, j) counts the test images of true class i predicted as class j. Its sum is `count`,
  /// its trace the number of correct predictions, row i sums to the images of class i.
  Eigen::MatrixXi confusion;

  /// Percent of the images of each class predicted correctly (size = classes); NaN for a class
  /// without test images. The mean weighted by the class counts is `accuracy`.
  std::vector<double> perClassAccuracy() const;
};

/// Test accuracy, mean cross-entropy and confusion matrix, batched, no grad, eval mode.
EvalResult evaluate(const Model& model, const Dataset& data, int batchSize = 1000,
                    const ProgressFn& progress = {}, const CancelFlag* cancel = nullptr);

/// Re-estimates the BatchNorm running statistics of `model` in place: resets them, then
/// accumulates the exact average of the batch statistics over `batches` training batches
/// (seeded choice of images, no augmentation, no gradient). Averaged statistics are wrong for
/// averaged weights (shared/docs/ALGORITHM.md), so fused BN models need this. No-op without BN.
void recalibrateBatchNorm(Model& model, const Dataset& train, int batches = 20,
                          int batchSize = 128, uint64_t seed = 0,
                          const CancelFlag* cancel = nullptr);

enum class EnsembleRule {
  LogSoftmaxMean,   // mean of log-softmax outputs (the paper's code; geometric mean of probs)
  ProbabilityMean,  // mean of softmax probabilities
};

/// Prediction ensemble of N models (same dataset input shape, same number of classes).
EvalResult evaluateEnsemble(const std::vector<Model>& models, const Dataset& data,
                            EnsembleRule rule = EnsembleRule::LogSoftmaxMean, int batchSize = 1000,
                            const ProgressFn& progress = {}, const CancelFlag* cancel = nullptr);

}  // namespace otfuse
