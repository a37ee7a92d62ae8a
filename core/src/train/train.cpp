// Training a parent model with SGD and evaluating models and prediction ensembles.
//
// Inputs are normalized in whole batches (never per sample). Without augmentation the
// training split is normalized once into a float copy and batches are gathered from it; with
// augmentation each batch is gathered from the raw uint8 images, cropped/flipped with one
// indexing operation, then normalized. Shuffling and augmentation draw from one CPU generator
// seeded with options.seed, so a run is reproducible on one machine and thread count.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim/sgd.h>

#include <cmath>
#include <sstream>

#include "otfuse/error.h"
#include "otfuse/train/train.h"

namespace otfuse {
namespace {

// (x / 255 - mean) / std per channel, as torchvision's ToTensor + Normalize; x uint8 [n,C,H,W].
at::Tensor normalizeBatch(const Dataset& data, const at::Tensor& raw) {
  const int64_t c = raw.size(1);
  if (int64_t(data.mean.size()) != c || int64_t(data.std.size()) != c) {
    throw Error("dataset " + data.name + " has " + std::to_string(c) +
                " channels but normalization constants for " + std::to_string(data.mean.size()));
  }
  at::Tensor mean = at::tensor(data.mean, at::kFloat).view({1, c, 1, 1});
  at::Tensor stdev = at::tensor(data.std, at::kFloat).view({1, c, 1, 1});
  at::Tensor x = raw.to(at::kFloat).div_(255.0);
  return x.sub_(mean).div_(stdev);
}

void checkFits(const Model& model, const Dataset& data) {
  const Architecture& a = model.architecture();
  if (!data.images.defined() || data.images.dim() != 4 || !data.labels.defined() ||
      data.labels.dim() != 1 || data.labels.size(0) != data.images.size(0)) {
    throw Error("dataset " + data.name + " (" + data.source + ") holds no usable images/labels");
  }
  if (data.channels() != a.inChannels || data.height() != a.inHeight || data.width() != a.inWidth) {
    std::ostringstream os;
    os << "architecture " << a.name << " takes " << a.inChannels << "x" << a.inHeight << "x"
       << a.inWidth << " images but dataset " << data.name << " has " << data.channels() << "x"
       << data.height() << "x" << data.width();
    throw Error(os.str());
  }
  if (int64_t(data.classes.size()) > a.numClasses) {
    throw Error("dataset " + data.name + " has " + std::to_string(data.classes.size()) +
                " classes but " + a.name + " predicts " + std::to_string(a.numClasses));
  }
}

// Sets requires_grad on the trained tensors for the lifetime of the guard.
class GradGuard {
 public:
  explicit GradGuard(std::vector<at::Tensor> params) : params_(std::move(params)) {
    for (auto& p : params_) p.requires_grad_(true);
  }
  ~GradGuard() {
    for (auto& p : params_) {
      p.mutable_grad() = at::Tensor();
      p.requires_grad_(false);
    }
  }
  GradGuard(const GradGuard&) = delete;
  GradGuard& operator=(const GradGuard&) = delete;
  const std::vector<at::Tensor>& params() const { return params_; }

 private:
  std::vector<at::Tensor> params_;
};

// Random crop of 32x32 (any HxW) from the image zero-padded by 4 pixels, plus a horizontal
// flip with probability 1/2, for a whole uint8 batch [B,C,H,W] in one gather.
at::Tensor augmentBatch(const at::Tensor& raw, at::Generator& gen) {
  constexpr int64_t pad = 4;
  const int64_t b = raw.size(0), c = raw.size(1), h = raw.size(2), w = raw.size(3);
  at::Tensor padded = at::constant_pad_nd(raw, {pad, pad, pad, pad}, 0);
  at::Tensor oy = at::randint(0, 2 * pad + 1, {b, 1}, gen, at::kLong);
  at::Tensor ox = at::randint(0, 2 * pad + 1, {b, 1}, gen, at::kLong);
  at::Tensor flip = at::randint(0, 2, {b, 1}, gen, at::kLong).to(at::kBool);
  at::Tensor ry = at::arange(h, at::kLong).view({1, h});
  at::Tensor rx = at::arange(w, at::kLong).view({1, w});
  at::Tensor rows = oy + ry;                                 // [B, H]
  at::Tensor cols = ox + at::where(flip, (w - 1) - rx, rx);  // [B, W]
  at::Tensor bi = at::arange(b, at::kLong).view({b, 1, 1, 1});
  at::Tensor ci = at::arange(c, at::kLong).view({1, c, 1, 1});
  return at::index(padded, {bi, ci, rows.view({b, 1, h, 1}), cols.view({b, 1, 1, w})});
}

void reportProgress(const ProgressFn& progress, const std::string& stage, long long done,
                    long long total, const std::string& message = "") {
  if (!progress) return;
  Progress p;
  p.stage = stage;
  p.done = done;
  p.total = total;
  p.message = message;
  progress(p);
}

std::string lossText(double loss) {
  std::ostringstream os;
  os.precision(4);
  os << "loss " << loss;
  return os.str();
}

}  // namespace

double scheduledLearningRate(const TrainOptions& o, int epoch) {
  const double epochs = std::max(1, o.epochs);
  if (o.schedule == "constant") return o.learningRate;
  if (o.schedule == "step") {
    double lr = o.learningRate;
    if (epoch >= 0.5 * epochs) lr *= 0.1;
    if (epoch >= 0.75 * epochs) lr *= 0.1;
    return lr;
  }
  if (o.schedule == "cosine") return o.learningRate * 0.5 * (1.0 + std::cos(M_PI * epoch / epochs));
  throw Error("unknown learning-rate schedule '" + o.schedule +
              "' (known: constant, step, cosine)");
}

std::vector<EpochResult> trainModel(Model& model, const Dataset& train, const Dataset* test,
                                    const TrainOptions& options, const ProgressFn& progress,
                                    const CancelFlag* cancel, const EpochFn& onEpoch) {
  if (options.epochs < 1) throw Error("the number of epochs must be at least 1");
  if (options.batchSize < 1) throw Error("the batch size must be at least 1");
  if (!(options.learningRate > 0) || !std::isfinite(options.learningRate))
    throw Error("the learning rate must be a positive number");
  if (!(options.momentum >= 0) || !(options.weightDecay >= 0))
    throw Error("momentum and weight decay must be non-negative");
  if (options.limit < 0) throw Error("--limit must be non-negative");
  scheduledLearningRate(options, 0);  // validates the schedule name
  checkFits(model, train);
  if (test && test->size() > 0) checkFits(model, *test);

  const int64_t n =
      options.limit > 0 ? std::min<int64_t>(options.limit, train.size()) : train.size();
  if (n == 0) throw Error("the training set " + train.name + " is empty");
  const bool augment =
      options.augment && train.channels() == 3 && train.height() == 32 && train.width() == 32;

  at::Tensor rawImages = train.images.slice(0, 0, n).contiguous();
  at::Tensor labels = train.labels.slice(0, 0, n).to(at::kLong).contiguous();
  at::Tensor inputs;  // normalized float copy, when not augmenting
  if (!augment) inputs = normalizeBatch(train, rawImages);

  auto gen = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  GradGuard grads(model.parameters());
  torch::optim::SGD sgd(grads.params(), torch::optim::SGDOptions(options.learningRate)
                                            .momentum(options.momentum)
                                            .weight_decay(options.weightDecay));

  const int64_t batches = (n + options.batchSize - 1) / options.batchSize;
  std::vector<EpochResult> results;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    const double lr = scheduledLearningRate(options, epoch);
    for (auto& group : sgd.param_groups())
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
    const std::string stage =
        "train epoch " + std::to_string(epoch + 1) + "/" + std::to_string(options.epochs);
    at::Tensor order;
    {
      at::NoGradGuard noGrad;
      order = at::randperm(n, gen, at::kLong);
    }
    double lossSum = 0;
    for (int64_t bIndex = 0; bIndex < batches; ++bIndex) {
      throwIfCancelled(cancel);
      at::Tensor idx = order.slice(0, bIndex * options.batchSize,
                                   std::min<int64_t>(n, (bIndex + 1) * options.batchSize));
      at::Tensor x, y = labels.index_select(0, idx);
      {
        at::NoGradGuard noGrad;
        if (augment) {
          x = normalizeBatch(train, augmentBatch(rawImages.index_select(0, idx), gen));
        } else {
          x = inputs.index_select(0, idx);
        }
      }
      sgd.zero_grad();
      at::Tensor logits = model.forwardTrain(x);
      at::Tensor loss = at::cross_entropy_loss(logits, y);
      loss.backward();
      sgd.step();
      const double value = loss.item<double>();
      if (!std::isfinite(value)) {
        throw Error("training diverged (loss is " + std::to_string(value) + " in epoch " +
                    std::to_string(epoch + 1) + "); try a smaller learning rate");
      }
      lossSum += value;
      reportProgress(progress, stage, bIndex + 1, batches, lossText(lossSum / double(bIndex + 1)));
    }
    EpochResult r;
    r.epoch = epoch + 1;
    r.trainLoss = lossSum / double(batches);
    r.learningRate = lr;
    if (test && test->size() > 0) {
      EvalResult e = evaluate(model, *test, 1000, progress, cancel);
      r.testAccuracy = e.accuracy;
      r.testLoss = e.loss;
    }
    results.push_back(r);
    if (onEpoch) onEpoch(r);
  }
  return results;
}

EvalResult evaluate(const Model& model, const Dataset& data, int batchSize,
                    const ProgressFn& progress, const CancelFlag* cancel) {
  return evaluateEnsemble({model}, data, EnsembleRule::LogSoftmaxMean, batchSize, progress, cancel);
}

EvalResult evaluateEnsemble(const std::vector<Model>& models, const Dataset& data,
                            EnsembleRule rule, int batchSize, const ProgressFn& progress,
                            const CancelFlag* cancel) {
  if (models.empty()) throw Error("no models to evaluate");
  if (batchSize < 1) throw Error("the batch size must be at least 1");
  for (const auto& m : models) checkFits(m, data);
  const int64_t classes = models.front().architecture().numClasses;
  for (const auto& m : models) {
    if (m.architecture().numClasses != classes)
      throw Error("the models of an ensemble must predict the same number of classes");
  }
  at::NoGradGuard noGrad;
  const int64_t n = data.size();
  const int64_t batches = (n + batchSize - 1) / batchSize;
  const std::string stage = models.size() > 1 ? "evaluate ensemble" : "evaluate";
  at::Tensor labels = data.labels.to(at::kLong);
  double lossSum = 0;
  int64_t correct = 0;
  // Confusion counts accumulate in one tensor (a bincount of true * classes + predicted per
  // batch) and are copied out once at the end.
  at::Tensor confusion = at::zeros({classes * classes}, at::kLong);
  for (int64_t b = 0; b < batches; ++b) {
    throwIfCancelled(cancel);
    const int64_t begin = b * batchSize, end = std::min<int64_t>(n, begin + batchSize);
    at::Tensor x = normalizeBatch(data, data.images.slice(0, begin, end));
    at::Tensor y = labels.slice(0, begin, end);
    at::Tensor out;  // log of the (ensemble) prediction, [B, classes]
    if (models.size() == 1) {
      out = at::log_softmax(models.front().forward(x), 1);
    } else {
      std::vector<at::Tensor> logs;
      for (const auto& m : models) logs.push_back(at::log_softmax(m.forward(x), 1));
      at::Tensor stacked = at::stack(logs, 0);
      if (rule == EnsembleRule::LogSoftmaxMean) {
        out = stacked.mean(0);
      } else {
        out = at::logsumexp(stacked, {0}) - std::log(double(models.size()));
      }
    }
    lossSum += at::nll_loss(out, y, {}, at::Reduction::Sum).item<double>();
    at::Tensor predicted = out.argmax(1);
    correct += predicted.eq(y).sum().item<int64_t>();
    confusion.add_(at::bincount(y * classes + predicted, {}, classes * classes));
    reportProgress(progress, stage, b + 1, batches);
  }
  EvalResult r;
  r.count = n;
  r.confusion.resize(int(classes), int(classes));
  const int64_t* counts = confusion.data_ptr<int64_t>();
  for (int64_t i = 0; i < classes; ++i)
    for (int64_t j = 0; j < classes; ++j) r.confusion(int(i), int(j)) = int(counts[i * classes + j]);
  r.accuracy = n > 0 ? 100.0 * double(correct) / double(n) : 0.0;
  r.loss = n > 0 ? lossSum / double(n) : 0.0;
  return r;
}

std::vector<double> EvalResult::perClassAccuracy() const {
  std::vector<double> out(size_t(confusion.rows()), std::nan(""));
  for (Eigen::Index i = 0; i < confusion.rows(); ++i) {
    const long long total = confusion.row(i).cast<long long>().sum();
    if (total > 0) out[size_t(i)] = 100.0 * double(confusion(i, i)) / double(total);
  }
  return out;
}

void recalibrateBatchNorm(Model& model, const Dataset& train, int batches, int batchSize,
                          uint64_t seed, const CancelFlag* cancel) {
  if (!model.hasBatchNorm()) return;
  checkFits(model, train);
  if (batches < 1 || batchSize < 1) throw Error("BatchNorm re-estimation needs at least one batch");
  at::NoGradGuard noGrad;
  for (const auto& l : model.architecture().layers) {
    if (l.perNeuron.empty()) continue;
    model.state().at(l.perNeuron[2]).zero_();
    model.state().at(l.perNeuron[3]).fill_(1.0);
  }
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor order = at::randperm(train.size(), gen, at::kLong);
  const int64_t per = std::min<int64_t>(batchSize, train.size());
  for (int b = 0; b < batches; ++b) {
    throwIfCancelled(cancel);
    const int64_t begin = (int64_t(b) * per) % train.size();
    const int64_t end = std::min<int64_t>(train.size(), begin + per);
    at::Tensor x = normalizeBatch(train, train.images.index_select(0, order.slice(0, begin, end)));
    // momentum 1/(b+1): the running statistics become the plain mean over the batches seen.
    model.forwardTrain(x, 1.0 / double(b + 1));
  }
}

}  // namespace otfuse
