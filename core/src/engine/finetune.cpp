// Fine-tuning after fusion: see otfuse/engine/finetune.h and finetune_models.h.
#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "engine/engine_internal.h"
#include "otfuse/engine/finetune.h"
#include "otfuse/engine/finetune_models.h"
#include "otfuse/engine/table_one.h"
#include "otfuse/error.h"
#include "otfuse/text.h"

namespace otfuse {
namespace {

// A new handle for `model`, with everything else (architecture, layers, shapes) taken from
// `like`: fine-tuning never changes the shapes.
std::shared_ptr<ModelHandle> handleLike(const ModelHandle& like, Model model, const std::string& format) {
  auto h = std::make_shared<ModelHandle>(like);
  h->path.clear();
  h->format = format;
  h->model = std::make_shared<const Model>(std::move(model));
  return h;
}

std::string datasetOf(const FinetuneRequest& r, const ModelHandle& m) {
  return r.dataset.empty() ? m.dataset.name : r.dataset;
}

}  // namespace

TrainOptions trainOptionsOf(const FinetuneRequest& r) {
  TrainOptions o;
  o.epochs = r.epochs;
  o.batchSize = r.batchSize;
  o.learningRate = r.learningRate;
  o.momentum = r.momentum;
  o.weightDecay = r.weightDecay;
  o.schedule = r.schedule;
  o.augment = r.augment;
  o.seed = r.seed;
  o.limit = r.limit;
  return o;
}

Dataset firstImages(const Dataset& data, long long n) {
  if (n <= 0 || n >= data.size()) return data;
  Dataset d = data;
  d.images = data.images.slice(0, 0, n);
  d.labels = data.labels.slice(0, 0, n);
  return d;
}

std::vector<FinetunePoint> finetuneInPlace(Model& model, const Dataset& train,
                                           const Dataset& test, const TrainOptions& options,
                                           const ProgressFn& progress, const CancelFlag* cancel,
                                           const FinetunePointFn& onPoint,
                                           const std::function<void(int)>& afterEpoch) {
  // Options are checked before the epoch-0 evaluation, so a typo costs nothing.
  if (options.epochs < 1) throw Error("the number of fine-tuning epochs must be at least 1");
  if (options.batchSize < 1) throw Error("the batch size must be at least 1");
  if (!(options.learningRate > 0) || !std::isfinite(options.learningRate))
    throw Error("the learning rate must be a positive number");
  scheduledLearningRate(options, 0);  // validates the schedule
  if (test.size() == 0) throw Error("the test set " + test.name + " is empty");

  std::vector<FinetunePoint> points;
  {
    const EvalResult e = evaluate(model, test, 1000, withStage(progress, "evaluate before fine-tuning"), cancel);
    FinetunePoint p;
    p.epoch = 0;
    p.trainLoss = std::numeric_limits<double>::quiet_NaN();
    p.accuracy = e.accuracy;
    p.loss = e.loss;
    points.push_back(p);
    if (onPoint) onPoint(p);
  }
  // trainModel builds a fresh SGD optimizer (zero momentum buffers) on every call, and runs
  // BatchNorm layers in train mode (running statistics updated with momentum 0.1).
  trainModel(model, train, &test, options, progress, cancel, [&](const EpochResult& r) {
    FinetunePoint p;
    p.epoch = r.epoch;
    p.trainLoss = r.trainLoss;
    p.accuracy = r.testAccuracy;
    p.loss = r.testLoss;
    p.learningRate = r.learningRate;
    points.push_back(p);
    if (onPoint) onPoint(p);
    if (afterEpoch) afterEpoch(r.epoch);
  });
  return points;
}

std::map<std::string, std::vector<FinetunePoint>> finetuneSeries(
    const std::vector<std::pair<std::string, const Model*>>& starts, const Dataset& train,
    const Dataset& test, const TrainOptions& options, const FinetuneSeriesFn& onPoint,
    const ProgressFn& progress, const CancelFlag* cancel, std::map<std::string, Model>* finals) {
  std::map<std::string, std::vector<FinetunePoint>> out;
  for (const auto& [name, start] : starts) {
    if (!start) continue;
    Model m = start->clone();
    const std::string what = name == "fused" ? "OT fusion" : name;
    out[name] = finetuneInPlace(m, train, test, options,
                                withStage(progress, "fine-tune " + what), cancel,
                                [&, series = name](const FinetunePoint& p) {
                                  if (onPoint) onPoint(series, p);
                                });
    if (finals) finals->insert_or_assign(name, std::move(m));
  }
  return out;
}

FinetuneResult finetuneModel(const ModelPtr& model, const FinetuneRequest& request,
                             const ProgressFn& progress, const CancelFlag* cancel,
                             const FinetunePointFn& onPoint) {
  const Model& input = modelOf(model);
  const TrainOptions options = trainOptionsOf(request);
  if (options.epochs < 1) throw Error("the number of fine-tuning epochs must be at least 1");
  scheduledLearningRate(options, 0);
  const std::string dataset = datasetOf(request, *model);
  auto train = cachedDataset(dataset, Split::Train, request.dataDir, cancel);
  auto fullTest = cachedDataset(dataset, Split::Test, request.dataDir, cancel);
  const Dataset test = firstImages(*fullTest, request.testLimit);

  Model m = input.clone();  // the input handle is immutable and stays as it is
  FinetuneResult result;
  result.points = finetuneInPlace(m, *train, test, options, progress, cancel, onPoint);
  auto h = handleLike(*model, std::move(m), "finetuned");
  auto& md = h->metadata;
  const std::string from = !model->path.empty() ? model->path
                           : model->metadata.count("fusion_model")
                               ? model->metadata.at("fusion_model")
                               : model->format;
  md["finetuned_from"] = from;
  md["epoch"] = std::to_string(options.epochs);
  md["test_accuracy"] = shortestNumber(result.points.back().accuracy);
  md["test_loss"] = shortestNumber(result.points.back().loss);
  md["dataset"] = dataset;
  md["finetune_lr"] = shortestNumber(options.learningRate);
  md["finetune_seed"] = std::to_string(options.seed);
  h->dataset = defaultDataset(md, h->inChannels, h->inHeight, h->inWidth);
  result.model = h;
  return result;
}

FinetuneComparison compareFinetuning(const FusionRequest& fusion, const FusionOutcome& outcome,
                                     const FinetuneRequest& request,
                                     const FinetuneSeriesFn& onPoint, const ProgressFn& progress,
                                     const CancelFlag* cancel,
                                     const std::function<void(const FinetuneReference&)>& onReference) {
  if (!outcome.fused) throw Error("the fusion has no fused model to fine-tune");
  const TrainOptions options = trainOptionsOf(request);
  if (options.epochs < 1) throw Error("the number of fine-tuning epochs must be at least 1");
  scheduledLearningRate(options, 0);
  const std::string dataset = request.dataset.empty() ? fusion.dataset : request.dataset;
  if (dataset.empty()) throw Error("no dataset given for fine-tuning");
  auto train = cachedDataset(dataset, Split::Train, request.dataDir.empty() ? fusion.dataDir : request.dataDir, cancel);
  auto fullTest = cachedDataset(dataset, Split::Test, request.dataDir.empty() ? fusion.dataDir : request.dataDir, cancel);
  const Dataset test = firstImages(*fullTest, request.testLimit);

  FinetuneComparison out;
  out.request = request;
  out.request.dataset = dataset;

  // Reference lines: every parent and their prediction ensemble, on the same test images.
  std::vector<ModelPtr> parents = fusion.models.size() >= 2 ? fusion.models
                                                            : std::vector<ModelPtr>{fusion.a, fusion.b};
  const bool pair = fusion.models.size() < 2;
  std::vector<Model> parentModels;
  for (size_t i = 0; i < parents.size(); ++i) {
    if (!parents[i]) continue;
    parentModels.push_back(modelOf(parents[i]));
    FinetuneReference r;
    r.key = "model_" + std::to_string(i);
    r.label = pair ? (i == 0 ? "model A" : "model B") : "model " + std::to_string(i);
    const EvalResult e = evaluate(parentModels.back(), test, 1000,
                                  withStage(progress, "evaluate " + r.label), cancel);
    r.score = {e.accuracy, e.loss};
    out.references.push_back(r);
    if (onReference) onReference(r);
  }
  if (parentModels.size() >= 2) {
    FinetuneReference r;
    r.key = "ensemble";
    r.label = "prediction ensemble";
    const EvalResult e = evaluateEnsemble(
        parentModels, test,
        fusion.probabilityEnsemble ? EnsembleRule::ProbabilityMean : EnsembleRule::LogSoftmaxMean,
        1000, withStage(progress, "evaluate ensemble"), cancel);
    r.score = {e.accuracy, e.loss};
    out.references.push_back(r);
    if (onReference) onReference(r);
  }

  // Start models: BatchNorm models from their re-estimated statistics (as the table's *_bn
  // rows, same batches and seed), others as averaged.
  TableOneOptions t1;
  t1.bnBatches = fusion.bnBatches;
  t1.seed = fusion.seed;
  const Model& fused = modelOf(outcome.fused);
  const bool bn = fused.hasBatchNorm() && fusion.bnBatches > 0;
  std::optional<Model> fusedStart, vanillaStart;
  if (bn && outcome.fusedBn) {
    fusedStart = modelOf(outcome.fusedBn);
  } else if (bn) {
    fusedStart = reestimateBatchNorm(fused, *train, t1, cancel);
  } else {
    fusedStart = fused;
  }
  out.startRow["fused"] = bn ? "fused_bn" : "fused";
  if (outcome.vanilla) {
    const Model& vanilla = modelOf(outcome.vanilla);
    vanillaStart = bn ? reestimateBatchNorm(vanilla, *train, t1, cancel) : vanilla;
    out.startRow["vanilla"] = bn ? "vanilla_bn" : "vanilla";
  }

  std::map<std::string, Model> finals;
  out.series = finetuneSeries({{"fused", &*fusedStart},
                               {"vanilla", vanillaStart ? &*vanillaStart : nullptr}},
                              *train, test, options, onPoint, progress, cancel, &finals);
  for (auto& [name, m] : finals)
    out.finalModels[name] =
        handleLike(*(name == "fused" ? outcome.fused : outcome.vanilla), std::move(m), "finetuned");
  return out;
}

MeanStd meanStd(const std::vector<double>& values) {
  MeanStd r;
  r.count = int(values.size());
  if (values.empty()) return r;
  double sum = 0;
  for (double v : values) sum += v;
  r.mean = sum / double(values.size());
  if (values.size() > 1) {
    double ss = 0;
    for (double v : values) ss += (v - r.mean) * (v - r.mean);
    r.std = std::sqrt(ss / double(values.size() - 1));
  }
  return r;
}

}  // namespace otfuse
