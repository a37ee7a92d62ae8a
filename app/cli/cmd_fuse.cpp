// otfuse fuse: OT fusion of two or more models with the paper's Table-1 baselines.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "commands.h"
#include "json_out.h"
#include "model_files.h"
#include "output_files.h"
#include "otfuse/data/dataset.h"
#include "otfuse/engine/table_one.h"
#include "otfuse/error.h"
#include "otfuse/fusion/average.h"
#include "otfuse/fusion/fusion.h"
#include "otfuse/fusion/report.h"
#include "otfuse/io/checkpoint.h"
#include "otfuse/train/train.h"
#include "fuse_extras.h"
#include "train_options.h"

namespace otfuse::cli {
namespace {

const char* kHelp = R"(usage: otfuse fuse [options] A B [C ...]
Aligns every model onto one anchor with optimal transport, layer by layer, and averages them
(Singh & Jaggi 2020). Prints the paper's Table-1 row: every parent, the prediction ensemble of
all of them, the vanilla average (when all shapes agree) and OT fusion test accuracy, and the
time taken.

Two models A B: A is aligned onto the anchor B (B stays the anchor, as in earlier versions,
unless --anchor says otherwise) and --t is B's weight. Three or more: the anchor is the first
model named unless --anchor picks another; every model gets its own plan onto the anchor (all
share the anchor's past) and the aligned models are averaged with --weights (default 1/N).
Models may differ in width (the anchor sets the result's widths); the vanilla row then is n/a.

options:
  --anchor I           the anchor: an index (0 = the first file named) or a file name as
                       given (or its base name). Default: B (index 1) for two models, the
                       first named (index 0) for three or more
  --weights W1,W2,...  one non-negative weight per model, in the order named (normalized to
                       sum 1; default 1/N each)
  --sequential         also fuse sequentially for comparison (the anchor with the next model,
                       the result with the next, ...; weights kept) and report it as a row
  --stream-map S       residual networks: how the layers writing one residual stream share
                       its neuron map: first (default: the map of the stream's first writer) |
                       average (the authors' mean of the shortcut and main-path maps) |
                       summed (one plan on the summed costs of all writers, as Git Re-Basin)
  --dataset D          mnist | fashion-mnist | cifar10 | folder:PATH (default: the dataset
                       the checkpoints' metadata name, the anchor's first; without one, guessed
                       from the input shape; the output says which and why)
  --arch SPEC          architecture of every file (default: inferred)
  --mode M             weights (default) | activations
  --solver S           exact (default) | sinkhorn
  --eps E              Sinkhorn regularization (default 0.01)
  --sinkhorn-max-iter N  Sinkhorn iteration limit per layer (default 10000); a layer that
                       reaches it is reported (table, JSON) as an approximate plan
  --sinkhorn-tol X     Sinkhorn tolerance on the L1 marginal error (default 1e-9)
  --samples K          activation samples from the training set (default 200)
  --seed S             seed for choosing the activation samples (default 0)
  --samples-file F     use the inputs stored in F (a tensor [K,C,H,W]) instead
  --metric M           euclidean (default) | sqeuclidean | cosine
  --normalize N        none (default) | max | mean | median | log1p
  --marginals M        uniform (default) | l1 | l2
  --t T                two models: weight of the anchor (default 0.5; the other gets 1 - T);
                       for three or more use --weights
  --ot-output-layer    solve OT on the output layer too (as the reference code does)
  --ensemble R         logsoftmax (default, the paper's) | prob
  --bn-batches N       BatchNorm models: also report OT fusion and vanilla averaging with the
                       running statistics re-estimated on N training batches (default 20, 0 off)
  --repair MODE        networks without BatchNorm: also report OT fusion and vanilla averaging
                       after REPAIR (Jordan et al. 2023): every hidden channel's pre-activation
                       mean and std reset to the parents' weighted ones; exact (measured on the
                       merged network) | closed (closed form; two models only) | none (default)
  --repair-batches N   training batches of 128 images REPAIR measures (default 10)
  --out FILE           write the fused model: a zip checkpoint {"model_state_dict", ...} that
                       torch.load reads, with metadata saying which model it is (fusion_model,
                       fusion_model_description), its test_accuracy/test_loss row, dataset,
                       anchor and weights
  --out-model M        what --out writes: fused_bn (BatchNorm statistics re-estimated, the row
                       "OT fusion + BN re-est."; default for BatchNorm models) | fused_repair
                       (the row "OT fusion + REPAIR"; default with --repair) | fused (as
                       averaged, the row "OT fusion"; default otherwise) | sequential |
                       sequential_bn (the sequential variant's rows; need --sequential)
  --report FILE        write every per-layer result (costs, plans, marginals, stats) as JSON;
                       three or more models: also "model_layers", every model's plans
  --plans-dir DIR      write each layer's plan as CSV: DIR/<n>_<layer>_plan.csv for two models;
                       for three or more one folder per aligned model, DIR/model_<i>/...
  --no-eval            fuse only (no test-set evaluation)
  --json-out FILE      also write that JSON to FILE (atomically: a temporary file renamed
                       into place, so a cancelled run leaves no partial file); what
                       otfuse sweep --emit-jobs and otfuse collect use
  --seeds K            activations mode: repeat the fusion with the activation-sampling seeds
                       S..S+K-1 (S = --seed; the BatchNorm re-estimation batches follow the
                       seed too) and report every row as mean ± sample standard deviation
                       (n - 1) with the per-seed values (table, and "seeds" in --json); --out,
                       --report and --plans-dir keep the first seed's fusion. In weights mode
                       nothing is sampled, so the fusion is computed once and a note says so
  --finetune-epochs N  then fine-tune OT fusion and the vanilla average with the same budget
                       (same epochs, learning rates, seed, so the same batches in the same
                       order; fresh SGD state): test accuracy and loss per epoch, epoch 0 =
                       before, with the parents and the ensemble as reference lines (table,
                       and "finetune" in --json). BatchNorm models start from the re-estimated
                       rows (fused_bn, vanilla_bn). Training options as otfuse train's, with
                       the prefix finetune-: --finetune-lr X (default 0.01),
                       --finetune-momentum X (0.5), --finetune-weight-decay X (0),
                       --finetune-schedule S, --finetune-batch-size N (64), --finetune-seed S
                       (data order, default 0), --finetune-limit N (training images),
                       --finetune-no-augment
  --finetune-csv FILE  also write every point as CSV (one line per epoch: fused_*, vanilla_*,
                       lr, and the reference accuracies model_<i>_accuracy, ensemble_accuracy)
  --json               print the result as JSON instead of a table (accuracy/loss keys model_0
                       .. model_<N-1>, ensemble, vanilla, fused, sequential, *_bn; summary with
                       models, anchor, weights; plans per model in "model_plans";
                       "per_class_accuracy" and "confusion" with the same keys)
  --no-progress        no progress bar
  --data-dir DIR       where datasets live

examples:
  otfuse fuse a.pt b.pt                    A onto the anchor B, t = 0.5
  otfuse fuse a.pt b.pt c.pt d.pt          four models onto a.pt, 1/4 each
  otfuse fuse --anchor c.pt --weights 1,1,2 --sequential a.pt b.pt c.pt
  otfuse fuse --finetune-epochs 5 --finetune-csv ft.csv a.pt b.pt
                                           OT fusion vs vanilla, both fine-tuned 5 epochs
  otfuse fuse --repair exact a.pt b.pt    also the rows "vanilla + REPAIR", "OT fusion + REPAIR"
  otfuse fuse --mode activations --seeds 3 a.pt b.pt
                                           mean ± std of every row over 3 sampling seeds
)";

at::Tensor loadSamples(const std::string& path) {
  StateDict tensors = loadTensors(path);
  if (tensors.size() != 1)
    throw FileError(path, "expected a single tensor of input samples [K, C, H, W], found " +
                              std::to_string(tensors.size()) + " tensors");
  at::Tensor x = tensors.begin()->second;
  if (x.dim() != 4) throw FileError(path, "the input samples must have shape [K, C, H, W]");
  return x.to(at::kFloat).contiguous();
}

// --anchor: an index into `paths` or one of the file names (as given, else its base name).
int parseAnchor(const std::string& value, const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  const size_t n = paths.size();
  const std::string range = "0.." + std::to_string(n - 1);
  if (value.empty())
    throw Error("--anchor expects a model index (" + range + ") or one of the model file names");
  const bool negative = value[0] == '-' && value.size() > 1;
  const std::string digits = negative ? value.substr(1) : value;
  if (digits.find_first_not_of("0123456789") == std::string::npos) {
    if (negative || digits.size() > 9 || std::stoul(digits) >= n)
      throw Error("--anchor " + value + " is out of range: " + std::to_string(n) +
                  " model files were given (indices " + range + ")");
    return int(std::stoul(digits));
  }
  std::vector<int> hits;
  for (size_t i = 0; i < n; ++i)
    if (paths[i] == value) hits.push_back(int(i));
  if (hits.empty())
    for (size_t i = 0; i < n; ++i)
      if (fs::path(paths[i]).filename().string() == value) hits.push_back(int(i));
  if (hits.size() == 1) return hits[0];
  std::string names;
  for (size_t i = 0; i < n; ++i) names += (i ? ", " : "") + paths[i];
  if (hits.empty())
    throw Error("--anchor '" + value + "' is neither an index (" + range +
                ") nor one of the model files (" + names + ")");
  throw Error("--anchor '" + value + "' names more than one of the model files (indices " +
              std::to_string(hits[0]) + " and " + std::to_string(hits[1]) + "); give the index");
}

// --weights: one non-negative number per model, comma-separated.
std::vector<double> parseWeights(const std::string& value, const std::vector<std::string>& paths) {
  std::vector<double> w;
  size_t start = 0;
  while (true) {
    const size_t comma = value.find(',', start);
    const std::string item = value.substr(start, comma == std::string::npos ? std::string::npos
                                                                            : comma - start);
    double v = 0;
    size_t used = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size())
      throw Error("--weights expects numbers separated by commas (one per model), got '" +
                  value + "'");
    w.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (w.size() != paths.size())
    throw Error("--weights gives " + std::to_string(w.size()) + " weight" +
                (w.size() == 1 ? "" : "s") + " for " + std::to_string(paths.size()) +
                " model files; give one per model, in the order named");
  for (size_t i = 0; i < w.size(); ++i) {
    if (!std::isfinite(w[i]) || w[i] < 0)
      throw Error("--weights: the weight of model " + std::to_string(i) + " (" + paths[i] +
                  ") must be a non-negative number, got " + jsonNumber(w[i]));
  }
  double sum = 0;
  for (double v : w) sum += v;
  if (!(sum > 0)) throw Error("--weights: at least one weight must be positive");
  return normalizedWeights(w, w.size());
}

// Does some neuron group have several writers (a residual stream)?
bool hasResidualStreams(const Architecture& arch) {
  std::vector<int> writers(size_t(std::max(arch.numGroups, 0)), 0);
  for (const auto& l : arch.layers)
    if (l.outGroup >= 0 && size_t(l.outGroup) < writers.size() && ++writers[size_t(l.outGroup)] > 1)
      return true;
  return false;
}

}  // namespace

int cmdFuse(Args& args) {
  if (args.flag("help")) {
    std::cout << kHelp;
    return 0;
  }
  std::set<std::string> known = {"dataset", "arch", "mode", "solver", "eps", "samples", "seed",
                     "samples-file", "metric", "normalize", "marginals", "t", "ensemble", "out",
                     "report", "plans-dir", "data-dir", "bn-batches", "out-model",
                     "sinkhorn-max-iter", "sinkhorn-tol", "anchor", "weights", "stream-map", "json-out",
                     "repair", "repair-batches"};
  for (const auto& name : fuseExtraOptionNames()) known.insert(name);
  args.requireKnown(known);
  const std::vector<std::string> paths = args.positional();
  const size_t n = paths.size();
  if (n < 2)
    throw Error("fuse needs at least two model files, got " + std::to_string(n) + " (see --help)");

  // Every option is checked before any work: a bad value is a message and exit code 1, and
  // no file is written.
  FusionOptions opt;
  opt.mode = parseAlignMode(args.get("mode", "weights"));
  opt.solver = parseSolver(args.get("solver", "exact"));
  opt.epsilon = args.getDouble("eps", opt.epsilon);
  if (!(opt.epsilon > 0) || !std::isfinite(opt.epsilon))
    throw Error("--eps must be a positive number, got '" + args.get("eps") + "'");
  opt.sinkhornMaxIterations = static_cast<int>(args.getInt("sinkhorn-max-iter", opt.sinkhornMaxIterations));
  opt.sinkhornTolerance = args.getDouble("sinkhorn-tol", opt.sinkhornTolerance);
  if (opt.sinkhornMaxIterations < 1) throw Error("--sinkhorn-max-iter must be at least 1");
  if (!(opt.sinkhornTolerance > 0)) throw Error("--sinkhorn-tol must be positive");
  opt.metric = ot::parseMetric(args.get("metric", "euclidean"));
  opt.normalization = ot::parseNormalization(args.get("normalize", "none"));
  opt.marginals = parseMarginals(args.get("marginals", "uniform"));
  if (args.has("stream-map")) opt.streamMap = parseStreamMap(args.get("stream-map"));
  opt.t = args.getDouble("t", opt.t);
  if (!(opt.t >= 0 && opt.t <= 1))
    throw Error("--t (the weight of the anchor) must lie in [0, 1], got '" + args.get("t") + "'");
  opt.otOutputLayer = args.flag("ot-output-layer");

  // The anchor and the weights. Two files with neither --anchor, --weights nor --sequential
  // run the two-model fusion exactly as always (fuse(A, B)); everything else runs fuseMany,
  // which for two models gives the same numbers (test_cli_fuse_many checks it).
  const int anchor = args.has("anchor") ? parseAnchor(args.get("anchor"), paths) : (n == 2 ? 1 : 0);
  if (args.has("t") && args.has("weights"))
    throw Error("give either --t (two models) or --weights, not both");
  if (args.has("t") && n > 2)
    throw Error("--t is the anchor's weight for two models; for " + std::to_string(n) +
                " models give --weights W1,...,W" + std::to_string(n));
  const bool sequential = args.flag("sequential");
  const bool pairPath = n == 2 && !args.has("anchor") && !args.has("weights") && !sequential;
  std::vector<double> weights;
  if (args.has("weights")) {
    weights = parseWeights(args.get("weights"), paths);
  } else if (n == 2) {
    weights.assign(2, 1.0 - opt.t);
    weights[size_t(anchor)] = opt.t;
    if (!pairPath) weights = normalizedWeights(weights, 2);
  } else {
    weights = normalizedWeights({}, n);
  }
  opt.t = weights[size_t(anchor)];  // the anchor's weight, as "t" is for two models

  const long long samples = args.getInt("samples", 200);
  if (samples < 1 || samples > 1000000)
    throw Error("--samples must be between 1 and 1000000, got " + std::to_string(samples));
  const long long seedArg = args.getInt("seed", 0);
  if (seedArg < 0) throw Error("--seed must be non-negative, got " + std::to_string(seedArg));
  const uint64_t seed = static_cast<uint64_t>(seedArg);
  const long long bnBatches = args.getInt("bn-batches", 20);
  if (bnBatches < 0 || bnBatches > 1000000)
    throw Error("--bn-batches must be between 0 and 1000000, got " + std::to_string(bnBatches));
  const std::string ruleName = args.get("ensemble", "logsoftmax");
  if (ruleName != "logsoftmax" && ruleName != "prob")
    throw Error("--ensemble expects logsoftmax or prob, got '" + ruleName + "'");
  const EnsembleRule rule =
      ruleName == "prob" ? EnsembleRule::ProbabilityMean : EnsembleRule::LogSoftmaxMean;
  const bool json = args.flag("json"), evaluateModels = !args.flag("no-eval");
  const std::string dataDir = args.get("data-dir");
  RepairMode repair = RepairMode::None;
  try {
    repair = parseRepairMode(args.get("repair", "none"));
  } catch (const Error& e) {
    throw Error(std::string("--repair: ") + e.what());
  }
  const long long repairBatches = args.getInt("repair-batches", 10);
  if (repairBatches < 1 || repairBatches > 1000000)
    throw Error("--repair-batches must be between 1 and 1000000, got " + std::to_string(repairBatches));
  if (args.has("repair-batches") && repair == RepairMode::None)
    throw Error("--repair-batches sets how many batches REPAIR measures; give --repair exact or "
                "--repair closed too");
  if (repair != RepairMode::None && !evaluateModels)
    throw Error("--repair adds table rows; it cannot be combined with --no-eval");
  if (repair == RepairMode::ClosedForm && n > 2)
    throw Error("--repair closed is defined for two models (it needs their covariance); use "
                "--repair exact for " + std::to_string(n) + " models");
  const std::string outModel = args.get("out-model", "auto");
  if (outModel != "auto" && outModel != "fused" && outModel != "fused_bn" &&
      outModel != "fused_repair" && outModel != "sequential" && outModel != "sequential_bn")
    throw Error("--out-model expects fused_bn, fused_repair, fused or auto (with --sequential "
                "also sequential or sequential_bn), got '" + outModel + "'");
  if (outModel == "fused_repair" && repair == RepairMode::None)
    throw Error("--out-model fused_repair writes the repaired fused model; give --repair exact "
                "or --repair closed too");
  if (args.has("out-model") && !args.has("out"))
    throw Error("--out-model chooses what --out writes; give --out FILE too");
  if ((outModel == "fused_bn" || outModel == "sequential_bn") && bnBatches == 0)
    throw Error("--out-model " + outModel + " needs BatchNorm re-estimation; --bn-batches is 0");
  if ((outModel == "sequential" || outModel == "sequential_bn") && !sequential)
    throw Error("--out-model " + outModel + " writes the sequential fusion; give --sequential too");
  if (args.has("out")) checkOutputFile("out", args.get("out"));
  if (args.has("report")) checkOutputFile("report", args.get("report"));
  if (args.has("json-out")) checkOutputFile("json-out", args.get("json-out"));
  if (args.has("plans-dir")) checkOutputFolder("plans-dir", args.get("plans-dir"));
  // --finetune-epochs and --seeds (fuse_extras.cpp): checked here too, before any work.
  const FuseExtras extras = parseFuseExtras(args, opt, evaluateModels);

  ProgressBar bar;
  ProgressFn progress;
  if (!args.flag("no-progress"))
    progress = [&bar](const Progress& p) { bar.update(p.stage, p.done, p.total, p.message); };

  std::vector<ModelFile> files;
  for (const auto& path : paths) files.push_back(loadModelFile(path, args.get("arch")));
  std::vector<Model> models;
  for (const auto& f : files) models.push_back(f.model);
  const Model& anchorModel = models[size_t(anchor)];
  const std::string& anchorPath = paths[size_t(anchor)];
  for (size_t i = 0; i < n; ++i) {
    if (int(i) == anchor) continue;
    std::string why = fusionIncompatibility(models[i], anchorModel);
    if (why.empty()) continue;
    if (n == 2 && anchor == 1)
      throw Error("cannot fuse " + paths[0] + " (A) onto " + paths[1] + " (B): " + why);
    throw Error("cannot fuse model " + std::to_string(i) + " (" + paths[i] +
                ") onto the anchor, model " + std::to_string(anchor) + " (" + anchorPath +
                "): " + why);
  }
  // The anchor's dataset first; a dataset named in any checkpoint beats a shape guess.
  std::vector<const ModelFile*> byPreference = {&files[size_t(anchor)]};
  for (size_t i = 0; i < n; ++i)
    if (int(i) != anchor) byPreference.push_back(&files[i]);
  const DatasetChoice dataset = chooseDataset(args, byPreference);
  const std::string& datasetName = dataset.name;
  // What --out writes: by default the model of the table's best row, i.e. with re-estimated
  // BatchNorm statistics for BatchNorm models (the averaged running statistics do not fit the
  // averaged weights).
  const bool batchNorm = anchorModel.hasBatchNorm();
  if ((outModel == "fused_bn" || outModel == "sequential_bn") && !batchNorm)
    throw Error("--out-model " + outModel + ": " + anchorPath +
                " has no BatchNorm layers; use " + (outModel == "fused_bn" ? "fused" : "sequential"));
  if (outModel == "fused_repair" && batchNorm)
    throw Error("--out-model fused_repair: " + anchorPath +
                " has BatchNorm layers; REPAIR is for networks without them (use fused_bn)");
  if (repair != RepairMode::None && batchNorm)
    std::fprintf(stderr, "note: %s has BatchNorm layers; --repair is ignored (its correction "
                 "is the BatchNorm re-estimation, rows *_bn)\n", anchorPath.c_str());
  const bool repairRows = repair != RepairMode::None && !batchNorm;
  const std::string outKey = outModel != "auto"          ? outModel
                             : batchNorm && bnBatches > 0 ? "fused_bn"
                             : repairRows                 ? "fused_repair"
                                                          : "fused";

  std::optional<Dataset> trainData;  // loaded once, when first needed
  auto trainSet = [&]() -> const Dataset& {
    if (!trainData) trainData = loadDataset(datasetName, Split::Train, dataDir);
    return *trainData;
  };

  at::Tensor inputs;
  if (opt.mode == AlignMode::Activations) {
    inputs = args.has("samples-file") ? loadSamples(args.get("samples-file"))
                                       : sampleInputs(trainSet(), int(samples), seed);
  }

  FusionSummary summary;
  Model fusedModel;
  std::vector<std::vector<LayerResult>> modelLayers;  // per model, onto the anchor
  std::vector<Model> aligned;  // every parent aligned onto the anchor, for REPAIR
  if (pairPath) {
    FusionResult fused = fuse(models[0], models[1], opt, inputs, progress, interruptFlag(), repairRows);
    fusedModel = std::move(fused.fused);
    modelLayers = {std::move(fused.layers), {}};
    summary.fusionSeconds = fused.seconds;
    aligned = std::move(fused.aligned);
  } else {
    MultiFusionResult fused =
        fuseMany(models, anchor, weights, opt, inputs, progress, interruptFlag(), repairRows);
    aligned = std::move(fused.aligned);
    fusedModel = std::move(fused.fused);
    modelLayers = std::move(fused.layers);
    modelLayers.resize(n);
    summary.fusionSeconds = fused.seconds;
  }
  bar.finish();
  std::optional<Model> sequentialModel;
  if (sequential) {
    MultiFusionResult seq = fuseSequential(models, anchor, weights, opt, inputs,
                                           withStage(progress, "sequential fusion"), interruptFlag());
    bar.finish();
    sequentialModel = std::move(seq.fused);
    summary.sequentialSeconds = seq.seconds;
  }
  // The layers of the one aligned model (two models), or of the first that is not the anchor.
  const std::vector<LayerResult>& layers = modelLayers[anchor == 0 ? 1 : 0];

  summary.models = paths;
  summary.anchor = anchor;
  summary.weights = weights;
  summary.architecture = anchorModel.architecture().name;
  summary.dataset = datasetName;
  summary.datasetSource = dataset.reason;
  summary.options = opt;
  summary.samples = opt.mode == AlignMode::Activations ? int(inputs.size(0)) : 0;
  summary.seed = seed;
  summary.plans = planStatusMany(modelLayers);
  for (const auto& l : modelLayers) summary.modelPlans.push_back(planStatus(l));
  // An approximate plan is never accepted silently (also when --json goes to a pipe).
  if (!summary.plans.ok()) std::fprintf(stderr, "warning: %s\n", summary.plans.text(opt).c_str());

  TableOneOptions t1;
  t1.ensembleRule = rule;
  t1.t = opt.t;
  t1.bnBatches = static_cast<int>(bnBatches);
  t1.seed = seed;
  if (repairRows) {
    t1.repair = repair;
    t1.repairBatches = static_cast<int>(repairBatches);
    t1.aligned = &aligned;
  }
  TableOneModels bnModels;  // the models of the fused_bn, sequential_bn, fused_repair rows
  std::optional<Dataset> testData;
  if (evaluateModels) {
    testData = loadDataset(datasetName, Split::Test, dataDir);
    const Dataset& test = *testData;
    bnModels = evaluateTableOneMany(models, anchor, weights, fusedModel,
                                    sequentialModel ? &*sequentialModel : nullptr, test, trainSet,
                                    t1, summary, progress, interruptFlag());
    bar.finish();
  }

  FuseExtrasInput extraIn{models, anchor, weights, opt, pairPath, sequential, int(samples),
                          seed, t1, fusedModel, bnModels.fusedBn ? &*bnModels.fusedBn : nullptr,
                          testData ? &*testData : nullptr, trainSet, summary};
  const FuseExtrasResult extraOut = runFuseExtras(extras, extraIn, progress, interruptFlag());
  bar.finish();
  if (args.has("out")) {
    // --no-eval: re-estimate as the table would
    if (outKey == "fused_bn" && !bnModels.fusedBn)
      bnModels.fusedBn = reestimateBatchNorm(fusedModel, trainSet(), t1, interruptFlag());
    if (outKey == "sequential_bn" && !bnModels.sequentialBn)
      bnModels.sequentialBn = reestimateBatchNorm(*sequentialModel, trainSet(), t1, interruptFlag());
    const Model& written = outKey == "fused_bn"        ? *bnModels.fusedBn
                           : outKey == "fused_repair"  ? *bnModels.fusedRepair
                           : outKey == "sequential_bn" ? *bnModels.sequentialBn
                           : outKey == "sequential"    ? *sequentialModel
                                                       : fusedModel;
    saveCheckpoint(args.get("out"), written.state(),
                   fusedModelMetadata(summary, outKey, t1.bnBatches));
  }
  const auto* allLayers = n > 2 ? &modelLayers : nullptr;
  if (args.has("report"))
    writeFileAtomically(args.get("report"), reportJson(summary, &layers, true, allLayers));
  if (args.has("plans-dir")) {
    if (n == 2) {
      writePlansCsv(args.get("plans-dir"), layers);
    } else {
      for (size_t i = 0; i < n; ++i)
        if (int(i) != anchor)
          writePlansCsv((std::filesystem::path(args.get("plans-dir")) / ("model_" + std::to_string(i))).string(),
                        modelLayers[i]);
    }
  }

  // Which model --out wrote, in words, with its row of the table.
  std::string outLine;
  if (args.has("out")) {
    const auto acc = summary.accuracy.find(outKey);
    const char* what = outKey == "fused_bn"
                           ? "OT fusion with BatchNorm statistics re-estimated (row \"OT fusion + BN re-est.\")"
                       : outKey == "fused_repair"
                           ? "OT fusion with REPAIR (row \"OT fusion + REPAIR\")"
                       : outKey == "sequential_bn"
                           ? "sequential fusion with BatchNorm statistics re-estimated (row \"sequential + BN re-est.\")"
                       : outKey == "sequential" ? "sequential fusion as averaged (row \"sequential fusion\")"
                                                : "OT fusion as averaged (row \"OT fusion\")";
    outLine = std::string("wrote ") + args.get("out") + ": " + what;
    if (acc != summary.accuracy.end()) {
      char buf[64];
      std::snprintf(buf, sizeof buf, ", test accuracy %.2f %%", acc->second);
      outLine += buf;
    }
    if (outModel == "auto")
      outLine += outKey == "fused_bn" || outKey == "fused_repair"
                     ? "; --out-model fused writes the model as averaged"
                     : "";
  }

  if (args.has("json-out"))
    writeFileAtomically(args.get("json-out"), reportJson(summary, &layers, false, allLayers));
  if (json) {
    std::string text = reportJson(summary, &layers, false, allLayers);
    if (args.has("out")) {  // one more member: {"path", "model", "accuracy", "loss"}
      const size_t close = text.rfind('}');
      std::string out = ",\n  \"out\": {\"path\": " + jsonString(args.get("out")) +
                        ", \"model\": " + jsonString(outKey);
      if (auto it = summary.accuracy.find(outKey); it != summary.accuracy.end())
        out += ", \"accuracy\": " + jsonNumber(it->second) +
               ", \"loss\": " + jsonNumber(summary.loss.at(outKey));
      text.insert(text.find_last_not_of(" \n", close - 1) + 1, out + "}");
    }
    text = appendFuseExtrasJson(text, extras, extraOut, summary);
    std::cout << text;
    return 0;
  }
  // Two models anchored on B read as always: "model A", "model B", t.
  const bool pairLabels = n == 2 && anchor == 1;
  if (pairLabels) {
    std::printf("OT fusion of %s (A, aligned) onto %s (B, anchor)\n", paths[0].c_str(),
                paths[1].c_str());
  } else {
    std::printf("OT fusion of %zu models onto the anchor %s (model %d)\n", n, anchorPath.c_str(),
                anchor);
    for (size_t i = 0; i < n; ++i)
      std::printf("  model %zu  weight %.4g  %s%s\n", i, weights[i], paths[i].c_str(),
                  int(i) == anchor ? "  (anchor)" : "");
  }
  std::printf("dataset %s (%s)\n", datasetName.c_str(), dataset.reason.c_str());
  std::printf("architecture %s, mode %s, solver %s", summary.architecture.c_str(),
              toString(opt.mode).c_str(), toString(opt.solver).c_str());
  if (opt.solver == Solver::Sinkhorn) std::printf(" (eps %g)", opt.epsilon);
  if (opt.mode == AlignMode::Activations) std::printf(", %d samples", summary.samples);
  if (hasResidualStreams(anchorModel.architecture()))
    std::printf(", stream map %s", toString(opt.streamMap).c_str());
  if (pairLabels) std::printf(", t = %g", opt.t);
  std::printf("\n\n");
  if (evaluateModels) {
    std::printf("%-24s %10s %10s\n", "", "accuracy", "loss");
    for (const auto& [key, label] : allTableRows(summary, pairLabels)) {
      auto it = summary.accuracy.find(key);
      if (it == summary.accuracy.end()) {
        if (!optionalSummaryRow(key))
          std::printf("%-24s %10s %10s\n", label.c_str(), "n/a", "n/a");
        continue;
      }
      std::printf("%-24s %9.2f%% %10.4f\n", label.c_str(), it->second, summary.loss[key]);
    }
    std::printf("\n");
  }
  printFuseExtras(extras, extraOut, summary, pairLabels);
  std::printf("plans: %s\n", summary.plans.text(opt).c_str());
  if (!outLine.empty()) std::printf("%s\n\n", outLine.c_str());
  std::printf("fusion %.3f s", summary.fusionSeconds);
  if (sequential) std::printf(", sequential fusion %.3f s", summary.sequentialSeconds);
  if (evaluateModels) std::printf(", evaluation of the fused model %.3f s", summary.evaluationSeconds);
  std::printf("\n");
  for (size_t i = 0; i < n; ++i) {
    if (int(i) == anchor) continue;
    if (n > 2) std::printf(" model %zu (%s) onto the anchor:\n", i, paths[i].c_str());
    for (const auto& r : modelLayers[i]) {
      std::printf("  %-20s %4lldx%-4lld %s  OT cost %.5g  entropy %.3f  mass on best match %.3f\n",
                  r.name.c_str(), static_cast<long long>(r.corrected.rows()),
                  static_cast<long long>(r.corrected.cols()),
                  r.identity ? "identity" : r.reused ? "reused  " : ot::toString(r.status).c_str(),
                  r.otCost, r.entropy, r.massOnBest);
    }
  }
  return 0;
}

}  // namespace otfuse::cli
